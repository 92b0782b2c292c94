/**
 * @module Progress of a long script on a terminal: `answered 5000/100000`, `created 120/500`.
 *
 * Shown on stderr only when stderr is a terminal and the input is a script (never on a pipe, and
 * not at the interactive prompt), only once the script has run for `delayMs` (a short one shows
 * nothing), redrawn in place with `\r` at most every `intervalMs`, and erased before other output
 * and at the end. Event-driven: nothing runs while nothing changes.
 */

/** Commands sent and answered so far. */
export interface ProgressCounts {
  sent: number;
  answered: number;
  createsSent: number;
  createsAnswered: number;
}

/** Whether to show progress: stderr is a terminal that understands `\x1b[K`, and input is a script. */
export function progressEnabled(
  stderr: { isTTY?: boolean },
  interactive: boolean,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return stderr.isTTY === true && !interactive && env['TERM'] !== 'dumb';
}

/**
 * The progress text: `created 120/500` while only creates were sent, `answered 300/1000` when no
 * create was, else both: `answered 300/1000 (created 120/500)`. Nothing before the first command.
 */
export function progressText(counts: ProgressCounts): string | undefined {
  const { sent, answered, createsSent, createsAnswered } = counts;
  if (sent === 0) return undefined;
  const created = `created ${createsAnswered}/${createsSent}`;
  if (createsSent === sent) return created;
  const all = `answered ${answered}/${sent}`;
  return createsSent === 0 ? all : `${all} (${created})`;
}

/** A self-erasing progress line on a terminal stream. */
export class ProgressMeter {
  private startedAt: number | undefined;
  private lastDrawAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private shown = false;
  private stopped = false;

  /**
   * @param stream the terminal (stderr)
   * @param counts reads the current counts
   */
  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly counts: () => ProgressCounts,
    private readonly delayMs = 500,
    private readonly intervalMs = 100,
  ) {}

  /** Something changed: redraw soon (throttled). */
  readonly note = (): void => {
    if (this.stopped || this.timer !== undefined) return;
    const now = Date.now();
    this.startedAt ??= now;
    const at = Math.max(this.startedAt + this.delayMs, this.lastDrawAt + this.intervalMs);
    this.timer = setTimeout(this.draw, Math.max(0, at - now));
    this.timer.unref();
  };

  /** Erases the line (before other output on the same terminal); the next change redraws it. */
  readonly clear = (): void => {
    if (!this.shown) return;
    this.stream.write('\r\x1b[K');
    this.shown = false;
  };

  /** Erases the line and draws no more. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private readonly draw = (): void => {
    this.timer = undefined;
    if (this.stopped) return;
    const text = progressText(this.counts());
    if (text === undefined) return;
    this.lastDrawAt = Date.now();
    this.stream.write(`\r${text}\x1b[K`);
    this.shown = true;
  };
}
