/**
 * Splitting an adapter's printed output into lines, for the host's log (each line prefixed with the
 * adapter's name on stderr, so that nothing an adapter prints can corrupt the report on stdout).
 */
export class LineSplitter {
  private partial = '';

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.emit(line.replace(/\r$/, ''));
  }

  end(): void {
    if (this.partial) this.emit(this.partial);
    this.partial = '';
  }
}
