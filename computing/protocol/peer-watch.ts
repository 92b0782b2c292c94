/**
 * @module Who below one ROUTER is alive: a node's children, or the control's root. Two signals,
 * each as cheap as it can be:
 *
 * - **Stopped or gone.** libzmq's own heartbeats (ZMTP PING/PONG, in its I/O thread: no
 *   JavaScript wakes per beat): the ROUTER pings each peer every T and closes a connection that
 *   stays silent 3T after a ping, so a frozen process is cut 3T to 4T after it stopped (the
 *   assignment's rule: not heard for 4T), and a dead one at once. ROUTER_NOTIFY turns each
 *   connect and disconnect into one message with the peer's routing id (`connected`).
 * - **Event loop blocked** (the process runs, so libzmq still answers pings): every peer's
 *   JavaScript sends a beat every B and this side judges every B; a peer not heard for 2B is
 *   down, so a blocked loop is found within 3B = max(4T, 10 s). B is far longer than T.
 * - **Quiet**: a peer with nothing to do says so (`rest`) and stops beating; its JavaScript no
 *   longer runs at all, so it cannot be blocked, and it is not judged until it is heard again.
 *   Whatever makes its JavaScript run again first sends a beat (computing/quiet.ts). An idle tree
 *   costs only libzmq's pings.
 *
 * A check that runs late (this process was deaf: busy or stopped) judges nobody that round: the
 * beats it missed may be waiting unread. A peer is up when connected and not found silent.
 */
import { monotonicMs } from './clock.js';

/** A peer is down after this many intervals without an answer to a ping (the assignment's rule). */
export const MISSED_INTERVALS = 4;

/**
 * A peer leaving one of our ROUTERs that is being retired (a new heartbeat interval moved the
 * links to a new endpoint) has this long to show up on the new one before it counts as gone.
 */
export const MOVE_GRACE_MS = 1000;

/** How long a blocked event loop may go unnoticed: max(4T, BLOCKED_FLOOR_MS). */
export const BLOCKED_FLOOR_MS = 10_000;

/** The JavaScript beat and check period for interval `intervalMs` (0: off). */
export function beatPeriod(intervalMs: number): number {
  return intervalMs === 0 ? 0 : Math.max(MISSED_INTERVALS * intervalMs, BLOCKED_FLOOR_MS) / 3;
}

/**
 * How long a peer whose connection was cut may take to come back before the cut is a verdict.
 * libzmq runs its expired timers before it reads its sockets, so when *this* process was the one
 * frozen (stopped, or starved of CPU) for 3T, its heartbeat timeouts cut peers whose answers are
 * waiting unread; such a peer's DEALER reconnects by itself within moments (its reconnect
 * interval is 20 ms). The ZMTP timeout is shortened by as much, so a peer that is really
 * stopped is still reported 3T to 4T after it stopped. Half an interval: among 400 nodes on two
 * cores, cuts came back 80 to 130 ms later (at T = 1,000 ms, when the grace was at most 50 ms,
 * each was a false `unavailable` event); a reconnect within T/2 is no outage at any T.
 */
export function reconnectGrace(intervalMs: number): number {
  return intervalMs / 2;
}

/** The ZMTP heartbeat settings of a ROUTER for interval `intervalMs` (0: off). */
export function zmtpHeartbeat(intervalMs: number): { heartbeatInterval: number; heartbeatTimeout: number } {
  if (intervalMs === 0) return { heartbeatInterval: 0, heartbeatTimeout: 0 };
  return { heartbeatInterval: intervalMs, heartbeatTimeout: Math.round((MISSED_INTERVALS - 1) * intervalMs - reconnectGrace(intervalMs)) };
}

interface PeerState {
  connected: boolean;
  lastHeard: number;
  silent: boolean;
  up: boolean;
  /** It said it has nothing to do: no beats until it is heard again (ZMTP still watches it). */
  quiet: boolean;
  /** It was cut, left a ROUTER we are retiring, or has not connected yet: not a verdict unless it is still away then. */
  reconnectTimer: NodeJS.Timeout | null;
}

export type PeerChange<Peer> = (peer: Peer, up: boolean, why: 'connected' | 'disconnected' | 'silent' | 'heard') => void;

export class PeerWatch<Peer> {
  private period = 0;
  private intervalMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private dueAt = 0;
  private readonly peers = new Map<Peer, PeerState>();

  /**
   * @param ownTimer false: the owner calls `tick()` every beat period instead (a node does, from
   *   its beat timer: one wakeup per period for its beat and its check, not two)
   */
  constructor(
    private readonly onChange: PeerChange<Peer>,
    private readonly clock: () => number = monotonicMs,
    private readonly ownTimer = true,
  ) {}

  /** The check of a period, for an owner that drives it (`ownTimer` false); its timer's tick is due now. */
  tick(): void {
    if (!this.ownTimer && this.period > 0 && this.peers.size > 0) this.check();
  }

  /** The beat period in force (0: off). */
  get beatMs(): number {
    return this.period;
  }

  /**
   * Sets the interval (0: off). A peer's beats are judged again once it is heard: a new interval
   * goes down the tree top-down (8 nodes at a time), so a child may get it many seconds after its
   * parent (15 s for the leaves of 400 nodes), and until then it beats at its old interval, or
   * not at all. A child that never takes it is reported by the control (no hello: detached).
   */
  setInterval(intervalMs: number): void {
    this.intervalMs = intervalMs;
    this.period = beatPeriod(intervalMs);
    const now = this.clock();
    for (const [peer, state] of this.peers) {
      state.lastHeard = now;
      state.quiet = true;
      if (state.silent) {
        state.silent = false;
        this.update(peer, state, 'heard');
      }
    }
    this.rearm();
  }

  /**
   * Starts watching `peer`, connected or not (a ROUTER knows which). One not connected yet is on
   * its way (a new child, or one a rotation moved here, is told to connect as we are told to
   * expect it): up for MOVE_GRACE_MS, and down only if it has not connected by then. Reported
   * down at once, every running node a rotation moved flapped unavailable and back while it
   * reconnected (466 false events while a script built 100 nodes with heartbeats at 100 ms). A
   * peer that never comes is still found: after the grace here, and by the control, which waits
   * for its hello through us.
   */
  watch(peer: Peer, connected: boolean): void {
    const state: PeerState = { connected, lastHeard: this.clock(), silent: false, up: true, quiet: false, reconnectTimer: null };
    this.peers.set(peer, state);
    if (!connected) this.goneUnlessBackWithin(peer, state, MOVE_GRACE_MS);
    this.rearm();
  }

  unwatch(peer: Peer): void {
    const state = this.peers.get(peer);
    if (state?.reconnectTimer) clearTimeout(state.reconnectTimer);
    this.peers.delete(peer);
    if (this.peers.size === 0) this.rearm();
  }

  /**
   * ROUTER_NOTIFY said the peer connected or disconnected. A disconnect is a verdict only if the
   * peer is still away after reconnectGrace(T) (see there), or MOVE_GRACE_MS when `moving`: it
   * left a ROUTER of ours that is being retired, and is expected on the new one.
   */
  connected(peer: Peer, connected: boolean, moving = false): void {
    const state = this.peers.get(peer);
    if (state === undefined || state.connected === connected) return;
    state.connected = connected;
    if (state.reconnectTimer) clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    const grace = moving ? MOVE_GRACE_MS : reconnectGrace(this.intervalMs);
    if (connected) {
      state.lastHeard = this.clock();
      state.silent = false;
    } else if (grace > 0) {
      this.goneUnlessBackWithin(peer, state, grace);
      return;
    }
    this.update(peer, state, connected ? 'connected' : 'disconnected');
  }

  /** Any frame from the peer: its event loop runs, and beats until it says it is quiet again. */
  heard(peer: Peer): void {
    const state = this.peers.get(peer);
    if (state === undefined) return;
    state.lastHeard = this.clock();
    state.quiet = false;
    if (!state.silent) return;
    state.silent = false;
    this.update(peer, state, 'heard');
  }

  /**
   * The peer's last frame said it is quiet: it sends nothing until its JavaScript runs again,
   * and then a beat first, so its silence is not judged meanwhile. Kept across a reconnect:
   * libzmq reconnects a quiet peer without waking its JavaScript.
   */
  rest(peer: Peer): void {
    const state = this.peers.get(peer);
    if (state !== undefined) state.quiet = true;
  }

  /** Every peer is quiet or already found down: nothing here needs a check until one is heard. */
  get allQuiet(): boolean {
    for (const state of this.peers.values()) if (!state.quiet && state.up) return false;
    return true;
  }

  isUp(peer: Peer): boolean {
    return this.peers.get(peer)?.up ?? false;
  }

  watches(peer: Peer): boolean {
    return this.peers.has(peer);
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const state of this.peers.values()) if (state.reconnectTimer) clearTimeout(state.reconnectTimer);
    this.peers.clear();
  }

  /** A verdict of `disconnected` in `ms`, unless the peer connects (or is unwatched) before. */
  private goneUnlessBackWithin(peer: Peer, state: PeerState, ms: number): void {
    state.reconnectTimer = setTimeout(() => {
      state.reconnectTimer = null;
      if (this.peers.get(peer) === state) this.update(peer, state, 'disconnected');
    }, ms);
  }

  private update(peer: Peer, state: PeerState, why: Parameters<PeerChange<Peer>>[2]): void {
    const up = state.connected && !state.silent;
    if (up === state.up) return;
    state.up = up;
    this.onChange(peer, up, why);
  }

  private rearm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.period === 0 || this.peers.size === 0) return;
    this.dueAt = this.clock() + this.period;
    if (!this.ownTimer) return;
    this.timer = setTimeout(this.check, this.period);
    this.timer.unref();
  }

  private readonly check = (): void => {
    // One turn later, so frames that already arrived are read first.
    setImmediate(() => {
      const now = this.clock();
      const late = now - this.dueAt > Math.max(100, this.period / 4);
      if (!late) {
        for (const [peer, state] of this.peers) {
          if (state.silent || state.quiet || !state.connected || now - state.lastHeard < 2 * this.period) continue;
          state.silent = true;
          this.update(peer, state, 'silent');
        }
      }
      this.rearm();
    });
  };
}
