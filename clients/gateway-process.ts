/**
 * @module A gateway child process for `npm start`: spawned, awaited until it listens, stopped.
 *
 * Readiness is the gateway's first stdout line, `arbor-gateway listening on <host:port>`, raced
 * against its early exit and a deadline (lib/supervised-process.ts), so a gateway that cannot
 * bind says why (its stderr is inherited) instead of leaving the console hanging. Its web view
 * line (`arbor-gateway web view on <url>`, with --http-listen) is kept as `webView`, for the
 * caller to show where it fits; other later stdout lines go to the log (stderr), so the
 * console's stdout carries only replies. Stopping is
 * SIGTERM (the gateway drains and stops every computing process), then SIGKILL after a grace
 * period, and always awaits the exit.
 */
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describeExit, type Exit, StartError, SupervisedProcess } from '../lib/supervised-process.js';

export { describeExit };
export type GatewayExit = Exit;

/** The gateway failed to start: it exited, printed something unexpected, or was too slow. */
export class GatewayStartError extends Error {
  override readonly name = 'GatewayStartError';
}

const READY_LINE = /^arbor-gateway listening on (\S+)$/;
const WEB_VIEW_LINE = /^arbor-gateway web view on (\S+)$/;

/**
 * The built gateway: its one-file bundle (scripts/bundle.js) beside this module's directory in
 * `dist/`, else the compiled module; from sources (vitest), the ones in `dist/`.
 */
export function gatewayEntry(): string {
  const candidates = ['../bundle/gateway.js', '../gateway/main.js', '../dist/bundle/gateway.js', '../dist/gateway/main.js'];
  const paths = candidates.map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  return paths.find((path) => existsSync(path)) ?? (paths[0] as string);
}

/** A running gateway. */
export class GatewayProcess {
  private constructor(
    private readonly proc: SupervisedProcess,
    /** The address it listens on, as it printed it. */
    readonly address: string,
    /** The web view's URL once printed (it follows the listening line); undefined if the gateway exits first. */
    readonly webView: Promise<string | undefined>,
  ) {}

  /**
   * Spawns `node <entry> --listen <listen> [extraArgs]` and resolves once it printed that it listens.
   *
   * @throws GatewayStartError when the entry is missing, the process exits or prints something
   *   else first, or `readyTimeoutMs` passes (the process is stopped before rejecting)
   */
  static async start(
    listen: string,
    options: {
      readyTimeoutMs: number;
      log: NodeJS.WritableStream;
      entry?: string;
      env?: NodeJS.ProcessEnv;
      extraArgs?: readonly string[];
      /** Each line of the gateway's stderr (else its stderr is the terminal's, inherited). */
      stderrLine?: (line: string) => void;
    },
  ): Promise<GatewayProcess> {
    const entry = options.entry ?? gatewayEntry();
    if (!existsSync(entry)) throw new GatewayStartError(`${entry} does not exist: run 'npm run build' first`);
    const proc = SupervisedProcess.spawn(process.execPath, [entry, '--listen', listen, ...(options.extraArgs ?? [])], {
      stdio: ['ignore', 'pipe', options.stderrLine === undefined ? 'inherit' : 'pipe'],
      env: options.env ?? process.env,
    });
    const { stderrLine } = options;
    if (stderrLine !== undefined && proc.child.stderr !== null) {
      // Read to its end whatever happens: a gateway blocked on a full stderr pipe would stop serving.
      createInterface({ input: proc.child.stderr, crlfDelay: Infinity }).on('line', stderrLine);
    }
    const stdout = proc.child.stdout;
    if (stdout === null) throw new GatewayStartError('the gateway has no stdout pipe');
    let printed: (url: string | undefined) => void = () => undefined;
    const webView = new Promise<string | undefined>((resolve) => (printed = resolve));
    void proc.exited.then(() => printed(undefined));
    try {
      const line = await proc.firstLine(stdout, {
        timeoutMs: options.readyTimeoutMs,
        what: 'the gateway',
        isReady: (first) => READY_LINE.test(first),
        // Keep draining: a gateway blocked on a full stdout pipe would stop serving.
        onLater: (later) => {
          const url = WEB_VIEW_LINE.exec(later)?.[1];
          if (url === undefined) options.log.write(`${later}\n`);
          else printed(url);
        },
      });
      return new GatewayProcess(proc, (READY_LINE.exec(line) as RegExpExecArray)[1] as string, webView);
    } catch (error) {
      await proc.stop(1000);
      throw error instanceof StartError ? new GatewayStartError(error.message) : error;
    }
  }

  /** Resolves when the process has exited, however. */
  get exited(): Promise<GatewayExit> {
    return this.proc.exited;
  }

  /** How it exited, once it has. */
  get exit(): GatewayExit | undefined {
    return this.proc.exit;
  }

  /** Sends a signal (e.g. to forward SIGINT), unless it has exited. */
  signal(signal: NodeJS.Signals): void {
    this.proc.signal(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited. */
  stop(graceMs: number): Promise<GatewayExit> {
    return this.proc.stop(graceMs);
  }
}
