/**
 * @module `npm start`'s view of its gateway's log: every line goes to the log file (or to
 * stderr with `--log-file -`), and the lines that matter to the person at the prompt (pino
 * `warn` and worse, and the gateway's own `arbor-gateway: ...` lines) are also told as one
 * console line each, above the prompt, instead of raw JSON over it. Pure but for the sinks.
 */
import { createWriteStream, readdirSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir } from '../lib/private-dir.js';

/** pino's numeric level of `warn`: this and above are told at the prompt. */
const WARN = 40;
const LEVEL_NAMES: Readonly<Record<number, string>> = { 40: 'warning', 50: 'error', 60: 'fatal error' };

/**
 * The console line for one line of the gateway's stderr, or `undefined` when the line is only
 * for the log (below warn, or not one the person needs).
 */
export function noticeOf(line: string): string | undefined {
  if (line.startsWith('arbor-gateway: ')) return `arbor: gateway: ${line.slice('arbor-gateway: '.length)}`;
  if (!line.startsWith('{')) return undefined;
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { level, msg, err } = entry as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
  if (typeof level !== 'number' || level < WARN || typeof msg !== 'string') return undefined;
  const why = typeof err?.message === 'string' && err.message !== '' ? ` (${err.message})` : '';
  return `arbor: gateway ${LEVEL_NAMES[Math.min(60, Math.floor(level / 10) * 10)] ?? 'warning'}: ${msg}${why}`;
}

/**
 * The private runtime directory of this user's arbor programs: `$XDG_RUNTIME_DIR/arbor`, else
 * `<tmp>/arbor-<user>` (made 0700; refused when someone else could write into it).
 */
export function runtimeDir(env: Readonly<Record<string, string | undefined>>): string {
  const base = env['XDG_RUNTIME_DIR']?.trim();
  const dir = base !== undefined && base !== '' ? join(base, 'arbor') : join(tmpdir(), `arbor-${userInfo().username}`);
  ensurePrivateDir(dir);
  return dir;
}

/** How many earlier runs' default logs are kept beside a new one. */
export const KEPT_LOGS = 10;
const LOG_NAME = /^gateway-\d+\.log$/;

/**
 * Which of the default log files to delete so that only the `keep` newest (by modification
 * time; ties by name) stay: every `npm start` writes a new one, and a runtime directory that only
 * grows is a slow leak. Files of other names are never chosen.
 */
export function logsToPrune(files: readonly { name: string; mtimeMs: number }[], keep: number): string[] {
  return files
    .filter((file) => LOG_NAME.test(file.name))
    .sort((a, b) => b.mtimeMs - a.mtimeMs || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))
    .slice(Math.max(0, keep))
    .map((file) => file.name);
}

/**
 * Where one `npm start`'s gateway log goes by default (one file per run, named by the start's
 * pid); the oldest earlier ones beyond KEPT_LOGS are deleted first. A log still being written by
 * another run is never among the oldest ten unless ten newer runs started since (a file deleted
 * under its writer only loses that run's log, not the run).
 */
export function defaultLogFile(env: Readonly<Record<string, string | undefined>>): string {
  const dir = runtimeDir(env);
  try {
    const files = readdirSync(dir)
      .filter((name) => LOG_NAME.test(name))
      .flatMap((name) => {
        try {
          return [{ name, mtimeMs: statSync(join(dir, name)).mtimeMs }];
        } catch {
          return []; // gone meanwhile
        }
      });
    for (const name of logsToPrune(files, KEPT_LOGS - 1)) {
      try {
        unlinkSync(join(dir, name));
      } catch {
        /* another run pruned it first */
      }
    }
  } catch {
    /* pruning is housekeeping: a run never fails for it */
  }
  return join(dir, `gateway-${process.pid}.log`);
}

/** Lines whose notices wait until the console can show them, at most (the rest are in the log). */
const HELD_NOTICES = 100;

/** The gateway's stderr lines: into the log, and their notices to whoever shows them. */
export class GatewayLog {
  private show: ((text: string) => void) | undefined;
  private held: string[] = [];

  /** @param file the log file (appended to), or `undefined` for no file (the lines then go nowhere but their notices) */
  private constructor(private readonly file: WriteStream | undefined) {}

  /** Opens `path` for appending (0600). */
  static toFile(path: string): Promise<GatewayLog> {
    return new Promise((resolve, reject) => {
      const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
      stream.once('error', reject);
      stream.once('open', () => {
        stream.off('error', reject);
        /* A full disk must not take the console down: the log just stops. */
        stream.on('error', () => undefined);
        resolve(new GatewayLog(stream));
      });
    });
  }

  /** One line of the gateway's stderr. */
  line(text: string): void {
    this.file?.write(`${text}\n`);
    const notice = noticeOf(text);
    if (notice === undefined) return;
    if (this.show !== undefined) this.show(notice);
    else if (this.held.length < HELD_NOTICES) this.held.push(notice);
  }

  /** From now on, notices go to `show` (those held so far first). */
  attach(show: (text: string) => void): void {
    this.show = show;
    for (const notice of this.held.splice(0)) show(notice);
  }

  /** The notices not shown yet (the console never attached: say them before exiting). */
  takeHeld(): string[] {
    return this.held.splice(0);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.file === undefined ? resolve() : this.file.end(() => resolve())));
  }
}
