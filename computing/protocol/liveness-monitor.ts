/**
 * @module The failure detector of one link end: a peer not heard from for 4 x the heartbeat
 * interval is down; heard again, it is up. Used by every node for its children and by the
 * control for the root, so the rule is written once.
 *
 * Timing uses a monotonic clock. A timer that fires late means this process could not read
 * its sockets meanwhile (a busy or stopped event loop), so the peer's heartbeats may be
 * waiting unread: that lateness is forgiven (added to the peer's window) and the peer gets one
 * more interval to be heard before it is judged. The lateness is measured against when the
 * timer was due, not against the peer's silence, so the forgiveness is given once per deaf
 * moment and a peer that really is silent is still found down. Each verdict also waits one
 * `setImmediate`, so messages that already arrived are read first.
 */
import { monotonicMs } from './clock.js';

/** A peer is down after this many intervals of silence (the assignment's rule). */
export const MISSED_INTERVALS = 4;

interface PeerState {
  lastHeard: number;
  /** Silence forgiven because this process was deaf (its timers fired late). */
  graceMs: number;
  up: boolean;
  timer: NodeJS.Timeout | null;
  /** The timer's length, and when it is due (to tell how late it fired). */
  armedMs: number;
  dueAt: number;
}

export type LivenessChange<Peer> = (peer: Peer, up: boolean, silentMs: number) => void;

export class LivenessMonitor<Peer> {
  private intervalMs = 0;
  private readonly peers = new Map<Peer, PeerState>();

  constructor(
    private readonly onChange: LivenessChange<Peer>,
    private readonly clock: () => number = monotonicMs,
  ) {}

  get interval(): number {
    return this.intervalMs;
  }

  /**
   * Sets the heartbeat interval (0: off). Every peer gets a fresh window; with heartbeats off,
   * nothing can be concluded from silence, so peers that were down count as up again.
   */
  setInterval(ms: number): void {
    this.intervalMs = ms;
    for (const [peer, state] of this.peers) {
      state.lastHeard = this.clock();
      state.graceMs = 0;
      if (!state.up) this.mark(peer, state, true);
      this.arm(peer, state, this.limit);
    }
  }

  watch(peer: Peer): void {
    this.unwatch(peer);
    const state: PeerState = { lastHeard: this.clock(), graceMs: 0, up: true, timer: null, armedMs: 0, dueAt: 0 };
    this.peers.set(peer, state);
    this.arm(peer, state, this.limit);
  }

  unwatch(peer: Peer): void {
    const state = this.peers.get(peer);
    if (state?.timer) clearTimeout(state.timer);
    this.peers.delete(peer);
  }

  /** Any message from the peer proves it alive. */
  heard(peer: Peer): void {
    const state = this.peers.get(peer);
    if (state === undefined) return;
    state.lastHeard = this.clock();
    state.graceMs = 0;
    if (!state.up) this.mark(peer, state, true);
    if (state.timer !== null) {
      state.timer.refresh();
      state.dueAt = state.lastHeard + state.armedMs;
    } else this.arm(peer, state, this.limit);
  }

  isUp(peer: Peer): boolean {
    return this.peers.get(peer)?.up ?? false;
  }

  stop(): void {
    for (const peer of [...this.peers.keys()]) this.unwatch(peer);
  }

  private get limit(): number {
    return MISSED_INTERVALS * this.intervalMs;
  }

  /** Lateness above this means the loop was blocked, not that the peer was silent. */
  private get tolerance(): number {
    return Math.max(20, this.intervalMs / 4);
  }

  private arm(peer: Peer, state: PeerState, ms: number): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
    if (this.intervalMs === 0 || !state.up) return;
    state.armedMs = ms;
    state.dueAt = this.clock() + ms;
    state.timer = setTimeout(() => setImmediate(() => this.verdict(peer, state)), ms);
    state.timer.unref();
  }

  private verdict(peer: Peer, state: PeerState): void {
    if (this.peers.get(peer) !== state || this.intervalMs === 0 || !state.up) return;
    const now = this.clock();
    const lateness = now - state.dueAt;
    // We were deaf for `lateness`: forgive it, and give the peer one more interval to be heard.
    if (lateness > this.tolerance) state.graceMs += lateness + this.intervalMs;
    const due = this.limit + state.graceMs;
    const silent = now - state.lastHeard;
    if (silent < due) return this.arm(peer, state, due - silent);
    state.timer = null;
    this.mark(peer, state, false);
  }

  private mark(peer: Peer, state: PeerState, up: boolean): void {
    state.up = up;
    this.onChange(peer, up, this.clock() - state.lastHeard);
  }
}
