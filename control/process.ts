/**
 * @module One computing process as the control sees it: started, told what to be over its
 * control channel (stdin/stdout lines, see computing/protocol/control-channel.ts), stopped.
 * The control is its OS parent, so it learns of the exit at once, and the stdin pipe ties the
 * child's life to ours.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { controlLine, type FromNode, parseFromNode, type ToNode } from '../link/index.js';
import { childEnvironment } from '../lib/child-env.js';
import { eachLine, type Exit, SupervisedProcess } from '../lib/supervised-process.js';

/** Grace between SIGTERM and SIGKILL when stopping. */
export const STOP_GRACE_MS = 2000;

/**
 * The built node program: its one-file bundle (`npm run bundle`: every module of ours in one
 * file, which starts sooner than the tree of ES modules, since Node loads each module of a tree
 * separately, and a start is the cost of every create and restart), else the compiled modules. Next to this file in dist/; when this
 * module runs from sources (vitest), the build output in dist/ is used, since Node 20 cannot run
 * TypeScript itself.
 */
export function defaultComputingEntry(): string {
  for (const dist of ['../computing/', '../dist/computing/']) {
    for (const file of ['bundle/main.js', 'main.js']) {
      const path = fileURLToPath(new URL(`${dist}${file}`, import.meta.url));
      if (existsSync(path)) return path;
    }
  }
  return fileURLToPath(new URL('../dist/computing/main.js', import.meta.url));
}

export type Claim = Extract<ToNode, { t: 'claim' }>;
export type Ready = Extract<FromNode, { t: 'ready' }>;

/** The process could not take its node: it said why (`fatal`), exited, or took too long. */
export class ClaimError extends Error {
  override readonly name = 'ClaimError';
}

/**
 * Where a computing process runs, as ComputingProcess needs it: a local child process, or one an
 * agent on another host started for us (control/agents.ts). Lines are its stdout and stderr.
 */
export interface ProcessBackend {
  /** Its pid on its own host (-1 until known). */
  readonly pid: number;
  /** Settles once it has exited (never rejects). */
  readonly exited: Promise<Exit>;
  readonly exit: Exit | undefined;
  /** Writes one line (with its newline) on its stdin; dropped when it has exited. */
  write(line: string): void;
  signal(signal: NodeJS.Signals): void;
  stop(graceMs: number): Promise<Exit>;
  onStdout(onLine: (line: string) => void): void;
  onStderr(onLine: (line: string) => void): void;
}

/**
 * A computing process that is our own child. Its environment is the allow-list of
 * lib/child-env.ts: the gateway's holds secrets (ARBOR_TOKEN, the paths of the cluster secret
 * and the TLS key) that a node never needs.
 */
class LocalBackend implements ProcessBackend {
  private readonly proc: SupervisedProcess;
  constructor(entry: string, execArgv: readonly string[]) {
    this.proc = SupervisedProcess.spawn(process.execPath, [...execArgv, entry], { stdio: ['pipe', 'pipe', 'pipe'], env: childEnvironment(process.env) });
  }
  get pid(): number {
    return this.proc.pid;
  }
  get exited(): Promise<Exit> {
    return this.proc.exited;
  }
  get exit(): Exit | undefined {
    return this.proc.exit;
  }
  write(line: string): void {
    const stdin = this.proc.child.stdin;
    if (stdin === null || stdin.destroyed || this.proc.exit !== undefined) return;
    stdin.write(line);
  }
  signal(signal: NodeJS.Signals): void {
    this.proc.signal(signal);
  }
  stop(graceMs: number): Promise<Exit> {
    return this.proc.stop(graceMs);
  }
  onStdout(onLine: (line: string) => void): void {
    if (this.proc.child.stdout) eachLine(this.proc.child.stdout, onLine);
  }
  onStderr(onLine: (line: string) => void): void {
    if (this.proc.child.stderr) eachLine(this.proc.child.stderr, onLine);
  }
}

export class ComputingProcess {
  private readonly proc: ProcessBackend;
  /** Its last words: a fatal message, else its last stderr line. */
  private lastWords: string | undefined;
  private fatalMessage: string | undefined;
  private onReady: ((ready: Ready) => void) | undefined;
  private onFatal: ((message: string) => void) | undefined;
  private onLoaded: (() => void) | undefined;
  /** Resolves true once its modules are loaded and it waits for a claim, false if it exits first. */
  readonly loaded: Promise<boolean>;
  /** Where its stderr lines and bad control lines go (a spare gets its node's when claimed). */
  onStderrLine: (line: string) => void;
  onBadLine: (problem: string) => void;

  /** Its beats and its quiet, the signs its event loop runs (link/liveness.ts). */
  onBeat: (quiet: boolean) => void = () => undefined;
  /** --replicas 2: what a leader says of its chain (control/chains.ts). */
  onChain: (msg: Extract<FromNode, { t: 'caught-up' | 'fenced' | 'follower-late' }>) => void = () => undefined;
  /**
   * Where its children connect, once claimed: its ipc endpoint on this host, its tcp one on
   * another; and its tcp endpoint for children on other hosts (other hosts only).
   */
  endpoint: string | null = null;
  tcpEndpoint: string | null = null;

  private constructor(backend: ProcessBackend, onStderrLine: (line: string) => void, onBadLine: (problem: string) => void) {
    this.onStderrLine = onStderrLine;
    this.onBadLine = onBadLine;
    this.proc = backend;
    this.loaded = new Promise<boolean>((resolve) => {
      this.onLoaded = () => resolve(true);
      void this.proc.exited.then(() => resolve(false));
    });
    // A node's stderr goes into the control's log, never to the user's terminal as is.
    this.proc.onStderr((line) => {
      this.lastWords = line;
      this.onStderrLine(line);
    });
    this.proc.onStdout((line) => {
      const msg = parseFromNode(line);
      if (typeof msg === 'string') return this.onBadLine(msg);
      if (msg.t === 'beat' || msg.t === 'quiet') this.onBeat(msg.t === 'quiet');
      else if (msg.t === 'waiting') this.onLoaded?.();
      else if (msg.t === 'ready') this.onReady?.(msg);
      else if (msg.t === 'caught-up' || msg.t === 'fenced' || msg.t === 'follower-late') this.onChain(msg);
      else {
        this.fatalMessage = msg.message;
        this.lastWords = msg.message;
        this.onFatal?.(msg.message);
      }
    });
  }

  static spawn(
    entry: string,
    execArgv: readonly string[],
    onStderrLine: (line: string) => void,
    onBadLine: (problem: string) => void = () => undefined,
  ): ComputingProcess {
    return new ComputingProcess(new LocalBackend(entry, execArgv), onStderrLine, onBadLine);
  }

  /** A process elsewhere (an agent's), behind `backend`. */
  static on(backend: ProcessBackend, onStderrLine: (line: string) => void, onBadLine: (problem: string) => void = () => undefined): ComputingProcess {
    return new ComputingProcess(backend, onStderrLine, onBadLine);
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Settles when the process has exited (never rejects). */
  get exited(): Promise<Exit> {
    return this.proc.exited;
  }

  get hasExited(): boolean {
    return this.proc.exit !== undefined;
  }

  /** The fatal message it wrote before exiting, if any. */
  get fatal(): string | undefined {
    return this.fatalMessage;
  }

  /** Why it could not serve, in its own words, when it said so. */
  get why(): string | undefined {
    return this.fatalMessage ?? this.lastWords;
  }

  /** Writes one message on its control channel (dropped when it has exited). */
  send(msg: ToNode): void {
    if (this.hasExited) return;
    this.proc.write(controlLine(msg));
  }

  /** Sends the claim and resolves once the process is ready; rejects with ClaimError otherwise. */
  claim(claim: Claim, timeoutMs: number): Promise<Ready> {
    return new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => {
        finish();
        reject(new ClaimError(`the new process was not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.onReady = undefined;
        this.onFatal = undefined;
      };
      this.onReady = (ready) => {
        finish();
        resolve(ready);
      };
      this.onFatal = (message) => {
        finish();
        reject(new ClaimError(message));
      };
      void this.exited.then((exit) => {
        if (this.onReady === undefined) return;
        finish();
        reject(new ClaimError(this.why ?? describeExit(exit)));
      });
      this.send(claim);
    });
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(graceMs = STOP_GRACE_MS): Promise<Exit> {
    return this.proc.stop(graceMs);
  }

  kill(): void {
    this.proc.signal('SIGKILL');
  }
}

/** How a process ended, in words, for events and errors. */
export function describeExit(exit: Exit): string {
  return exit.signal !== null ? `its process was killed by ${exit.signal}` : `its process exited with code ${exit.code}`;
}
