/**
 * @module Writes reply lines to stdout in batches, honouring its backpressure.
 *
 * Replies arrive many per I/O turn when a script is pipelined; one `write()` per line would cost a
 * syscall each, so lines collect until the turn ends (or 64 KiB gather) and go out in one write.
 * When the stream says it is full, nothing more is written until `'drain'`, and `backpressured`
 * tells the input reader to pause, so a slow consumer (`arbor < script | slow`) bounds memory
 * instead of growing it.
 */
const BATCH_BYTES = 64 * 1024;

/** A line writer over a Node writable stream (normally `process.stdout`). */
export class BatchedWriter {
  private pending: string[] = [];
  private pendingChars = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private blocked = false;
  private failure: Error | undefined;
  private waiters: (() => void)[] = [];

  /**
   * @param dest where lines go
   * @param onError called once if `dest` fails (e.g. EPIPE when the reader went away); later
   *   lines are dropped
   * @param beforeWrite called before each write (to erase a progress line on the same terminal)
   */
  constructor(
    private readonly dest: NodeJS.WritableStream,
    private readonly onError: (error: Error) => void,
    private readonly beforeWrite: () => void = () => {},
  ) {
    dest.on('error', this.fail);
  }

  /** Queues one line (a newline is added). */
  writeLine(text: string): void {
    if (this.failure !== undefined) return;
    this.pending.push(text, '\n');
    this.pendingChars += text.length + 1;
    if (this.pendingChars >= BATCH_BYTES) this.flush();
    else this.scheduled ??= setImmediate(this.flush);
  }

  /** True while the stream is full, or a batch is waiting on it: the reader should pause. */
  get backpressured(): boolean {
    return this.failure === undefined && (this.blocked || this.pendingChars >= BATCH_BYTES);
  }

  /** Resolves when `backpressured` is false (or the stream failed). */
  whenWritable(): Promise<void> {
    if (!this.backpressured) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Writes out everything queued and resolves once the stream has taken it (or failed). */
  async flushAll(): Promise<void> {
    this.flush();
    while (this.backpressured) await this.whenWritable();
    if (this.failure !== undefined) return;
    await new Promise<void>((resolve) => this.dest.write('', () => resolve()));
  }

  /** Stops listening to the stream. */
  detach(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.dest.off('error', this.fail);
  }

  private readonly flush = (): void => {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.blocked || this.failure !== undefined || this.pending.length === 0) return;
    const data = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    this.beforeWrite();
    if (!this.dest.write(data)) {
      this.blocked = true;
      this.dest.once('drain', this.onDrain);
    }
    this.wake();
  };

  private readonly onDrain = (): void => {
    this.blocked = false;
    this.flush();
    this.wake();
  };

  private readonly fail = (error: Error): void => {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.pending = [];
    this.pendingChars = 0;
    this.wake();
    this.onError(error);
  };

  private wake(): void {
    if (this.backpressured) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
