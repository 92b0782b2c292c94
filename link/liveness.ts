/**
 * @module The liveness rules, derived from one configuration and shared by the control (which
 * judges) and the computing process (which is judged), so both sides always agree on the timings.
 *
 * Two signals, each as cheap as it can be:
 *
 * - **Stopped or gone**: each node has a *liveness link* of its own, a DEALER connected straight
 *   to the control's liveness ROUTER, apart from the data path. The ROUTER pings every node
 *   every T (ZMTP PING/PONG, in libzmq's I/O threads: no JavaScript runs per beat on either
 *   side) and cuts one that answers nothing for `heartbeatTimeout` after a ping; ROUTER_NOTIFY
 *   turns the cut into one message. A cut that reconnects within `graceMs` is no outage (the
 *   control was the one frozen, or the node was switching intervals). A stopped node is cut
 *   T + 2.5T after its last answer at the latest and judged T/2 later: 3T to 4T after it
 *   stopped; a dead one at once (the OS tells the control).
 *   Why the listener pings, not each node (a node's PINGs carrying a TTL, so that a new interval
 *   would need no new listener): libzmq arms the TTL only when a PING arrives, and any message
 *   cancels it until the next PING, so a node stopped after connecting and before its first
 *   PING is never cut (reproduced here whenever it was tried).
 * - **Event loop blocked** (the process runs, so libzmq still answers): the node's JavaScript
 *   writes a beat on its control channel every blockedLoopMs / 3 while it has work (whatever T
 *   is, so a new interval needs nothing from the node), and the control checks every
 *   B = max(4T, blockedLoopMs) / 3; a node not heard for 2B is down, so a blocked loop is found
 *   2B to 3B after it blocked: within max(4T, blockedLoopMs). A node with nothing to do for
 *   `restAfterMs` says it is quiet and beats no more until its JavaScript runs again
 *   (computing/beats.ts): an idle tree runs no JavaScript at all.
 *
 * A new interval: the control binds one new liveness ROUTER with the new settings (libzmq takes
 * a listener's heartbeat options when it binds), points the one path nodes connect to at it and
 * closes the old one; each node's libzmq reconnects by itself (control/liveness.ts). No node's
 * JavaScript runs and nothing on the data path moves.
 */

/** A node is down after this many intervals without a sign of life (the assignment's rule). */
export const MISSED_INTERVALS = 4;

export interface LivenessConfig {
  /** T, the heartbeat interval in ms (0: off). */
  intervalMs: number;
  /** The least time a blocked event loop may go unnoticed: it is found within max(4T, this). */
  blockedLoopMs: number;
  /** A node with nothing to do for this long goes quiet (no JavaScript runs until work comes). */
  restAfterMs: number;
}

export const DEFAULT_LIVENESS: Readonly<LivenessConfig> = { intervalMs: 0, blockedLoopMs: 10_000, restAfterMs: 1000 };

export interface LivenessTimings {
  /** The control's liveness ROUTER for this interval: pings every T, cuts a node silent this long after a ping. */
  router: { heartbeatInterval: number; heartbeatTimeout: number };
  /** A cut liveness link that is connected again within this is no outage. */
  graceMs: number;
  /** B: the control's check of the nodes' beats (0: off). */
  beatMs: number;
  /** A node connected but not heard for this long is down (its event loop is blocked). */
  silentAfterMs: number;
  /** How long a process has to connect its liveness link after its claim or a new interval. */
  connectGraceMs: number;
}

/**
 * A node's liveness DEALER towards another host (tcp) pings as well, whatever the interval, so
 * that a connection the control cut while the network was down is found and made again once it
 * is back (on one host a cut is always seen at both ends).
 */
export const TCP_NODE_PINGS = { heartbeatInterval: 1000, heartbeatTimeout: 3000 } as const;

/** A node's JavaScript beats this often while it has work (the control's check period is never shorter). */
export function nodeBeatMs(config: Pick<LivenessConfig, 'blockedLoopMs'>): number {
  return config.blockedLoopMs / 3;
}

/** Every timing of `config`. */
export function livenessTimings(config: LivenessConfig): LivenessTimings {
  const t = config.intervalMs;
  if (t === 0) {
    return {
      router: { heartbeatInterval: 0, heartbeatTimeout: 0 },
      graceMs: 0,
      beatMs: 0,
      silentAfterMs: 0,
      connectGraceMs: 0,
    };
  }
  const verdictMs = MISSED_INTERVALS * t;
  const graceMs = t / 2;
  const beatMs = Math.max(verdictMs, config.blockedLoopMs) / 3;
  return {
    // The cut comes at most T + timeout after the stop, the verdict a grace later: within 4T.
    router: { heartbeatInterval: t, heartbeatTimeout: Math.round(verdictMs - t - graceMs) },
    graceMs,
    beatMs,
    silentAfterMs: 2 * beatMs,
    connectGraceMs: Math.max(2000, verdictMs),
  };
}

/** Why a node was found down, in the words events and errors use. */
export function silenceReason(config: LivenessConfig): string {
  return `not heard from for ${MISSED_INTERVALS} x ${config.intervalMs} ms`;
}

export function blockedReason(config: LivenessConfig): string {
  return `its event loop did not run for ${Math.round(livenessTimings(config).silentAfterMs)} ms`;
}
