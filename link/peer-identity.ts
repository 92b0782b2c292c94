/**
 * @module Who is at the other end of a ROUTER's connection: a node's uplink (and its liveness
 * link) introduces itself as `<id>:<pid>:<generation>`, a fresh routing id for every socket or
 * connection it makes.
 *
 * Why fresh: libzmq's ROUTER refuses a connection whose routing id is still attached to an
 * older pipe, and a pipe a node has just left can linger at the far end for a moment, so
 * reconnecting under the same id could be refused. With a new id the old and the new
 * connection are two peers, each with its own connect and disconnect notification.
 * Why the pid: a node accepts frames only from the exact processes the control named (id and
 * pid), and routes to whichever of their connections is the newest.
 */

/** One peer the control named: a node id and the pid of its current process (null: none yet). */
export interface PeerSpec {
  id: number;
  pid: number | null;
}

export function nodeRoutingId(id: number, pid: number, generation: number): string {
  return `${id}:${pid}:${generation}`;
}

/** The node id, pid and generation of a routing id of that form, or undefined. */
export function parseRoutingId(peer: string): { id: number; pid: number; generation: number } | undefined {
  const match = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(peer);
  if (match === null) return undefined;
  return { id: Number(match[1]), pid: Number(match[2]), generation: Number(match[3]) };
}

/** At most this many routing ids are remembered as connected (only expected ones matter; strangers may try). */
const MAX_CONNECTED = 64;
/** expectedNode's remembered answers (a ROUTER has a handful of peers). */
const MAX_ANSWERS = 256;

/**
 * The peers a node expects below it (its two children; for the control, the root), and which of
 * their connections is current. Fed with every ROUTER_NOTIFY message and every frame's routing id.
 */
export class ExpectedPeers {
  private expected: PeerSpec[] = [];
  /** Routing ids connected now. */
  private readonly connected = new Set<string>();
  /** The newest connected routing id of each expected node. */
  private readonly current = new Map<number, string>();
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
    for (const peer of this.connected) {
      const who = this.expectedNode(peer);
      if (who !== undefined && added.includes(who)) this.current.set(who, peer);
    }
    return { dropped, added };
  }

  /** The expected node this routing id belongs to (any of its connections), or undefined. */
  expectedNode(peer: string): number | undefined {
    // Asked for every frame from below: the answer is kept until the expected peers change.
    const known = this.answers.get(peer);
    if (known !== undefined || this.answers.has(peer)) return known;
    const who = parseRoutingId(peer);
    const node = who !== undefined && this.expected.some((p) => p.id === who.id && p.pid === who.pid) ? who.id : undefined;
    if (this.answers.size >= MAX_ANSWERS) this.answers.clear();
    this.answers.set(peer, node);
    return node;
  }

  /**
   * A ROUTER_NOTIFY message: the peer connected, or (when it was connected) disconnected.
   * Returns the expected node whose current connection changed, and how; undefined otherwise.
   */
  notified(peer: string): { node: number; connected: boolean } | undefined {
    const connected = !this.connected.has(peer);
    if (connected) {
      if (this.connected.size < MAX_CONNECTED) this.connected.add(peer);
    } else this.connected.delete(peer);
    const node = this.expectedNode(peer);
    if (node === undefined) return undefined;
    if (connected) {
      this.current.set(node, peer);
      return { node, connected };
    }
    // An older connection of the node going away changes nothing.
    if (this.current.get(node) !== peer) return undefined;
    this.current.delete(node);
    return { node, connected };
  }

  /** The routing id to send to node `id` by now (null: not connected). */
  routeTo(id: number): string | null {
    return this.current.get(id) ?? null;
  }

  isConnected(id: number): boolean {
    return this.current.has(id);
  }
}
