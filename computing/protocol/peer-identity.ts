/**
 * @module Who is at the other end of a ROUTER's connection: a node's uplink introduces itself as
 * `<id>:<pid>:<generation>`, a fresh routing id for every connection it makes.
 *
 * Why fresh: libzmq's ROUTER refuses a connection whose routing id is still attached to an
 * older pipe, and an ipc pipe a node has just disconnected can linger at the far end until the
 * next operation on the socket, so reconnecting under the same id could be refused for good.
 * Why the pid: a node accepts frames only from the exact processes the control named (id and
 * pid), and routes to whichever of their connections is the newest.
 */

/** One peer the control named: a node id and the pid of its current process (null: none yet). */
export interface PeerSpec {
  id: number;
  pid: number | null;
}

export function uplinkRoutingId(id: number, pid: number, generation: number): string {
  return `${id}:${pid}:${generation}`;
}

/** The node id and pid of a routing id of that form, or undefined. */
export function parseRoutingId(peer: string): { id: number; pid: number } | undefined {
  const match = /^(\d{1,10}):(\d{1,10}):\d{1,10}$/.exec(peer);
  if (match === null) return undefined;
  return { id: Number(match[1]), pid: Number(match[2]) };
}

/**
 * The peers a node expects below it (its two children; for the control, the root), and which of
 * their connections is current, on which of our ROUTERs (`Via`: there are two while a new one
 * takes over). Fed with every ROUTER_NOTIFY message and every frame's routing id.
 */
export class ExpectedPeers<Via = unknown> {
  private expected: PeerSpec[] = [];
  /** Routing ids connected now, per ROUTER (bounded: only the expected ones matter, a few strangers may try). */
  private readonly connected = new Map<Via, Set<string>>();
  /** The newest connected routing id of each expected node, and the ROUTER it is on. */
  private readonly current = new Map<number, { rid: string; via: Via }>();
  /** expectedNode's answers for the expected peers in force. */
  private readonly answers = new Map<string, number | undefined>();

  /** Expects these peers from now on; returns the node ids no longer expected and the new ones. */
  expect(peers: readonly (PeerSpec | null)[]): { dropped: number[]; added: number[] } {
    this.answers.clear();
    const before = new Map(this.expected.map((p) => [p.id, p.pid]));
    this.expected = peers.filter((p): p is PeerSpec => p !== null);
    const after = new Map(this.expected.map((p) => [p.id, p.pid]));
    const dropped = [...before.keys()].filter((id) => !after.has(id) || after.get(id) !== before.get(id));
    const added = [...after.keys()].filter((id) => !before.has(id) || after.get(id) !== before.get(id));
    for (const id of dropped) this.current.delete(id);
    // A named process may have connected before it was named.
    for (const [via, peers] of this.connected) {
      for (const peer of peers) {
        const who = this.expectedNode(peer);
        if (who !== undefined && added.includes(who)) this.current.set(who, { rid: peer, via });
      }
    }
    return { dropped, added };
  }

  /** The expected node this routing id belongs to (any of its connections), or undefined. */
  expectedNode(peer: string): number | undefined {
    // Asked for every frame from below: the answer is kept until the expected peers change
    // (bounded: a ROUTER has a handful of peers, and strangers are capped below).
    const known = this.answers.get(peer);
    if (known !== undefined || this.answers.has(peer)) return known;
    const who = parseRoutingId(peer);
    const node = who !== undefined && this.expected.some((p) => p.id === who.id && p.pid === who.pid) ? who.id : undefined;
    if (this.answers.size >= 256) this.answers.clear();
    this.answers.set(peer, node);
    return node;
  }

  /**
   * A ROUTER_NOTIFY message: the peer connected, or (when it was connected) disconnected.
   * Returns the expected node whose current connection changed, and how; undefined otherwise.
   */
  notified(peer: string, via: Via): { node: number; connected: boolean } | undefined {
    let peers = this.connected.get(via);
    if (peers === undefined) this.connected.set(via, (peers = new Set()));
    const connected = !peers.has(peer);
    if (connected) {
      if (peers.size < 64) peers.add(peer);
    } else peers.delete(peer);
    const node = this.expectedNode(peer);
    if (node === undefined) return undefined;
    if (connected) {
      this.current.set(node, { rid: peer, via });
      return { node, connected };
    }
    // An older connection of the node going away changes nothing.
    const now = this.current.get(node);
    if (now?.rid !== peer || now.via !== via) return undefined;
    this.current.delete(node);
    return { node, connected };
  }

  /** A ROUTER of ours is closed: forget what was connected to it; returns the expected nodes that were current on it. */
  forget(via: Via): number[] {
    this.connected.delete(via);
    const lost: number[] = [];
    for (const [node, at] of this.current) {
      if (at.via !== via) continue;
      this.current.delete(node);
      lost.push(node);
    }
    return lost;
  }

  /** Whether any expected node's current connection is on `via`. */
  inUse(via: Via): boolean {
    for (const at of this.current.values()) if (at.via === via) return true;
    return false;
  }

  /** Where to send to node `id` now (null: not connected). */
  routeTo(id: number): { rid: string; via: Via } | null {
    return this.current.get(id) ?? null;
  }

  isConnected(id: number): boolean {
    return this.current.has(id);
  }
}
