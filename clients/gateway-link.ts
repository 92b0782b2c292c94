/**
 * @module The console's link to the gateway: its `Session` stream and its `Topology` call, over
 * one gRPC channel, and (interactive mode) reconnection when the gateway goes away.
 *
 * When the session is lost, `onLost` is told once. Without `reconnect` that is the end (script
 * mode exits; anything sent later gets the lost session's error, as the replies in flight did).
 * With it, the link waits for the channel to be ready again, in windows of 100 ms doubling to
 * 5 s (the channel itself retries within the same bounds, see `connect.ts`), opens a new session
 * and calls `onReconnected`; meanwhile every command is refused at once with `GatewayCallError`
 * ("not connected"), never queued. A refusal no retry cures (`isRetryable`) is not retried, and
 * a session lost again right after it opened waits longer each time before the next try.
 * Every call carries the bearer token, when there is one.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { ArborServiceClient, KeyEvent, SessionResult, TopologyResponse, WatchKeysRequest } from '../proto/gen/arbor/v1/arbor.js';
import type { CommandBody, Outcome } from './command.js';
import { waitUntilReady } from './connect.js';
import { statusName } from './format.js';
import { SessionClient, type SessionClosedError } from './session-client.js';

/** How long a `tree` or `status` waits for the gateway's answer. */
export const TOPOLOGY_TIMEOUT_MS = 5000;
/** The first and the longest wait for the channel between checks, while reconnecting. */
export const RETRY_DELAY_MS = { initial: 100, max: 5000 } as const;
/** A session lost sooner than this after it opened was refused rather than lost: wait first. */
const STABLE_MS = 5000;
/* Statuses that no reconnection cures: the console gives up on them, as in script mode. */
const FATAL: ReadonlySet<status> = new Set([status.UNAUTHENTICATED, status.PERMISSION_DENIED, status.UNIMPLEMENTED]);

/** Whether reconnecting can help after a session ended with `code` (absent: the gateway ended it). */
export function isRetryable(code: status | undefined): boolean {
  return code === undefined || !FATAL.has(code);
}

/** A call the link could not make or the gateway refused, with its gRPC status code. */
export class GatewayCallError extends Error {
  override readonly name = 'GatewayCallError';

  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/** What the console needs from the gateway (the `Dispatcher`'s view of a `GatewayLink`). */
export interface GatewayPort {
  /** Sends a command on the session; rejects with `SessionClosedError` or `GatewayCallError`. */
  send(command: CommandBody): Promise<Outcome>;
  /** Calls `Topology`; rejects with `GatewayCallError` (or the lost session's error). */
  topology(): Promise<TopologyResponse>;
  /** Opens a `WatchKeys` stream (see `KeyStream`). */
  watchKeys(request: WatchKeysRequest, handlers: KeyStreamHandlers): KeyStream;
}

/** What a `WatchKeys` stream reports. */
export interface KeyStreamHandlers {
  event(event: KeyEvent): void;
  /** The stream ended by itself (the gateway ended it, or it failed: `error`); not after `cancel()`. */
  end(error?: GatewayCallError): void;
}

/** One open `WatchKeys` stream. */
export interface KeyStream {
  /** Resolves once the subscription is in place (the response headers came); rejects when the stream failed first. */
  ready: Promise<void>;
  cancel(): void;
}

/** What a `GatewayLink` reports. */
export interface LinkHandlers {
  /** A session result that answers no command (tag 0: an availability event). */
  onUnmatched: (result: SessionResult) => void;
  /**
   * The session was lost (not closed by us). Called once per loss; `retrying` says whether the
   * link reconnects (with `reconnect`, unless the status is one no retry cures).
   */
  onLost: (error: SessionClosedError, retrying: boolean) => void;
  /** A new session is open after a loss (only with `reconnect`). */
  onReconnected?: () => void;
}

/** The next wait between checks while reconnecting: doubled, at most `RETRY_DELAY_MS.max`. */
export function nextRetryDelay(delayMs: number): number {
  return Math.min(delayMs * 2, RETRY_DELAY_MS.max);
}

/** A session (re)opened on demand over one client. */
export class GatewayLink implements GatewayPort {
  private session: SessionClient | undefined;
  private closing = false;
  private openedAt = 0;
  private quickLosses = 0;

  /**
   * @param client a connected client; the link takes it over and closes it
   * @param target its address, for messages
   * @param reconnect reopen the session after a loss (interactive mode)
   * @param token sent as `authorization: Bearer <token>` on every call
   */
  constructor(
    private readonly client: ArborServiceClient,
    readonly target: string,
    private readonly handlers: LinkHandlers,
    private readonly reconnect: boolean,
    private readonly token?: string,
  ) {
    this.session = this.open();
  }

  send(command: CommandBody): Promise<Outcome> {
    if (this.session === undefined) return Promise.reject(this.notConnected());
    return this.session.send(command);
  }

  topology(): Promise<TopologyResponse> {
    if (this.session === undefined) return Promise.reject(this.notConnected());
    if (this.session.closedError !== undefined) return Promise.reject(this.session.closedError);
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + TOPOLOGY_TIMEOUT_MS;
      this.client.topology({}, this.metadata(), { deadline }, (error: ServiceError | null, answer) => {
        if (error === null) resolve(answer);
        else reject(new GatewayCallError(error.code, this.topologyProblem(error)));
      });
    });
  }

  watchKeys(request: WatchKeysRequest, handlers: KeyStreamHandlers): KeyStream {
    const stream = this.client.watchKeys(request, this.metadata());
    let cancelled = false;
    let settle: { resolve: () => void; reject: (error: GatewayCallError) => void } | undefined;
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    ready.catch(() => undefined);
    stream.on('metadata', () => settle?.resolve());
    stream.on('data', (event: KeyEvent) => handlers.event(event));
    stream.on('error', (error: ServiceError) => {
      if (cancelled) return;
      const failed = new GatewayCallError(error.code, error.details || error.message);
      settle?.reject(failed);
      handlers.end(failed);
    });
    stream.on('end', () => {
      if (!cancelled) handlers.end();
    });
    return {
      ready,
      cancel: () => {
        cancelled = true;
        stream.cancel();
      },
    };
  }

  /** False while the session's stream is full (see `SessionClient.writable`). */
  get writable(): boolean {
    return this.session?.writable ?? true;
  }

  whenWritable(): Promise<void> {
    return this.session?.whenWritable() ?? Promise.resolve();
  }

  /** Stops reconnecting and cancels the session (what is pending is rejected); `close()` follows. */
  cancel(): void {
    this.closing = true;
    this.session?.cancel();
  }

  /** Stops reconnecting, ends the session politely (see `SessionClient.end`), closes the client. */
  async close(): Promise<void> {
    this.closing = true;
    await this.session?.end();
    this.client.close();
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.token !== undefined) metadata.set('authorization', `Bearer ${this.token}`);
    return metadata;
  }

  private open(): SessionClient {
    this.openedAt = Date.now();
    const session: SessionClient = new SessionClient(this.client.session(this.metadata()), this.target, {
      onUnmatched: this.handlers.onUnmatched,
      onClosed: (error) => {
        if (this.closing || this.session !== session) return;
        const retrying = this.reconnect && isRetryable(error.code);
        this.handlers.onLost(error, retrying);
        if (!retrying) return; // the closed session stays: later sends get its error
        this.session = undefined;
        void this.retry();
      },
    });
    return session;
  }

  private async retry(): Promise<void> {
    /* A session that keeps failing right after it opens is retried less and less often. */
    this.quickLosses = Date.now() - this.openedAt < STABLE_MS ? this.quickLosses + 1 : 0;
    if (this.quickLosses > 1) await sleep(Math.min(RETRY_DELAY_MS.initial * 2 ** this.quickLosses, RETRY_DELAY_MS.max));
    let delay: number = RETRY_DELAY_MS.initial;
    while (!this.closing) {
      try {
        await waitUntilReady(this.client, delay);
      } catch {
        delay = nextRetryDelay(delay);
        continue;
      }
      if (this.closing) return;
      this.session = this.open();
      this.handlers.onReconnected?.();
      return;
    }
  }

  private topologyProblem(error: ServiceError): string {
    return `the gateway at ${this.target} did not give the tree (${statusName(error.code)}: ${error.details || error.message})`;
  }

  private notConnected(): GatewayCallError {
    return new GatewayCallError(status.UNAVAILABLE, `not connected to the gateway at ${this.target}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
