/**
 * Reads the text of a file named by a CLI option (--baseline, --expect). An unreadable file is the user's
 * input error, so it is thrown as the caller's error class with a message that names the option and file.
 */
import { readFileSync } from 'node:fs';

export function readOptionFile(option: string, file: string, error: new (message: string) => Error): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new error(`${option} ${file}: cannot read: ${(e as Error).message}`);
  }
}
