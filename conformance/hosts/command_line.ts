/**
 * Splitting a `subprocess:` command line into words, as a POSIX shell splits a simple command, without
 * running a shell: whitespace separates words; 'single quotes' keep everything literally; "double quotes"
 * keep everything but \" \\ \$ \` (a backslash before them is dropped); outside quotes a backslash keeps the
 * next character. Nothing is expanded (no $VARS, globs, ~, pipes or redirections): for those, spell the
 * shell out, `subprocess:sh -c '…'`.
 */
export class CommandLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandLineError';
  }
}

export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new CommandLineError(`unterminated single quote at character ${i + 1} of ${JSON.stringify(line)}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && '"\\$`'.includes(line[j + 1] ?? '')) j++;
        word += line[j];
      }
      if (j >= line.length) throw new CommandLineError(`unterminated double quote at character ${i + 1} of ${JSON.stringify(line)}`);
      inWord = true;
      i = j;
    } else if (ch === '\\') {
      if (i + 1 >= line.length) throw new CommandLineError(`a backslash ends ${JSON.stringify(line)}`);
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
