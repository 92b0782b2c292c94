/**
 * @module A gateway child process for `npm start`: spawned, awaited until it listens, stopped.
 *
 * Readiness is the gateway's first stdout line, `arbor-gateway listening on <host:port>`, raced
 * against its early exit and a deadline (the nats launcher pattern), so a gateway that cannot
 * bind says why (its stderr is inherited) instead of leaving the console hanging.
 * Stopping is SIGTERM (the gateway drains and stops every computing process), then SIGKILL after
 * a grace period, and always awaits the exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { quote } from '../proto/limits.js';

/** How the gateway process ended. */
export interface GatewayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The gateway failed to start: it exited, printed something unexpected, or was too slow. */
export class GatewayStartError extends Error {
  override readonly name = 'GatewayStartError';
}

const READY_LINE = /^arbor-gateway listening on (\S+)$/;
/* Nothing sane prints a first line this long; stop buffering rather than grow. */
const MAX_FIRST_LINE = 4096;

/** The built gateway entry, next to this module in `dist/`. */
export function gatewayEntry(): string {
  return fileURLToPath(new URL('../gateway/main.js', import.meta.url));
}

/** A running gateway. */
export class GatewayProcess {
  /** Resolves when the process has exited, however. */
  readonly exited: Promise<GatewayExit>;
  private exitInfo: GatewayExit | undefined;

  private constructor(
    private readonly child: ChildProcess,
    /** The address it listens on, as it printed it. */
    readonly address: string,
    exited: Promise<GatewayExit>,
  ) {
    this.exited = exited.then((info) => (this.exitInfo = info));
  }

  /**
   * Spawns `node <entry> --listen <listen>` and resolves once it printed that it listens.
   * Its later stdout goes to `log` (stderr), so the console's stdout carries only replies.
   *
   * @throws GatewayStartError when the entry is missing, the process exits or prints something
   *   else first, or `readyTimeoutMs` passes (the process is stopped before rejecting)
   */
  static async start(
    listen: string,
    options: { readyTimeoutMs: number; log: NodeJS.WritableStream; entry?: string; env?: NodeJS.ProcessEnv },
  ): Promise<GatewayProcess> {
    const entry = options.entry ?? gatewayEntry();
    if (!existsSync(entry)) throw new GatewayStartError(`${entry} does not exist: run 'npm run build' first`);
    const child = spawn(process.execPath, [entry, '--listen', listen], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: options.env ?? process.env,
    });
    const exited = new Promise<GatewayExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      /* A failed spawn emits 'error' and maybe no 'exit'. */
      child.once('error', () => resolve({ code: child.exitCode, signal: child.signalCode }));
    });
    let timer: NodeJS.Timeout | undefined;
    /* The losers of the race may still reject later (the gateway exits long after it was
       ready): a no-op catch on each keeps that from being an unhandled rejection. */
    const contenders = [
      firstLine(child, options.log),
      exited.then((info): never => {
        throw new GatewayStartError(`the gateway exited before it was ready (${describeExit(info)})`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new GatewayStartError(`the gateway did not report listening within ${options.readyTimeoutMs} ms`)),
          options.readyTimeoutMs,
        );
      }),
    ];
    for (const contender of contenders) contender.catch(() => {});
    try {
      const address = await Promise.race(contenders);
      return new GatewayProcess(child, address, exited);
    } catch (error) {
      await new GatewayProcess(child, listen, exited).stop(1000);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** How it exited, once it has. */
  get exit(): GatewayExit | undefined {
    return this.exitInfo;
  }

  /** Sends a signal (e.g. to forward SIGINT), unless it has exited. */
  signal(signal: NodeJS.Signals): void {
    if (this.exitInfo === undefined) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited. */
  async stop(graceMs: number): Promise<GatewayExit> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `exit code 1`, `signal SIGKILL`. */
export function describeExit(info: GatewayExit): string {
  return info.signal !== null ? `signal ${info.signal}` : `exit code ${info.code ?? 'unknown'}`;
}

/** The address from the child's first stdout line; later output is forwarded to `log`. */
function firstLine(child: ChildProcess, log: NodeJS.WritableStream): Promise<string> {
  const stdout = child.stdout;
  if (stdout === null) return Promise.reject(new GatewayStartError('the gateway has no stdout pipe'));
  stdout.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: string): void => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end === -1 && buffered.length <= MAX_FIRST_LINE) return;
      stdout.off('data', onData);
      /* Keep draining: a gateway blocked on a full stdout pipe would stop serving. */
      stdout.pipe(log, { end: false });
      const line = (end === -1 ? buffered : buffered.slice(0, end)).replace(/\r$/, '');
      const rest = end === -1 ? '' : buffered.slice(end + 1);
      if (rest !== '') log.write(rest);
      const match = READY_LINE.exec(line);
      if (match?.[1] !== undefined) resolve(match[1]);
      else reject(new GatewayStartError(`unexpected first line from the gateway: ${quote(line)}`));
    };
    stdout.on('data', onData);
  });
}
