/**
 * `normcheck init [file] [--layout NCHW|NHWC] [--precision float16|float32|float64]`: writes the commented
 * adapter skeleton (cli/skeleton.ts) to FILE (default normcheck-adapter.mjs; a .ts/.mts name gets the
 * TypeScript form). Never overwrites a file, and never creates folders: a typo in the path should not leave
 * a new directory tree behind. Exit 0 written, 2 anything else.
 */
import { writeFileSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { Option, type Command } from 'commander';
import type { Layout, Precision } from '../../conformance/adapter.js';
import { skeleton } from '../skeleton.js';

interface Out {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

interface InitOptions {
  layout: Layout;
  precision: Precision;
}

export const DEFAULT_ADAPTER_FILE = 'normcheck-adapter.mjs';
const EXTENSIONS = ['.mjs', '.js', '.ts', '.mts'];

/** Writes the skeleton; returns the exit code, with the reason on stderr when it is not 0. */
export function runInit(file: string, o: InitOptions, io: Out): number {
  const ext = extname(file);
  if (!EXTENSIONS.includes(ext)) {
    io.stderr(`normcheck: init: ${file}: the adapter file must end in ${EXTENSIONS.join(', ')} (an ES module), got "${ext || 'no extension'}"\n`);
    return 2;
  }
  const typescript = ext === '.ts' || ext === '.mts';
  const text = skeleton({ name: basename(file, ext), layout: o.layout, precision: o.precision, typescript });
  try {
    // 'wx': fails if the file exists, atomically (no check-then-write race).
    writeFileSync(file, text, { flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'EEXIST' ? 'already exists; not overwriting it (choose another name, or delete it first)'
      : code === 'ENOENT' ? `folder ${dirname(file)} does not exist; create it first (mkdir -p ${dirname(file)})`
        : code === 'EISDIR' ? 'is a folder; give a file name, e.g. ' + `${file.replace(/\/$/, '')}/${DEFAULT_ADAPTER_FILE}`
          : `cannot be written: ${(e as Error).message}`;
    io.stderr(`normcheck: init: ${file} ${reason}\n`);
    return 2;
  }
  const run = typescript ? `compile it (npx tsc) and run npx normcheck check on the .js, or import it in a vitest test (normcheck/vitest)` : `npx normcheck check ${file.startsWith('.') || file.startsWith('/') ? file : `./${file}`} --quick`;
  io.stdout(`wrote ${file}: a ${o.precision} ${o.layout} adapter skeleton, every capability commented out (reported "not provided").\n` +
    `Uncomment the capabilities you implement and call your code from them, then: ${run}\n`);
  return 0;
}

export function registerInitCommand(cmd: Command, io: Out, result: { code: number }): void {
  cmd
    .command('init')
    .description('write a commented adapter skeleton (every capability, its argument and result shapes) that passes check unchanged, every capability "not provided"')
    .argument('[file]', `the adapter module to create (.mjs, .js, .ts or .mts); never overwritten`, DEFAULT_ADAPTER_FILE)
    .addOption(new Option('--layout <layout>', 'layout of BatchNorm, GroupNorm and InstanceNorm inputs').choices(['NCHW', 'NHWC']).default('NCHW'))
    .addOption(new Option('--precision <precision>', 'the arrays the adapter receives and returns').choices(['float16', 'float32', 'float64']).default('float32'))
    .action((file: string, o: InitOptions) => {
      result.code = runInit(file, o, io);
    });
}
