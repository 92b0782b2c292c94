/**
 * @module The console's link to the gateway: the library's client (clients/lib) with the
 * console's policy on top: one Session at a time, and (interactive mode) reconnection when the
 * gateway goes away. The transport (channel, token, Session multiplexing and backpressure,
 * Topology, WatchKeys) is the library's; nothing here speaks gRPC.
 *
 * When the session is lost, `onLost` is told once. Without `reconnect` that is the end (script
 * mode exits; anything sent later gets the lost session's error, as the replies in flight did).
 * With it, the link waits for the channel to be ready again, in windows of 100 ms doubling to
 * 5 s (the channel itself retries within the same bounds, see clients/lib/client.ts), opens a
 * new session and calls `onReconnected`; meanwhile every command is refused at once with
 * `GatewayCallError` ("not connected"), never queued. A refusal no retry cures (`isRetryable`)
 * is not retried, and a session lost again right after it opened waits longer each time before
 * the next try.
 */
import { status } from '@grpc/grpc-js';
import type { CommandBody, Outcome } from './command.js';
import { statusName } from './format.js';
import type { ArborClient } from './lib/client.js';
import type { ArborError, ArborErrorCode } from './lib/errors.js';
import type { ArborSession } from './lib/session.js';
import type { KeyEvent, NodeEvent, Topology, WatchKeysOptions } from './lib/types.js';

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

/** A call the link could not make or the gateway refused, with its gRPC status code (what `--json` prints). */
export class GatewayCallError extends Error {
  override readonly name = 'GatewayCallError';

  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/* The status of a library error the gateway did not answer with (refused before anything was sent). */
const LOCAL_STATUS: Partial<Record<ArborErrorCode, status>> = {
  cancelled: status.CANCELLED,
  'deadline-exceeded': status.DEADLINE_EXCEEDED,
  'invalid-argument': status.INVALID_ARGUMENT,
  unavailable: status.UNAVAILABLE,
};

/** The gRPC status number of a library error, as the console prints it. */
export function statusOf(error: ArborError): status {
  return error.grpcStatus ?? LOCAL_STATUS[error.code] ?? status.UNKNOWN;
}

/** What the console needs from the gateway (the `Dispatcher`'s view of a `GatewayLink`). */
export interface GatewayPort {
  /** Sends a command on the session; rejects with `ArborError` (the session was lost) or `GatewayCallError`. */
  send(command: CommandBody): Promise<Outcome>;
  /** Calls `Topology`; rejects with `GatewayCallError` (or the lost session's error). */
  topology(): Promise<Topology>;
  /** Opens a `WatchKeys` stream (see `KeyStream`). */
  watchKeys(request: WatchKeysOptions, handlers: KeyStreamHandlers): KeyStream;
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
  /** An availability event, sent on the session as it happens. */
  onEvent: (event: NodeEvent) => void;
  /** A session result that answers no command and is no event. */
  onStray: (tag: bigint) => void;
  /**
   * The session was lost (not closed by us). Called once per loss; `retrying` says whether the
   * link reconnects (with `reconnect`, unless the status is one no retry cures).
   */
  onLost: (error: ArborError, retrying: boolean) => void;
  /** A new session is open after a loss (only with `reconnect`). */
  onReconnected?: () => void;
}

/** The next wait between checks while reconnecting: doubled, at most `RETRY_DELAY_MS.max`. */
export function nextRetryDelay(delayMs: number): number {
  return Math.min(delayMs * 2, RETRY_DELAY_MS.max);
}

/** A session (re)opened on demand over one client. */
export class GatewayLink implements GatewayPort {
  private session: ArborSession | undefined;
  private closing = false;
  private openedAt = 0;
  private quickLosses = 0;

  /**
   * @param client a connected client; the link takes it over and closes it
   * @param handlers what the link reports
   * @param reconnect reopen the session after a loss (interactive mode)
   */
  constructor(
    private readonly client: ArborClient,
    private readonly handlers: LinkHandlers,
    private readonly reconnect: boolean,
  ) {
    this.session = this.open();
  }

  /** The gateway's address, for messages. */
  get target(): string {
    return this.client.target;
  }

  send(command: CommandBody): Promise<Outcome> {
    if (this.session === undefined) return Promise.reject(this.notConnected());
    return this.session.command(command);
  }

  async topology(): Promise<Topology> {
    if (this.session === undefined) throw this.notConnected();
    if (this.session.lostWith !== undefined) throw this.session.lostWith;
    try {
      return await this.client.topology({ timeoutMs: TOPOLOGY_TIMEOUT_MS });
    } catch (error) {
      const code = statusOf(error as ArborError);
      throw new GatewayCallError(code, `the gateway at ${this.target} did not give the tree (${statusName(code)}: ${(error as Error).message})`);
    }
  }

  watchKeys(request: WatchKeysOptions, handlers: KeyStreamHandlers): KeyStream {
    const stream = this.client.watchKeys(request);
    let cancelled = false;
    const failure = (error: ArborError): GatewayCallError => new GatewayCallError(statusOf(error), error.message);
    const ready = stream.ready.catch((error: ArborError) => Promise.reject(failure(error)));
    ready.catch(() => undefined);
    void (async () => {
      try {
        for await (const event of stream) handlers.event(event);
        if (!cancelled) handlers.end();
      } catch (error) {
        if (cancelled) return;
        /* The gateway ending the stream (it does so only when it shuts down) is an end, not a failure. */
        const arborError = error as ArborError;
        handlers.end(arborError.grpcStatus === undefined ? undefined : failure(arborError));
      }
    })();
    return {
      ready,
      cancel: () => {
        cancelled = true;
        stream.close();
      },
    };
  }

  /** False while the session's stream is full (see `ArborSession.writable`). */
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

  /** Stops reconnecting, ends the session politely (see `ArborSession.close`), closes the client. */
  async close(): Promise<void> {
    this.closing = true;
    await this.session?.close().catch(() => undefined);
    this.client.close();
  }

  private open(): ArborSession {
    this.openedAt = Date.now();
    const session: ArborSession = this.client.session({
      onEvent: this.handlers.onEvent,
      onStray: this.handlers.onStray,
      onLost: (error) => {
        if (this.closing || this.session !== session) return;
        const retrying = this.reconnect && isRetryable(error.grpcStatus);
        this.handlers.onLost(error, retrying);
        if (!retrying) return; // the lost session stays: later sends get its error
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
        await this.client.waitForReady({ timeoutMs: delay });
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

  private notConnected(): GatewayCallError {
    return new GatewayCallError(status.UNAVAILABLE, `not connected to the gateway at ${this.target}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
