/**
 * The subprocess host: an adapter in any language, as a child process speaking the wire protocol
 * (docs/protocol.md, frames in wire.ts), given as `subprocess:<command line>`.
 *
 * The protocol's channel is a pair of extra file descriptors, fd 3 (requests, the child reads) and fd 4
 * (answers, the child writes), so nothing the child prints can corrupt it: its stdout and stderr are only
 * logs, forwarded line by line to the run's stderr as `[spec] line`. The child runs in its own process
 * group, so a timeout or the end of the run kills it together with anything it started.
 *
 * Queueing, timeouts, restarts and blame: channel_host.ts. What is the adapter's failure here, and how:
 *   the command does not start, exits or breaks before its handshake, speaks another protocol version,
 *   declares an unknown capability or a malformed adapter        → a load error naming the spec
 *   it dies during a call (exit, a signal: the OOM killer's SIGKILL) → that call 'crashed'
 *   it sends a malformed frame                                     → that call 'protocol'; the child is killed
 *   it answers with an error {type, message, traceback}           → that call 'threw', the traceback shown
 *   an array of a dtype the protocol does not carry               → the wrapper's 'type' failure of that call
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CAPABILITIES } from '../adapter.js';
import { closestNames } from '../closest_names.js';
import { describeThrown } from '../error_text.js';
import { AdapterLoadError } from '../load.js';
import { AdapterShapeError, validateAdapter } from '../validate_adapter.js';
import { ChannelHost, threwPrefix, type Outgoing, type Pending } from './channel_host.js';
import { CommandLineError, splitCommandLine } from './command_line.js';
import { AdapterFailure } from './failure.js';
import type { HostMeta, HostOptions } from './host.js';
import { metaOf } from './in_process.js';
import { LineSplitter } from './lines.js';
import { MAX_TIMER_MS } from './timer.js';
import { decodeFrame, encodeFrame, FrameReader, MalformedFrame, PROTOCOL_VERSION } from './wire.js';

/** The last lines a child wrote to stderr, quoted when it fails to start or dies. */
const STDERR_TAIL = 12;

/** Children still running, killed (with their process groups) if this process exits first. */
const running = new Set<ChildProcess>();
let exitHook = false;

function killGroup(child: ChildProcess): void {
  running.delete(child);
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** How a built-in subprocess adapter starts (adapters/torch.ts): its command as words, no shell. */
export interface SubprocessLaunch {
  /** throws when it cannot be started here (checked by the adapter's available() first) */
  argv(): string[];
}

export interface SubprocessOptions extends HostOptions {
  /** Extra environment variables for the child (on top of this process's). */
  env?: Record<string, string>;
  /** How the adapter is named in messages (default: the spec). */
  source?: string;
}

export class SubprocessHost extends ChannelHost {
  readonly kind = 'subprocess' as const;
  protected readonly noun = 'process';
  private child: ChildProcess | null = null;
  private requests: Writable | null = null;
  private stderrTail: string[] = [];
  /** the call an 'exiting' frame named: the one that (or whose thread) is ending the process */
  private exiting: number | null = null;
  private readonly argv: string[];
  private readonly source: string;
  private readonly env: Record<string, string>;

  private constructor(spec: string, argv: string[], options: SubprocessOptions) {
    super(spec, options);
    this.argv = argv;
    this.source = options.source ?? spec;
    this.env = options.env ?? {};
  }

  /** Starts the child and completes the handshake; throws AdapterLoadError naming the spec. */
  static async open(spec: string, commandLine: string, options: SubprocessOptions = {}): Promise<SubprocessHost> {
    let argv: string[];
    try {
      argv = splitCommandLine(commandLine);
    } catch (e) {
      throw new AdapterLoadError(`${spec}: ${e instanceof CommandLineError ? e.message : describeThrown(e)}`);
    }
    if (argv.length === 0) throw new AdapterLoadError(`${spec}: no command after 'subprocess:' (e.g. subprocess:python3 my_adapter.py)`);
    return SubprocessHost.openArgv(spec, argv, options);
  }

  /** Starts `argv` (no shell) and completes the handshake; throws AdapterLoadError naming the spec. */
  static async openArgv(spec: string, argv: readonly string[], options: SubprocessOptions = {}): Promise<SubprocessHost> {
    const host = new SubprocessHost(spec, [...argv], options);
    await host.begin();
    return host;
  }

  /** The running child's process id (benchmarks read its CPU time), null between children. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  private tail(): string {
    return this.stderrTail.length ? `; the last lines of its stderr:\n  ${this.stderrTail.join('\n  ')}` : '';
  }

  protected launch(): Promise<HostMeta> {
    this.stderrTail = [];
    this.exiting = null;
    const [command, ...args] = this.argv as [string, ...string[]];
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, ...this.env, NORMCHECK_PROTOCOL: String(PROTOCOL_VERSION), NORMCHECK_FDS: '3,4' },
    });
    this.child = child;
    running.add(child);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const c of [...running]) killGroup(c);
      });
    }
    const out = new LineSplitter(this.log);
    const err = new LineSplitter((line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
      this.log(line);
    });
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    const requests = child.stdio[3] as Writable;
    const answers = child.stdio[4] as Readable;
    this.requests = requests;
    // a child that closed fd 3 (or died) makes writes fail with EPIPE: its exit is reported, not the write
    requests.on('error', () => undefined);
    answers.on('error', () => undefined);

    return new Promise<HostMeta>((resolve, reject) => {
      let loading = true;
      const fail = (message: string) => {
        if (!loading) return;
        loading = false;
        clearTimeout(loadTimer);
        this.stop(child);
        reject(new AdapterLoadError(message));
      };
      const loadTimer = setTimeout(() => fail(`${this.source}: did not complete the protocol's handshake within ${this.loadTimeoutMs} ms${this.tail()}`),
        Math.min(this.loadTimeoutMs, MAX_TIMER_MS));
      const reader = new FrameReader(
        (frame) => {
          if (child !== this.child) return;
          let message: Record<string, unknown>;
          try {
            message = decodeFrame(frame);
          } catch (e) {
            if (loading) return fail(`${this.source}: sent a malformed frame instead of its handshake: ${(e as Error).message}`);
            return this.malformed(e as MalformedFrame);
          }
          if (loading) {
            try {
              const meta = this.handshake(message);
              loading = false;
              clearTimeout(loadTimer);
              this.live = true;
              resolve(meta);
            } catch (e) {
              fail(e instanceof Error ? e.message : describeThrown(e));
            }
          } else this.onMessage(message);
        },
        (e) => (loading ? fail(`${this.source}: sent a malformed frame instead of its handshake: ${e.message}`) : this.malformed(e)),
      );
      answers.on('data', (c: Buffer) => reader.push(c));
      child.on('error', (e: NodeJS.ErrnoException) => {
        // spawn failed: the command does not exist or cannot be run
        const why = e.code === 'ENOENT' ? 'no such command (not found on PATH, or no such file)' : e.code === 'EACCES' ? 'permission denied (not executable?)' : describeThrown(e);
        fail(`${this.source}: cannot start ${JSON.stringify(command)}: ${why}`);
      });
      child.on('exit', (code, signal) => {
        running.delete(child);
        // answers written just before exiting may still be in the pipe: read them first
        const finish = () => {
          if (child !== this.child) return;
          this.child = null;
          out.end();
          err.end();
          const how = signal ? `was killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory? the kernel\'s OOM killer sends SIGKILL)' : ''}` : `exited with code ${code}`;
          if (loading) fail(`${this.source}: ${how} before completing the protocol's handshake${this.tail()}`);
          else this.died(`${how}${this.tail()}`, this.exiting);
        };
        if (answers.readableEnded || answers.destroyed) finish();
        else {
          const t = setTimeout(finish, 200);
          answers.once('end', () => {
            clearTimeout(t);
            finish();
          });
        }
      });
    });
  }

  /** The child's first frame: who it is and what it implements, validated like an adapter object. */
  private handshake(m: Record<string, unknown>): HostMeta {
    const where = this.source;
    if (m.type !== 'hello') throw new AdapterLoadError(`${where}: its first frame must be the handshake {"type": "hello", …}, got type ${JSON.stringify(m.type)}`);
    if (m.protocol !== PROTOCOL_VERSION) {
      throw new AdapterLoadError(`${where}: speaks protocol version ${JSON.stringify(m.protocol)}; this normcheck speaks version ${PROTOCOL_VERSION} (docs/protocol.md)`);
    }
    const adapter = m.adapter;
    if (adapter === null || typeof adapter !== 'object' || Array.isArray(adapter)) throw new AdapterLoadError(`${where}: the handshake's adapter must be an object {name, precision, layout, …}`);
    const caps = m.capabilities;
    if (!Array.isArray(caps) || !caps.every((c) => typeof c === 'string')) throw new AdapterLoadError(`${where}: the handshake's capabilities must be a list of capability names`);
    for (const c of caps as string[]) {
      if (!(CAPABILITIES as readonly string[]).includes(c)) {
        const near = closestNames(c, CAPABILITIES);
        throw new AdapterLoadError(`${where}: declares the capability ${JSON.stringify(c)}, which this normcheck does not know${near.length ? ` (did you mean ${near.join(' or ')}?)` : ''}; ` +
          `the capabilities are ${CAPABILITIES.join(', ')}`);
      }
    }
    const standIn: Record<string, unknown> = { ...(adapter as Record<string, unknown>) };
    for (const c of caps as string[]) standIn[c] = () => undefined;
    try {
      return metaOf(validateAdapter(standIn, where));
    } catch (e) {
      throw new AdapterLoadError(e instanceof AdapterShapeError ? e.message : describeThrown(e));
    }
  }

  private onMessage(m: Record<string, unknown>): void {
    const id = m.id;
    if (m.type === 'result' && typeof id === 'number') {
      // a call that left threads running (or a ping after which none are left): protocol.md, "running"
      if (typeof m.running === 'number') this.leftRunning(id, m.running > 0);
      const mutated = m.mutated && typeof m.mutated === 'object' ? (m.mutated as Record<string, ArrayBufferView>) : undefined;
      return this.answered(id, { ok: true, value: m.value ?? null, ...(mutated ? { mutated } : {}) });
    }
    // what a client may say about a call after its answer (protocol.md, "After the answer"): a thread the
    // call started raised, or is ending the process
    if (m.type === 'fault' && typeof m.call === 'number') {
      const e = (m.error ?? {}) as { type?: unknown; message?: unknown; traceback?: unknown };
      const text = [typeof e.type === 'string' && e.type ? e.type : 'Error', typeof e.message === 'string' ? e.message : ''].filter(Boolean).join(': ');
      return this.lateFault(m.call, `a thread it started raised ${text}`, typeof e.traceback === 'string' && e.traceback ? e.traceback : null);
    }
    if (m.type === 'exiting' && typeof m.call === 'number') {
      // the first to say so is the one whose exit ends it
      this.exiting ??= m.call;
      return;
    }
    if (m.type === 'error' && typeof id === 'number') {
      const e = (m.error ?? {}) as { type?: unknown; message?: unknown; traceback?: unknown };
      const text = [typeof e.type === 'string' && e.type ? e.type : 'Error', typeof e.message === 'string' ? e.message : ''].filter(Boolean).join(': ');
      const traceback = typeof e.traceback === 'string' && e.traceback ? e.traceback : null;
      return this.answered(id, { ok: false, failure: (p) => new AdapterFailure('threw', `${threwPrefix(p.what)}${text}`, traceback, p.tag) });
    }
    this.malformed(new MalformedFrame(`a frame of type ${JSON.stringify(m.type)}${typeof id === 'number' ? '' : ' without a numeric id'}; expected "result" or "error" with the request's id`));
  }

  private malformed(e: MalformedFrame): void {
    this.broken((p: Pending) => new AdapterFailure('protocol', `${p.what}: the adapter's process sent a malformed frame: ${e.message} (it was stopped; the next call starts a new one)`, null, p.tag));
  }

  protected transmit(message: Outgoing): void {
    const frame = message.kind === 'calls'
      ? encodeFrame({ type: 'call', calls: message.calls.map(({ id, cap, args }) => ({ id, capability: cap, args })) })
      : message.kind === 'hook'
        ? encodeFrame({ type: 'hook', id: message.id, hook: message.hook })
        : encodeFrame({ type: 'ping', id: message.id });
    this.requests?.write(frame);
  }

  private stop(child: ChildProcess): void {
    if (this.child === child) this.child = null;
    killGroup(child);
  }

  protected async terminate(graceful: boolean): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (!graceful) return killGroup(child);
    // the end of fd 3 asks the child to exit; whatever is still running a moment later is killed
    this.requests?.end();
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => {
        killGroup(child);
        resolve();
      }, 300);
      child.once('exit', () => {
        clearTimeout(t);
        killGroup(child);
        resolve();
      });
    });
  }
}
