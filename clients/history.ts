/**
 * @module The interactive prompt's history across runs: `$XDG_STATE_HOME/arbor/history`
 * (default `~/.local/state/arbor/history`), one command per line, oldest first.
 *
 * Each line typed is appended at once (so a killed console keeps it), and the file is cut to the
 * last `HISTORY_LINES` when read and when the session ends. History is a convenience: a file or
 * directory that cannot be read or written (read-only home, no home) only means no history;
 * nothing fails and nothing is printed.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

/** The most lines kept. */
export const HISTORY_LINES = 1000;
/** Longer lines (a pasted blob) are not kept. */
const MAX_KEPT_CHARS = 1000;

/**
 * Where the history lives: `$XDG_STATE_HOME/arbor/history` when that is an absolute path (the
 * XDG spec ignores relative ones), else `<home>/.local/state/arbor/history`; `undefined` without
 * a home.
 */
export function historyPath(env: Readonly<Record<string, string | undefined>>, home: string | undefined): string | undefined {
  const state = env['XDG_STATE_HOME'];
  if (state !== undefined && isAbsolute(state)) return join(state, 'arbor', 'history');
  if (home === undefined || home === '' || !isAbsolute(home)) return undefined;
  return join(home, '.local', 'state', 'arbor', 'history');
}

/** The last `max` non-empty lines of a history file's text, oldest first. */
export function lastLines(text: string, max = HISTORY_LINES): string[] {
  const lines = text.split('\n').filter((line) => line !== '');
  return lines.slice(Math.max(0, lines.length - max));
}

/** Whether a typed line is worth keeping: not blank, not huge, printable. */
export function keepsInHistory(line: string): boolean {
  // eslint-disable-next-line no-control-regex
  return line.trim() !== '' && line.length <= MAX_KEPT_CHARS && !/[\x00-\x1f\x7f]/.test(line);
}

/** One console's use of the history file. */
export class HistoryFile {
  private lines = 0;
  private last: string | undefined;
  private broken = false;

  /** @param path the file, or `undefined` for no history */
  constructor(private readonly path: string | undefined) {}

  /** The saved lines, newest first (readline's order); `[]` when there are none or on error. */
  load(): string[] {
    if (this.path === undefined) return [];
    let kept: string[];
    try {
      const text = readFileSync(this.path, 'utf8');
      kept = lastLines(text);
      if (kept.length < text.split('\n').length - 1) this.rewrite(kept);
    } catch {
      return [];
    }
    this.lines = kept.length;
    this.last = kept.at(-1);
    return kept.reverse();
  }

  /** Appends a typed line (unless blank, huge, or the same as the previous one). */
  add(line: string): void {
    if (this.path === undefined || this.broken || !keepsInHistory(line) || line === this.last) return;
    try {
      makeDirectories(dirname(this.path));
      appendFileSync(this.path, `${line}\n`, { mode: 0o600 });
      this.lines += 1;
      this.last = line;
    } catch {
      this.broken = true;
    }
  }

  /** Cuts the file to the last `HISTORY_LINES` lines if it grew beyond. */
  close(): void {
    if (this.path === undefined || this.broken || this.lines <= HISTORY_LINES) return;
    try {
      this.rewrite(lastLines(readFileSync(this.path, 'utf8')));
    } catch {
      /* no history is no failure */
    }
  }

  private rewrite(lines: string[]): void {
    try {
      writeFileSync(this.path as string, lines.map((line) => `${line}\n`).join(''), { mode: 0o600 });
    } catch {
      this.broken = true;
    }
  }
}

/**
 * `mkdir -p`, one level at a time. Not `mkdirSync(..., { recursive: true })`: Node's spins
 * forever on some paths it cannot create (e.g. under /proc), and history must never hang.
 *
 * @throws the first error other than "exists"
 */
function makeDirectories(path: string): void {
  const missing: string[] = [];
  for (let dir = path; !existsSync(dir); dir = dirname(dir)) {
    if (dirname(dir) === dir) break;
    missing.unshift(dir);
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
