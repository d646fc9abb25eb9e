/**
 * PyTorch as a peer measured in the same run (Debian's python3-torch, /usr/bin/python3): one long-lived
 * subprocess (pytorch_peer.py) that times each run itself with perf_counter, so the bench interleaves it with the
 * other implementations round by round and no pipe latency enters its figure (wall time and the process's CPU
 * time, as harness.ts's two clocks).
 *
 * The subprocess runs single-threaded (OMP, MKL, OpenBLAS, torch.set_num_threads(1)) with glibc told to keep freed
 * memory (MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_ at glibc's maximum of 32 MiB, so a 25 MB output is not a
 * fresh mmap with its page faults each run) and, when scripts/bench/fetch_openblas.sh has fetched it, OpenBLAS on
 * LD_LIBRARY_PATH in place of the reference BLAS Debian's torch links by default; which BLAS it got is in every
 * validation line. Inputs go over as raw float32 files in a temporary folder, outputs come back the same way and
 * are validated against the float64 reference like any peer's.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Implementation, Prepared, Validation } from './harness.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../../scripts/bench/pytorch_peer.py', import.meta.url));
/** Where fetch_openblas.sh unpacks Debian's libopenblas0-pthread (override with NORMCHECK_OPENBLAS_DIR). */
export const OPENBLAS_DIR = process.env['NORMCHECK_OPENBLAS_DIR'] ?? join(homedir(), '.cache/normcheck/openblas/root/usr/lib/x86_64-linux-gnu/openblas-pthread');

interface Reply {
  ok?: boolean;
  ms?: number;
  cpu_ms?: number;
  error?: string;
  torch?: string;
  blas?: string;
}

let peer: Promise<Peer | string> | undefined;

/** The subprocess and its queue of requests awaiting a reply (it answers in order). */
class Peer {
  info = '';
  private readonly pending: ((r: Reply) => void)[] = [];
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.pending.shift()?.(JSON.parse(line) as Reply));
  }
  request(req: Record<string, unknown>): Promise<Reply> {
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.child.stdin.write(`${JSON.stringify(req)}\n`);
    });
  }
}

async function start(): Promise<Peer | string> {
  if (!existsSync(PYTHON)) return `not installed: ${PYTHON}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1',
    MALLOC_TRIM_THRESHOLD_: String(2 ** 36), MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
  };
  if (existsSync(OPENBLAS_DIR)) env['LD_LIBRARY_PATH'] = [OPENBLAS_DIR, process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':');
  const child = spawn(PYTHON, [SCRIPT], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => void (stderr += b.toString()));
  const p = new Peer(child);
  const exited = new Promise<string>((resolve) => {
    child.on('error', (err) => resolve(`cannot start ${PYTHON}: ${err.message}`));
    child.on('exit', (code) => resolve(`python exited (${code}): ${stderr.trim().split('\n').pop() ?? ''}`));
  });
  const hello = await Promise.race([p.request({ op: 'hello' }), exited]);
  if (typeof hello === 'string') return hello;
  if (hello.error) return hello.error;
  p.info = `torch ${hello.torch}, ${hello.blas}, 1 thread`;
  return p;
}

function started(): Promise<Peer | string> {
  peer ??= start().catch((err: unknown) => String((err as Error).message ?? err));
  return peer;
}

/** Ends the subprocess (it exits at the end of its input); the bench calls this when it is done. */
export async function stopPytorch(): Promise<void> {
  if (peer === undefined) return;
  const p = await peer;
  if (typeof p !== 'string') p.child.stdin.end();
}

/** The inputs of one case: raw float32 (or int32) arrays by file name, and the request's extra fields. */
export interface TorchCase {
  /** the case name pytorch_peer.py knows */
  case: string;
  inputs: () => Record<string, Float32Array | Int32Array>;
  request?: Record<string, unknown>;
  /** judges the outputs pytorch_peer.py wrote (by name) */
  validate: (outputs: (name: string) => Float32Array) => Validation;
  maxReps?: number;
}

/** The PyTorch peer of a bench case. */
export function pytorchImplementation(spec: TorchCase): Implementation {
  const impl: Implementation = {
    name: 'pytorch',
    kind: 'peer',
    peer: 'pytorch',
    available: async () => {
      const p = await started();
      return typeof p === 'string' ? p : true;
    },
    setup: async (): Promise<Prepared> => {
      const p = await started();
      if (typeof p === 'string') throw new Error(p);
      const dir = mkdtempSync(join(tmpdir(), 'normcheck-torch-'));
      for (const [name, a] of Object.entries(spec.inputs())) {
        writeFileSync(join(dir, `${name}${a instanceof Int32Array ? '.i32' : '.f32'}`), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      }
      const check = (r: Reply): void => {
        if (r.error) throw new Error(`pytorch: ${r.error}`);
      };
      check(await p.request({ op: 'setup', case: spec.case, dir, ...spec.request }));
      check(await p.request({ op: 'validate', case: spec.case }));
      const read = (name: string): Float32Array => {
        const b = readFileSync(join(dir, `out_${name}.f32`));
        return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      };
      const v = spec.validate(read);
      const validation = { ok: v.ok, detail: `${v.detail} (${p.info})` };
      return {
        run: () => {
          throw new Error('pytorch: timed through timedAsync');
        },
        timedAsync: async () => {
          const r = await p.request({ op: 'run', case: spec.case });
          check(r);
          return { wall: r.ms!, cpu: r.cpu_ms! };
        },
        validate: () => validation,
        teardown: () => {
          void p.request({ op: 'teardown', case: spec.case });
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
  if (spec.maxReps !== undefined) impl.maxReps = spec.maxReps;
  return impl;
}
