/**
 * @module `ArborSession`: the API's commands pipelined over one Session stream.
 *
 * Every call returns at once with a promise that its own reply settles (matched by tag, in
 * whatever order the gateway answers). Calls wait in a local queue and go onto the stream only
 * while it has room: at most MAX_SENT commands written and unanswered, and none while grpc-js
 * says its buffer is full (the gateway stops reading a session past its own in-flight limit,
 * which fills that buffer). So a loop of 100,000 calls without `await` puts a bounded amount on
 * the wire and in grpc-js; what waits is the queue entry of each call not yet sent.
 *
 * A call's own signal or `timeoutMs` settles its promise early; a command still queued is then
 * never sent, one already sent still runs (the Session has no per-command cancel). The session's
 * signal, `cancel()` or a failed stream rejects everything pending.
 */
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { SessionRequest, SessionResponse, SessionResult } from '../../proto/gen/arbor/v1/arbor.js';
import { toNodeEvent } from './convert.js';
import { ArborError, cancelledBy, codeOfStatus, fromStatus, invalidArgument, timedOut } from './errors.js';
import * as op from './operations.js';
import { type CommandBody, type Outcome, SessionClient, type SessionClosedError } from './session-stream.js';
import type { ArborCommands, CallOptions, CreatedNode, CreateOptions, KeysPage, KeysPageOptions, NodeEvent } from './types.js';

/**
 * Commands written and not yet answered, at most. Above the gateway's own in-flight limit (4096
 * per session), so that the gateway, not this bound, paces a session; low enough that the wire
 * and grpc-js hold a few hundred kilobytes at most.
 */
export const MAX_SENT = 8192;

/** Queue entries skipped past before the queue array is compacted. */
const COMPACT_AFTER = 4096;

/** `client.session()`'s options. */
export interface SessionOptions {
  /** Aborting it cancels the session: every call not yet answered rejects with `'cancelled'`. */
  signal?: AbortSignal;
  /** Receives the availability events the gateway sends on every session, as they happen (as `watch()` yields them). */
  onEvent?: (event: NodeEvent) => void;
  /**
   * Called once when the session ends by itself (the gateway went away, ended it or refused it),
   * not after `close()` or `cancel()`; every call not yet answered rejects with the same error.
   */
  onLost?: (error: ArborError) => void;
  /** @internal Receives a result whose tag answers no call and that is no event (the console reports it). */
  onStray?: (tag: bigint) => void;
}

interface Queued {
  body: CommandBody;
  /** Settles the call with its reply; ignored once `done`. */
  answer: (outcome: Outcome) => void;
  fail: (error: ArborError) => void;
  done: boolean;
}

/** One Session stream; get it from `ArborClient.session()`. */
export class ArborSession implements ArborCommands {
  private readonly stream: SessionClient;
  private queue: Queued[] = [];
  private head = 0;
  private pumpScheduled = false;
  private waitingForRoom = false;
  private closing = false;
  private ended: ArborError | undefined;
  private readonly whenIdle: (() => void)[] = [];
  private readonly whenRoom: (() => void)[] = [];

  /** @internal Made by `ArborClient.session()`. */
  constructor(
    stream: ClientDuplexStream<SessionRequest, SessionResponse>,
    target: string,
    private readonly options: SessionOptions = {},
  ) {
    this.stream = new SessionClient(stream, target, { onClosed: this.onClosed, onUnmatched: this.onUnmatched });
    options.signal?.addEventListener('abort', this.cancel, { once: true });
    if (options.signal?.aborted === true) this.cancel();
  }

  create(id: number, options: CreateOptions = {}): Promise<CreatedNode> {
    return this.send(op.create, { id, parent: options.parent, host: options.host }, options);
  }

  store(id: number, name: string, value: bigint, options: CallOptions = {}): Promise<void> {
    return this.send(op.store, { id, name, value }, options);
  }

  load(id: number, name: string, options: CallOptions = {}): Promise<bigint | undefined> {
    return this.send(op.load, { id, name, value: undefined }, options);
  }

  ping(id: number, options: CallOptions = {}): Promise<boolean> {
    return this.send(op.ping, { id }, options);
  }

  heartbeat(intervalMs: number, options: CallOptions = {}): Promise<number> {
    return this.send(op.heartbeat, { intervalMs }, options);
  }

  remove(id: number, options: CallOptions = {}): Promise<void> {
    return this.send(op.remove, { id }, options);
  }

  delete(id: number, name: string, options: CallOptions = {}): Promise<boolean> {
    return this.send(op.deleteName, { id, name }, options);
  }

  /** One page of node `id`'s names, pipelined like the other calls (see `ArborClient.keys` for all pages). */
  keysPage(id: number, options: KeysPageOptions = {}): Promise<KeysPage> {
    const { prefix = '', startAfter = '', limit = 0 } = options;
    return this.send(op.keysPage, { id, prefix, startAfter, limit }, options);
  }

  /**
   * @internal The console's way in: one command as the wire carries it, answered with the wire's
   * result (the console prints it in the assignment's formats). It goes onto the stream at once,
   * past the queue: the caller paces itself with `writable` and `whenWritable()`.
   */
  command(body: CommandBody): Promise<Outcome> {
    if (this.ended !== undefined) return Promise.reject(this.ended);
    return this.stream.send(body).then(this.commandAnswered, this.commandLost);
  }

  private readonly commandAnswered = (outcome: Outcome): Outcome => {
    if (this.whenRoom.length > 0 && this.stream.inFlight < MAX_SENT) this.wakeRoom();
    if (this.whenIdle.length > 0 && this.stream.inFlight === 0 && this.queued === 0) this.wakeIdle();
    return outcome;
  };

  private readonly commandLost = (error: SessionClosedError): never => {
    throw this.closedError(error);
  };

  /**
   * False while the stream's buffer is full (the gateway is not reading: it has as many commands
   * in flight as it takes); calls still queue, in memory. A program making calls in a loop
   * can `await session.whenWritable()` when this is false, to keep its own memory bounded.
   */
  get writable(): boolean {
    return this.stream.writable && this.stream.inFlight < MAX_SENT;
  }

  /** Resolves when the stream has room again (or the session is over). */
  async whenWritable(): Promise<void> {
    while (!this.writable && this.ended === undefined) {
      if (!this.stream.writable) await this.stream.whenWritable();
      else await new Promise<void>((resolve) => this.whenRoom.push(resolve));
    }
  }

  /** The error the session ended with, once it ended by itself; `undefined` while it is open. */
  get lostWith(): ArborError | undefined {
    return this.ended;
  }

  /** Calls queued and not yet written to the stream. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Calls written and not yet answered (at most `MAX_SENT`). */
  get inFlight(): number {
    return this.stream.inFlight;
  }

  /**
   * Ends the session politely: no more calls; resolves once every call made so far is answered and
   * the gateway has ended its side. Calls made afterwards reject with `'cancelled'`.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.schedulePump();
    while (this.ended === undefined && (this.queued > 0 || this.stream.inFlight > 0)) {
      await new Promise<void>((resolve) => this.whenIdle.push(resolve));
    }
    await this.stream.end();
  }

  /** Cancels the session at once: every call not yet answered rejects with `'cancelled'`. */
  readonly cancel = (): void => {
    this.closing = true;
    this.stream.cancel();
    /* A stream that never opened (or is already over) reports nothing more: settle what is queued. */
    this.failQueued(this.ended ?? this.cancelled());
  };

  private send<Request, Response, Result>(
    operation: op.Operation<Request, Response, Result>,
    request: Request,
    options: CallOptions,
  ): Promise<Result> {
    const nodeId = operation.nodeId(request);
    const problem = operation.check(request) ?? op.checkCallOptions(options);
    if (problem !== undefined) return Promise.reject(invalidArgument(problem, nodeId));
    const { command, answer } = operation;
    if (command === undefined || answer === undefined) {
      return Promise.reject(new ArborError('internal', 'this call has no Session command', { nodeId }));
    }
    if (this.ended !== undefined) return Promise.reject(this.ended);
    if (this.closing) return Promise.reject(new ArborError('cancelled', 'the session is closed', { nodeId }));
    const { signal, timeoutMs } = options;
    if (signal?.aborted === true) return Promise.reject(cancelledBy(signal, nodeId));

    return new Promise<Result>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        entry.done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const entry: Queued = {
        body: command(request),
        done: false,
        answer: (outcome) => {
          if (entry.done) return;
          finish();
          if (outcome.$case === 'error') {
            const { code, message, reason } = outcome.value;
            reject(fromStatus(code, message, reason, nodeId));
            return;
          }
          const response = answer(outcome);
          if (response === undefined) {
            reject(new ArborError('internal', `the gateway answered with a ${outcome.$case} result`, { nodeId }));
          } else {
            resolve(operation.result(response));
          }
        },
        fail: (error) => {
          if (entry.done) return;
          finish();
          reject(error.nodeId === nodeId ? error : new ArborError(error.code, error.message, { reason: error.reason, grpcStatus: error.grpcStatus, nodeId, cause: error.cause }));
        },
      };
      const onAbort = (): void => entry.fail(cancelledBy(signal as AbortSignal, nodeId));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(() => entry.fail(timedOut(timeoutMs, nodeId)), timeoutMs);
      this.queue.push(entry);
      this.schedulePump();
    });
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(this.pump);
  }

  /** Writes queued calls while there is room (see the module's comment). */
  private readonly pump = (): void => {
    this.pumpScheduled = false;
    if (this.ended !== undefined) return;
    while (this.head < this.queue.length && this.stream.inFlight < MAX_SENT && this.stream.writable) {
      const entry = this.queue[this.head] as Queued;
      this.head += 1;
      if (entry.done) continue;
      this.stream.send(entry.body).then(
        (outcome) => {
          entry.answer(outcome);
          this.afterReply();
        },
        (error: SessionClosedError) => entry.fail(this.closedError(error)),
      );
    }
    this.compact();
    if (this.queued === 0 && this.stream.inFlight === 0) this.wakeIdle();
    if (this.head < this.queue.length && !this.stream.writable && !this.waitingForRoom) {
      this.waitingForRoom = true;
      void this.stream.whenWritable().then(() => {
        this.waitingForRoom = false;
        this.schedulePump();
      });
    }
  };

  private afterReply(): void {
    if (this.whenRoom.length > 0 && this.stream.inFlight < MAX_SENT) this.wakeRoom();
    if (this.queued > 0) this.schedulePump();
    else if (this.stream.inFlight === 0) this.wakeIdle();
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private readonly onClosed = (error: SessionClosedError): void => {
    const byItself = this.ended === undefined && !this.closing;
    this.ended ??= this.closedError(error);
    this.failQueued(this.ended);
    this.wakeRoom();
    this.options.signal?.removeEventListener('abort', this.cancel);
    if (byItself) this.options.onLost?.(this.ended);
  };

  private readonly onUnmatched = ({ tag, result }: SessionResult): void => {
    const event = tag === 0n && result?.$case === 'event' ? toNodeEvent(result.value) : undefined;
    if (event !== undefined) this.options.onEvent?.(event);
    else if (tag !== 0n || result?.$case !== 'event') this.options.onStray?.(tag);
  };

  private wakeRoom(): void {
    for (const wake of this.whenRoom.splice(0)) wake();
  }

  private failQueued(error: ArborError): void {
    const waiting = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const entry of waiting) entry.fail(error);
    this.wakeIdle();
  }

  private wakeIdle(): void {
    for (const wake of this.whenIdle.splice(0)) wake();
  }

  private cancelled(): ArborError {
    const { signal } = this.options;
    return signal?.aborted === true ? cancelledBy(signal) : new ArborError('cancelled', 'the session was cancelled');
  }

  /** What a call gets when the stream is over. */
  private closedError(error: SessionClosedError): ArborError {
    if (this.closing && (error.code === undefined || codeOfStatus(error.code) === 'cancelled')) return this.cancelled();
    if (error.code === undefined) return new ArborError('unavailable', error.message, { reason: error.reason, cause: error });
    return new ArborError(codeOfStatus(error.code), error.message, { reason: error.reason, grpcStatus: error.code, cause: error });
  }
}
