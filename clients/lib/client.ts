/**
 * @module `ArborClient`: the gateway's API as methods, over one gRPC channel.
 *
 * Each method is one unary call (see operations.ts), with the caller's signal and deadline;
 * `keys()` iterates the Keys pages; `watch()` and `watchKeys()` are the Watch and WatchKeys
 * streams as async iterables; `session()` opens a Session stream for pipelined calls. Every
 * failure is an `ArborError`. The console (clients/) runs on this class too: one client
 * implementation in the project.
 */
import { credentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { ArborServiceClient, type KeyEvent as ProtoKeyEvent, type WatchResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { checkKeysLimit, checkNodeId, checkPrefix, MAX_KEYS_LIMIT, quote } from '../../proto/limits.js';
import { toKeyEvent, toNodeEvent } from './convert.js';
import { ArborError, cancelledBy, fromServiceError, invalidArgument } from './errors.js';
import { eventStream, failed, type EventStream } from './event-stream.js';
import * as op from './operations.js';
import { ArborSession, type SessionOptions } from './session.js';
import type {
  ArborClientOptions,
  ArborCommands,
  CallOptions,
  CreatedNode,
  CreateOptions,
  KeyEntry,
  KeyEvent,
  KeysOptions,
  KeysPage,
  KeysPageOptions,
  NodeEvent,
  Topology,
  WatchKeysOptions,
} from './types.js';

/**
 * The channel's reconnection backoff: a lost gateway is retried after about 100 ms, then less
 * often, at least every 5 s (grpc-js's defaults, 1 s up to 120 s, would leave a program waiting
 * minutes after a gateway restart).
 */
const CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 5000,
};

/** A client of one arbor gateway. `close()` it when done (its channel keeps the process alive). */
export class ArborClient implements ArborCommands {
  /** The gateway's address, as given. */
  readonly target: string;
  private readonly client: ArborServiceClient;
  private readonly token: string | undefined;
  private closed = false;

  /** @throws ArborError `'invalid-argument'` for an address or CA certificate grpc-js refuses */
  constructor(options: ArborClientOptions) {
    const { target, token, tls } = options;
    if (typeof target !== 'string' || target.trim() === '' || /\s/.test(target)) {
      throw invalidArgument(`invalid target ${quote(String(target))}: expected host:port`);
    }
    this.target = target;
    this.token = token;
    let channel: ChannelCredentials;
    try {
      channel = tls === undefined ? credentials.createInsecure() : credentials.createSsl(Buffer.from(tls.ca));
      this.client = new ArborServiceClient(target, channel, CHANNEL_OPTIONS);
    } catch (error) {
      throw new ArborError('invalid-argument', `cannot make a client for ${quote(target)}: ${(error as Error).message}`, { cause: error });
    }
  }

  create(id: number, options: CreateOptions = {}): Promise<CreatedNode> {
    return this.call(op.create, { id, parent: options.parent, host: options.host }, options);
  }

  store(id: number, name: string, value: bigint, options: CallOptions = {}): Promise<void> {
    return this.call(op.store, { id, name, value }, options);
  }

  load(id: number, name: string, options: CallOptions = {}): Promise<bigint | undefined> {
    return this.call(op.load, { id, name, value: undefined }, options);
  }

  ping(id: number, options: CallOptions = {}): Promise<boolean> {
    return this.call(op.ping, { id }, options);
  }

  heartbeat(intervalMs: number, options: CallOptions = {}): Promise<number> {
    return this.call(op.heartbeat, { intervalMs }, options);
  }

  remove(id: number, options: CallOptions = {}): Promise<void> {
    return this.call(op.remove, { id }, options);
  }

  delete(id: number, name: string, options: CallOptions = {}): Promise<boolean> {
    return this.call(op.deleteName, { id, name }, options);
  }

  /**
   * Every name of node `id` (that starts with `prefix`) with its value, in ascending order, page
   * after page: `for await (const { name, value } of client.keys(8, { prefix: 'a' }))`. Each page
   * is one moment of the dictionary; a name stored or deleted between pages may or may not show.
   * `signal` ends the listing (with `'cancelled'`); `timeoutMs` is each page's deadline.
   */
  keys(id: number, options: KeysOptions = {}): AsyncIterable<KeyEntry> {
    const { prefix = '', pageSize = MAX_KEYS_LIMIT, signal, timeoutMs } = options;
    const problem = checkNodeId(id) ?? checkPrefix(prefix) ?? checkKeysLimit(pageSize);
    const page = (startAfter: string): Promise<KeysPage> => this.keysPage(id, { prefix, startAfter, limit: pageSize, signal, timeoutMs });
    return {
      async *[Symbol.asyncIterator]() {
        if (problem !== undefined) throw invalidArgument(problem, id);
        let startAfter = '';
        for (;;) {
          const { entries, more } = await page(startAfter);
          yield* entries;
          const last = entries.at(-1);
          if (!more || last === undefined) return;
          startAfter = last.name;
        }
      },
    };
  }

  /** One page of node `id`'s names, with the dictionary's revision (what `keys()` iterates). */
  keysPage(id: number, options: KeysPageOptions = {}): Promise<KeysPage> {
    const { prefix = '', startAfter = '', limit = 0 } = options;
    return this.call(op.keysPage, { id, prefix, startAfter, limit }, options);
  }

  /**
   * Every acknowledged store and delete from now on (of node `id`, or of every node; of names
   * starting with `prefix`), as `watch()` gives node events: ended by `break`, the signal or
   * `timeoutMs`; `ready` resolves once none can be missed.
   */
  watchKeys(options: WatchKeysOptions = {}): EventStream<KeyEvent> {
    if (this.closed) return failed(new ArborError('cancelled', 'the client is closed'));
    const { id, prefix = '' } = options;
    const problem = (id === undefined ? undefined : checkNodeId(id)) ?? checkPrefix(prefix);
    if (problem !== undefined) return failed(invalidArgument(problem, id));
    return eventStream(
      () => this.client.watchKeys({ ...(id !== undefined && { id }), prefix }, this.metadata()),
      (event: ProtoKeyEvent) => toKeyEvent(event),
      options,
    );
  }

  /**
   * Resolves once the channel to the gateway is connected (connecting it if idle); rejects with
   * `'unavailable'` when it is not within `timeoutMs` (default 3000), `'cancelled'` when the
   * signal aborts. Calls do not need it (each waits for the channel by itself, up to its
   * deadline); it tells a program early that the gateway is not there.
   */
  waitForReady(options: CallOptions = {}): Promise<void> {
    const problem = op.checkCallOptions(options);
    if (problem !== undefined) return Promise.reject(invalidArgument(problem));
    if (this.closed) return Promise.reject(new ArborError('cancelled', 'the client is closed'));
    const { signal, timeoutMs = 3000 } = options;
    if (signal?.aborted === true) return Promise.reject(cancelledBy(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(cancelledBy(signal as AbortSignal));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.client.waitForReady(Date.now() + timeoutMs, (error) => {
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(new ArborError('unavailable', `the gateway at ${this.target} is not reachable within ${timeoutMs} ms`, { cause: error }));
      });
    });
  }

  /** The whole tree, as the gateway sees it now. */
  topology(options: CallOptions = {}): Promise<Topology> {
    return this.call(op.topology, {}, options);
  }

  /**
   * Every availability change from now on, as it happens: `for await (const event of client.watch({ signal }))`.
   * The loop ends on `break`, when the signal aborts or when `timeoutMs` passes; `ready` resolves
   * once no later event can be missed. A watcher that falls 1024 events behind is dropped by the
   * gateway (`'resource-exhausted'`). `backlog`: first the last events the gateway kept (at most
   * 100, oldest first), then the live ones, with no gap and no repeat.
   */
  watch(options: CallOptions & { backlog?: number } = {}): EventStream<NodeEvent> {
    if (this.closed) return failed(new ArborError('cancelled', 'the client is closed'));
    const backlog = options.backlog ?? 0;
    return eventStream(
      () => this.client.watch({ backlog }, this.metadata()),
      (response: WatchResponse) => toNodeEvent(response.event),
      options,
    );
  }

  /** Opens a Session stream: the same calls, pipelined (see `ArborSession`). */
  session(options: SessionOptions = {}): ArborSession {
    if (this.closed) throw new ArborError('cancelled', 'the client is closed');
    return new ArborSession(this.client.session(this.metadata()), this.target, options);
  }

  /** Closes the channel; calls in flight fail, later calls reject with `'cancelled'`. */
  close(): void {
    this.closed = true;
    this.client.close();
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.token !== undefined) metadata.set('authorization', `Bearer ${this.token}`);
    return metadata;
  }

  /** Runs `operation` as a unary call, with the caller's signal and deadline. */
  private call<Request, Response, Result>(
    operation: op.Operation<Request, Response, Result>,
    request: Request,
    options: CallOptions,
  ): Promise<Result> {
    const nodeId = operation.nodeId(request);
    const problem = operation.check(request) ?? op.checkCallOptions(options);
    if (problem !== undefined) return Promise.reject(invalidArgument(problem, nodeId));
    if (this.closed) return Promise.reject(new ArborError('cancelled', 'the client is closed', { nodeId }));
    const { signal, timeoutMs } = options;
    if (signal?.aborted === true) return Promise.reject(cancelledBy(signal, nodeId));
    return new Promise<Result>((resolve, reject) => {
      let abortedByCaller = false;
      const deadline = timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs };
      const call = operation.unary(this.client, request, this.metadata(), deadline, (error: ServiceError | null, response) => {
        signal?.removeEventListener('abort', onAbort);
        if (error === null) resolve(operation.result(response));
        else if (abortedByCaller && signal !== undefined) reject(cancelledBy(signal, nodeId));
        else reject(fromServiceError(error, nodeId));
      });
      const onAbort = (): void => {
        abortedByCaller = true;
        call.cancel();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
