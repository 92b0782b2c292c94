/**
 * @module The socket settings of every link, in one place. The rules they follow are zeromq.js
 * v6's: one pending receive and one pending send per socket (a second gets EBUSY), `linger: 0` so
 * that a process with undelivered messages still exits, and `sendTimeout` on a ROUTER with
 * `mandatory` so that a send to a gone peer fails instead of waiting forever (zeromq.js README
 * and src/index.ts docs; zeromq.js#706, #427).
 */
import type * as Zmq from 'zeromq';
import { zmq } from '../lib/zeromq.js';
import type { LivenessTimings } from './liveness.js';

const { Dealer, Router } = zmq;
type Dealer = Zmq.Dealer;
type Router = Zmq.Router;

/**
 * Queues count batched messages, not requests. Big enough that a burst never hits the mark;
 * the gateway bounds the requests in flight.
 */
const HIGH_WATER_MARK = 100_000;

/**
 * A data link never carries a message bigger than a batch (64 KiB); libzmq drops the connection
 * of a peer that sends more, before any of it reaches JS.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** zeromq.js has no name for ROUTER_NOTIFY (a libzmq draft option, built into its prebuilds). */
const ROUTER_NOTIFY = 97;
const NOTIFY_CONNECT = 1;
const NOTIFY_DISCONNECT = 2;

/** ROUTER_NOTIFY: every connect and disconnect of a peer arrives as an empty message from its routing id. */
function notifyConnections(router: Router): Router {
  (router as unknown as { setInt32Option(option: number, value: number): void }).setInt32Option(ROUTER_NOTIFY, NOTIFY_CONNECT | NOTIFY_DISCONNECT);
  return router;
}

/**
 * The downward side of a data link: the control towards the root, a node towards its children.
 * `mandatory` + `sendTimeout: 0` turn a send to a gone or full peer into an immediate error
 * (so the request fails at once as unavailable) instead of a silent drop or a wait.
 * `linger: 0` so a process never hangs at exit on undeliverable messages. No `handover`: a
 * second connection with a routing id already connected is refused, so nobody can take over a
 * child's (or the root's) place by claiming its id. No heartbeats: liveness has its own link.
 */
export function downlinkSocket(): Router {
  return notifyConnections(
    new Router({
      linger: 0,
      mandatory: true,
      sendTimeout: 0,
      sendHighWaterMark: HIGH_WATER_MARK,
      receiveHighWaterMark: HIGH_WATER_MARK,
      maxMessageSize: MAX_MESSAGE_BYTES,
    }),
  );
}

/**
 * The upward side of a data link: a node towards its parent, identified by its routing id.
 * `sendTimeout: 0`: when the parent is gone for good, messages queue up to the high-water
 * mark and are then dropped at once, never blocking the writer.
 * Reconnects (libzmq's own, in its I/O thread) start after 20 ms and back off to 200 ms: a
 * parent whose process is replaced at the same endpoint is found again within 200 ms of its
 * bind, and an orphan of a parent that stays down costs five attempts a second.
 */
export function uplinkSocket(): Dealer {
  return new Dealer({
    linger: 0,
    sendTimeout: 0,
    reconnectInterval: 20,
    reconnectMaxInterval: 200,
    sendHighWaterMark: HIGH_WATER_MARK,
    receiveHighWaterMark: HIGH_WATER_MARK,
    maxMessageSize: MAX_MESSAGE_BYTES,
  });
}

/**
 * The control's end of the liveness links for one interval (liveness.ts): it pings every node
 * and cuts one that does not answer. libzmq takes a listener's heartbeat options when it binds,
 * so a new interval with other pings is a new one of these. Nothing but notifications is expected on it.
 */
export function livenessRouter(pings: LivenessTimings['router']): Router {
  // Every node reconnects at once when a new one takes over: libzmq's default backlog of 100
  // turned most of 400 such connects away, each then retried after a backoff.
  // handover: a node that reconnects before the ROUTER has dropped its old connection (the
  // node was starved of CPU, the control was slow to read) takes its routing id at once; without
  // it libzmq keeps the new connection nameless, and the node looks cut while it is connected.
  return notifyConnections(new Router({ linger: 0, mandatory: true, handover: true, sendTimeout: 0, maxMessageSize: 1024, backlog: 1024, ...pings }));
}

/**
 * A node's liveness link, named by `routingId` (the node, its process: peer-identity.ts). It
 * answers the control's pings (libzmq does, in its I/O thread), never sends a message, and
 * reconnects by itself after a cut, or when the control rebinds its end for a new interval
 * (after 20 ms, backing off to 200 ms while nothing listens).
 */
export function livenessSocket(routingId: string, extra: Record<string, number | string | boolean> = {}): Dealer {
  return new Dealer({ routingId, linger: 0, reconnectInterval: 20, reconnectMaxInterval: 200, maxMessageSize: 1024, ...extra });
}

/**
 * Sets options that apply to the connections made from now on (libzmq takes them when a
 * connection starts), which is what is meant here, so zeromq.js's warning that they do not take
 * effect at once is not passed on.
 */
export function setForNextConnections(socket: Dealer | Router, options: Record<string, number | string | boolean>): void {
  const emit = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: never[]) => {
    if (!String(warning).includes('Socket option will not take effect')) emit(warning, ...rest);
  });
  try {
    Object.assign(socket, options);
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * Reads `socket` until it closes, giving `each` every message in order; resolves once closed,
 * rejects with the first error of a receive or of `each` (and stops reading). A data link's
 * reader: `for await` over a zeromq.js socket runs an async `next` and a generator resume per
 * message, JavaScript of its own on every hop; here a message costs one `receive()` and its callback.
 */
export function readEach(socket: Dealer | Router, each: (frames: Buffer[]) => void): Promise<void> {
  return new Promise((resolve, rejectWith) => {
    const reject = (error: unknown): void => rejectWith(error instanceof Error ? error : new Error(String(error)));
    const failed = (error: unknown): void => {
      // What zeromq.js's own iterator takes for the end: a receive cut short by the close.
      if (socket.closed && (error as { code?: unknown } | null)?.code === 'EAGAIN') resolve();
      else reject(error);
    };
    const got = (frames: Buffer[]): void => {
      try {
        each(frames);
      } catch (error) {
        reject(error);
        return;
      }
      next();
    };
    const next = (): void => {
      if (socket.closed) return resolve();
      try {
        socket.receive().then(got, failed);
      } catch (error) {
        failed(error);
      }
    };
    next();
  });
}
