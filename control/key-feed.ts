/**
 * @module Key events (WatchKeys): every acknowledged store and delete, to the subscribers, in
 * the order each node applied them.
 *
 * The order comes from the sends, not from the replies. The control writes a node's commands in
 * call order, the links are FIFO and the node is single-threaded, so the node applies them in
 * the order they were sent. Their replies, though, may come back in another order: a node holds
 * the replies of one request frame until the whole frame is answered (computing/reply-waves.ts),
 * so a later frame's reply can pass an earlier one that waits for a sibling subtree. So each
 * store or delete takes a place in its node's order when it is sent, and its event leaves once
 * every command sent to that node before it has settled (acknowledged, or failed: a command that
 * failed is not acknowledged and has no event).
 *
 * Places are only taken while someone listens (or while places are still open for that node),
 * so without subscribers a store costs nothing here.
 */
import type { KeyEvent, KeyEventListener } from './api.js';

interface NodeOrder {
  /** The place the next command sent takes. */
  next: number;
  /** The first place not emitted yet. */
  head: number;
  /** Settled places after `head`: their event, or null (failed, or nothing changed). */
  readonly settled: Map<number, KeyEvent | null>;
}

export class KeyFeed {
  private readonly listeners = new Set<KeyEventListener>();
  private readonly nodes = new Map<number, NodeOrder>();

  /** Subscribes; returns the function that unsubscribes. Listeners run synchronously and must not block. */
  subscribe(listener: KeyEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A store or delete to `id` is being sent: its place in the node's order (undefined: nobody listens). */
  sent(id: number): number | undefined {
    let order = this.nodes.get(id);
    if (order === undefined) {
      if (this.listeners.size === 0) return undefined;
      order = { next: 0, head: 0, settled: new Map() };
      this.nodes.set(id, order);
    }
    return order.next++;
  }

  /** The command at `place` of node `id` settled: with its event, or null. Every place taken is settled once. */
  settle(id: number, place: number | undefined, event: KeyEvent | null): void {
    if (place === undefined) return;
    const order = this.nodes.get(id);
    if (order === undefined) return;
    order.settled.set(place, event);
    while (order.settled.has(order.head)) {
      const ready = order.settled.get(order.head) as KeyEvent | null;
      order.settled.delete(order.head);
      order.head++;
      if (ready !== null) this.emit(ready);
    }
    if (order.head === order.next) this.nodes.delete(id);
  }

  private emit(event: KeyEvent): void {
    // A listener that throws is dropped, so one bad subscriber cannot stop the others or the core.
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }
}
