/**
 * @module Starting and stopping one computing process. The control is its OS parent, so it
 * learns of the exit at once, and the child's stdin pipe ties its life to ours.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnArgs {
  id: number;
  parentEndpoint: string;
  listenEndpoint: string;
  corr: number;
}

/** Grace between SIGTERM and SIGKILL when stopping. */
const STOP_GRACE_MS = 2000;

/**
 * The built node program. Next to this file in dist/; when this module runs from sources
 * (vitest), the build output in dist/ is used, since Node 20 cannot run TypeScript itself.
 */
export function defaultComputingEntry(): string {
  const beside = fileURLToPath(new URL('../computing/main.js', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../dist/computing/main.js', import.meta.url));
}

export class ComputingProcess {
  readonly pid: number;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  private exit: Exit | null = null;

  private constructor(
    private readonly child: ReturnType<typeof spawn>,
    onStderrLine: (line: string) => void,
  ) {
    // A node's stderr goes into the control's log, never to the user's terminal as is.
    if (child.stderr) createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', onStderrLine);
    this.exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      // A failed spawn emits 'error' and never 'exit'.
      child.once('error', () => {
        if (child.pid === undefined) resolve((this.exit = { code: null, signal: null }));
      });
    });
    // A node that died closes its stdin; writing nothing, we only need to swallow EPIPE.
    child.stdin?.on('error', () => undefined);
    this.pid = child.pid ?? -1;
  }

  static spawn(
    entry: string,
    args: SpawnArgs,
    execArgv: readonly string[],
    onStderrLine: (line: string) => void,
  ): ComputingProcess {
    const child = spawn(
      process.execPath,
      [
        ...execArgv,
        entry,
        '--id', String(args.id),
        '--parent', args.parentEndpoint,
        '--listen', args.listenEndpoint,
        '--corr', String(args.corr),
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    return new ComputingProcess(child, onStderrLine);
  }

  get hasExited(): boolean {
    return this.exit !== null;
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  async stop(graceMs = STOP_GRACE_MS): Promise<Exit> {
    if (this.exit !== null) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  kill(): void {
    if (this.exit === null) this.child.kill('SIGKILL');
  }
}

/** How a process ended, in words, for events and errors. */
export function describeExit(exit: Exit): string {
  return exit.signal !== null ? `its process was killed by ${exit.signal}` : `its process exited with code ${exit.code}`;
}
