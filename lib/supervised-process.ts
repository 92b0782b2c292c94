/**
 * @module One child process under supervision: spawned, read line by line, awaited until it
 * says it is ready (raced against its early exit and a deadline, the nats launcher pattern), and
 * stopped with SIGTERM, then SIGKILL after a grace period, always awaiting the exit.
 *
 * Every process arbor starts goes through here: computing nodes (control), the gateway under
 * `npm start` (clients), and the processes of the tests and the benchmark. Node built-ins only,
 * so any layer may import it.
 */
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The process did not become ready: it exited, said something else first, or took too long. */
export class StartError extends Error {
  override readonly name = 'StartError';
}

/** `exit code 1`, `signal SIGKILL`. */
export function describeExit(exit: Exit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code ?? 'unknown'}`;
}

/* Nothing sane prints a line this long; a longer one is cut rather than buffered without end. */
const MAX_LINE_CHARS = 64 * 1024;

/** Calls `onLine` with each line of `source` (without its newline; a trailing `\r` is dropped). */
export function eachLine(source: Readable, onLine: (line: string) => void): void {
  source.setEncoding('utf8');
  let buffered = '';
  source.on('data', (chunk: string) => {
    buffered += chunk;
    let end = buffered.indexOf('\n');
    while (end !== -1) {
      onLine(buffered.slice(0, end).replace(/\r$/, ''));
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf('\n');
    }
    if (buffered.length > MAX_LINE_CHARS) {
      onLine(buffered);
      buffered = '';
    }
  });
  source.on('end', () => {
    if (buffered !== '') onLine(buffered);
    buffered = '';
  });
}

export class SupervisedProcess {
  readonly pid: number;
  /** Settles once the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  private exitInfo: Exit | undefined;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => resolve((this.exitInfo = { code, signal })));
      // A failed spawn emits 'error' and never 'exit'.
      child.once('error', () => {
        if (child.pid === undefined) resolve((this.exitInfo = { code: null, signal: null }));
      });
    });
    // A child that died closes its pipes; we may still write to its stdin: swallow EPIPE.
    child.stdin?.on('error', () => undefined);
    this.pid = child.pid ?? -1;
  }

  static spawn(command: string, args: readonly string[], options: SpawnOptions): SupervisedProcess {
    return new SupervisedProcess(spawn(command, args, options));
  }

  /** How it exited, once it has. */
  get exit(): Exit | undefined {
    return this.exitInfo;
  }

  /** Sends a signal unless the process has exited (a recycled pid is never signalled). */
  signal(signal: NodeJS.Signals): void {
    if (this.exitInfo === undefined) this.child.kill(signal);
  }

  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves with how it exited. */
  async stop(graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    this.child.kill(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves with the first line of `source` (its stdout, usually) when `isReady` accepts it;
   * rejects with StartError when the line is something else, the process exits first, or
   * `timeoutMs` passes. Lines after it go to `onLater`.
   */
  firstLine(
    source: Readable,
    options: { timeoutMs: number; what: string; isReady?: (line: string) => boolean; onLater?: (line: string) => void },
  ): Promise<string> {
    const { timeoutMs, what, isReady = () => true, onLater = () => undefined } = options;
    let timer: NodeJS.Timeout | undefined;
    let first: ((line: string) => void) | undefined;
    const contenders: Promise<string>[] = [
      new Promise<string>((resolve, reject) => {
        first = (line) => (isReady(line) ? resolve(line) : reject(new StartError(`unexpected first line from ${what}: ${JSON.stringify(line.slice(0, 200))}`)));
      }),
      this.exited.then((exit): never => {
        throw new StartError(`${what} exited before it was ready (${describeExit(exit)})`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StartError(`${what} was not ready within ${timeoutMs} ms`)), timeoutMs);
      }),
    ];
    // The losers of the race may settle later (the process exits long after it was ready).
    for (const contender of contenders) contender.catch(() => undefined);
    eachLine(source, (line) => {
      if (first === undefined) return onLater(line);
      const take = first;
      first = undefined;
      take(line);
    });
    return Promise.race(contenders).finally(() => clearTimeout(timer));
  }
}
