/**
 * @module Frames from a peer the control has not named as a child (yet): held briefly, then
 * either taken (the control's link names it) or dropped.
 *
 * Why: the control tells a parent of a new child and tells the child to connect at the same
 * moment, over two different pipes, so the child's first frames (its hello) can reach the
 * parent a moment before the parent's own link does. Holding them, instead of making every
 * create wait for the parent's acknowledgement first, saves a round trip through the tree per
 * create. Nothing is processed before the control names the peer, and the hold is bounded in
 * peers, frames and time, so a stranger can cost a node only a few kilobytes for two seconds.
 */

export const STRANGER_LIMITS = { peers: 4, framesPerPeer: 64, holdMs: 2000 } as const;

interface Held {
  readonly frames: Buffer[];
  readonly since: number;
}

export class StrangerFrames {
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | null = null;

  /**
   * @param onDropped called with a peer whose frames were dropped (never named in time, or too many)
   * @param clock monotonic milliseconds
   */
  constructor(
    private readonly onDropped: (peer: string, frames: number) => void,
    private readonly clock: () => number,
  ) {}

  /** Holds a frame of `peer`; false (and nothing held) when the bounds are reached. */
  hold(peer: string, frame: Buffer): boolean {
    let entry = this.held.get(peer);
    if (entry === undefined) {
      if (this.held.size >= STRANGER_LIMITS.peers) return false;
      entry = { frames: [], since: this.clock() };
      this.held.set(peer, entry);
      this.arm();
    }
    if (entry.frames.length >= STRANGER_LIMITS.framesPerPeer) return false;
    // The receive buffer may be reused: keep our own copy.
    entry.frames.push(Buffer.from(frame));
    return true;
  }

  /** The frames of every held peer that `named` accepts, peer by peer, in order (and forgets them). */
  takeWhere(named: (peer: string) => boolean): [string, Buffer[]][] {
    const taken: [string, Buffer[]][] = [];
    for (const peer of [...this.held.keys()]) if (named(peer)) taken.push([peer, this.take(peer)]);
    return taken;
  }

  /** The frames `peer` sent before it was named, in order (and forgets them). */
  take(peer: string): Buffer[] {
    const entry = this.held.get(peer);
    if (entry === undefined) return [];
    this.held.delete(peer);
    return entry.frames;
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.held.clear();
  }

  private arm(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => this.expire(), STRANGER_LIMITS.holdMs);
    this.timer.unref();
  }

  private expire(): void {
    this.timer = null;
    const now = this.clock();
    for (const [peer, entry] of this.held) {
      if (now - entry.since < STRANGER_LIMITS.holdMs) continue;
      this.held.delete(peer);
      this.onDropped(peer, entry.frames.length);
    }
    if (this.held.size > 0) this.arm();
  }
}
