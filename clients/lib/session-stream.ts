/**
 * @module One `Session` bidi stream, turned into `send(command) → Promise<outcome>`: the one
 * session multiplexer of the project (the library's `ArborSession` and the console both use it).
 *
 * Each command gets a tag (1, 2, 3, ... as uint64) and a pending entry; a response resolves the
 * entry with its tag, in whatever order the gateway answers. When the stream fails or the gateway
 * ends it, every pending command is rejected with one `SessionClosedError` that names the target,
 * so nothing waits forever (the nats `muxsubscription` / temporal `threaded-vm` pattern).
 * Backpressure is exposed rather than hidden: `writable` turns false when `write()` did, and the
 * caller stops reading input until `whenWritable()` resolves.
 *
 * Commands sent within one event-loop turn leave together in one SessionRequest (at most
 * SESSION_MAX_BATCH, the API's limit), so a piped script pays gRPC's per-message cost per batch.
 */
import { status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type { SessionCommand, SessionRequest, SessionResponse, SessionResult } from '../../proto/gen/arbor/v1/arbor.js';
import { SESSION_MAX_BATCH } from '../../proto/limits.js';

/** The body of a `SessionCommand` (without its tag). */
export type CommandBody = NonNullable<SessionCommand['command']>;

/** What a command got: the `SessionResult`'s result (an `error` case when it failed). */
export type Outcome = NonNullable<SessionResult['result']>;

/** The gRPC status name of a code number, e.g. `NOT_FOUND` for 5. */
export function statusName(code: number): string {
  return status[code] ?? `CODE_${code}`;
}

/** Every command pending on a session that failed or ended is rejected with this. */
export class SessionClosedError extends Error {
  override readonly name = 'SessionClosedError';

  /**
   * @param message the whole story, naming the target
   * @param reason why, without the target (e.g. `UNAVAILABLE: Connection dropped`)
   * @param unanswered commands that were pending and got no reply
   * @param code the gRPC status the stream failed with (none when the gateway ended it)
   */
  constructor(
    message: string,
    readonly reason = message,
    readonly unanswered = 0,
    readonly code?: status,
  ) {
    super(message);
  }
}

/** Options of a `SessionClient`. */
export interface SessionClientOptions {
  /** Receives results that match no pending command (tag 0 carries availability events). */
  onUnmatched?: (result: SessionResult) => void;
  /** Called once when the session is over, for whatever reason (also after `end()`). */
  onClosed?: (error: SessionClosedError) => void;
}

interface Pending {
  resolve: (outcome: Outcome) => void;
  reject: (error: SessionClosedError) => void;
}

/** A client's side of one `Session` stream. */
export class SessionClient {
  private nextTag = 1n;
  private readonly pending = new Map<bigint, Pending>();
  private closed: SessionClosedError | undefined;
  private blocked = false;
  private wakeWriters: (() => void)[] = [];
  private readonly finished: Promise<void>;
  private markFinished: () => void = () => {};
  private cancelledByUs = false;
  /** Sent but not yet written: they leave together at the end of this event-loop turn. */
  private outbox: SessionCommand[] = [];
  private flushScheduled = false;

  /**
   * @param stream a fresh `client.session()` stream; this takes it over
   * @param target the gateway address, for error messages
   */
  constructor(
    private readonly stream: ClientDuplexStream<SessionRequest, SessionResponse>,
    private readonly target: string,
    private readonly options: SessionClientOptions = {},
  ) {
    /* The error listener goes first: an 'error' event with no listener is thrown by Node's
       EventEmitter and crashes the process, and grpc-js emits one on every cancelled or failed
       stream (Node's events docs, "Error events"). */
    stream.on('error', this.onError);
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('drain', this.onDrain);
    this.finished = new Promise((resolve) => (this.markFinished = resolve));
  }

  /**
   * Sends one command and resolves with its outcome (an `error` outcome for a command the gateway
   * refused). Rejects with `SessionClosedError` if the session fails or ends before the answer, or
   * already has. Never waits for room: check `writable` before sending more.
   */
  send(command: CommandBody): Promise<Outcome> {
    if (this.closed !== undefined) return Promise.reject(this.closed);
    const tag = this.nextTag++;
    return new Promise<Outcome>((resolve, reject) => {
      this.pending.set(tag, { resolve, reject });
      this.outbox.push({ tag, command });
      if (this.outbox.length >= SESSION_MAX_BATCH) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const commands = this.outbox;
    if (commands.length === 0 || this.closed !== undefined) return;
    this.outbox = [];
    if (!this.stream.write({ commands })) this.blocked = true;
  };

  /** Commands sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** False while the stream's buffer is full (`write()` returned false) and not yet drained. */
  get writable(): boolean {
    return !this.blocked || this.closed !== undefined;
  }

  /** Resolves when `writable` is true again: on `'drain'`, or when the session is over. */
  whenWritable(): Promise<void> {
    if (this.writable) return Promise.resolve();
    return new Promise((resolve) => this.wakeWriters.push(resolve));
  }

  /** The error the session ended with, once it has ended (`undefined` while it is open). */
  get closedError(): SessionClosedError | undefined {
    return this.closed;
  }

  /**
   * Half-closes the stream (no more commands) and resolves when the gateway has ended its side,
   * or after `timeoutMs`, when the call is cancelled. Call it once nothing is in flight.
   */
  async end(timeoutMs = 2000): Promise<void> {
    if (this.closed === undefined) {
      this.flush();
      this.stream.end();
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.cancel();
        resolve();
      }, timeoutMs);
    });
    await Promise.race([this.finished, timeout]);
    clearTimeout(timer);
  }

  /** Cancels the call; whatever is still pending is rejected. */
  cancel(): void {
    if (this.closed !== undefined) return;
    this.cancelledByUs = true;
    this.stream.cancel();
  }

  private readonly onData = (response: SessionResponse): void => {
    for (const result of response.results) {
      const entry = this.pending.get(result.tag);
      if (entry === undefined) {
        this.options.onUnmatched?.(result);
        continue;
      }
      this.pending.delete(result.tag);
      entry.resolve(result.result ?? { $case: 'error', value: { code: status.INTERNAL, message: 'the gateway sent a result without an outcome', reason: '' } });
    }
  };

  private readonly onError = (error: ServiceError): void => {
    if (this.cancelledByUs && error.code === status.CANCELLED) {
      this.close(`the session with the gateway at ${this.target} was cancelled`, 'cancelled', error.code);
    } else {
      const reason = `${statusName(error.code)}: ${error.details || error.message}`;
      this.close(`the session with the gateway at ${this.target} failed (${reason})`, reason, error.code);
    }
  };

  private readonly onEnd = (): void => {
    this.close(`the gateway at ${this.target} ended the session`, 'it ended the session');
  };

  private readonly onDrain = (): void => {
    this.blocked = false;
    this.wakeAll();
  };

  private close(message: string, reason: string, code?: status): void {
    if (this.closed === undefined) {
      const unanswered = this.pending.size;
      const suffix = unanswered === 0 ? '' : `; ${unanswered} command${unanswered === 1 ? '' : 's'} got no reply`;
      this.closed = new SessionClosedError(`${message}${suffix}`, `${reason}${suffix}`, unanswered, code);
      const entries = [...this.pending.values()];
      this.pending.clear();
      for (const entry of entries) entry.reject(this.closed);
      this.options.onClosed?.(this.closed);
    }
    this.wakeAll();
    this.markFinished();
  }

  private wakeAll(): void {
    const waiters = this.wakeWriters;
    this.wakeWriters = [];
    for (const resolve of waiters) resolve();
  }
}
