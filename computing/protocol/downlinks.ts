/**
 * @module A node's side of the links to its children: the ROUTER they connect to, read by one
 * loop and written by one LinkWriter, and which of their connections is current.
 *
 * libzmq takes a listener's heartbeat settings when it binds, and ends accepted connections
 * without a word when it unbinds (and has asserted in that path), so a new heartbeat interval
 * is a new ROUTER on a new endpoint: the control re-points the children at it, and the old one
 * is closed once no child is current on it (or after RETIRE_MS). While both are open, frames
 * of the named children are taken from either.
 */
import type { Router } from 'zeromq';
import { LinkWriter } from './link-writer.js';
import { ExpectedPeers, type PeerSpec } from './peer-identity.js';
import { type ClusterKeys, curveServerOptions } from './curve.js';
import { downlinkSocket, setForNextConnections, setZmtpHeartbeat } from './sockets.js';

/** Other hosts: the cluster's keys, and a tcp endpoint (`tcp://IP:*`) to bind as well. */
export interface TcpListen {
  keys: ClusterKeys;
  /** Bound besides the main endpoint (absent: the main endpoint is the tcp one). */
  also?: string;
}

/**
 * An old ROUTER is closed once no child is current on it, or at the latest this long after a
 * new one took over; then a child still on it is cut. A new interval moves the tree top-down, 8
 * nodes at a time, so a child may move many seconds after its parent: 11 s for a whole 400-node
 * tree here, and with 5 s, 58 children not moved yet were cut and reported unavailable.
 */
const RETIRE_MS = 30_000;

export interface DownlinkHandlers {
  /** A frame from a child the control named. */
  fromChild(child: number, frame: Buffer): void;
  /** A named child's current connection came or went (`moving`: it left a ROUTER being retired). */
  connected(child: number, connected: boolean, moving: boolean): void;
  /** A frame from anyone else. */
  stranger(peer: string, frame: Buffer): void;
  /** Records a child could not take (gone, or its queue full). */
  undeliverable(records: Buffer[]): void;
  drop(kind: string): void;
}

export class Downlinks {
  private readonly peers = new ExpectedPeers<Router>();
  private readonly writers = new Map<Router, LinkWriter>();
  private readonly readers = new Set<Promise<void>>();
  /**
   * The deadline of each ROUTER being retired, cleared when it retires sooner (its children
   * left): a timer left to fire for nothing would wake a quiet node 30 s after every switch.
   */
  private readonly retireTimers = new Map<Router, NodeJS.Timeout>();
  private current: Router | null = null;
  private end: () => void = () => undefined;
  private readonly ended = new Promise<void>((resolve) => (this.end = resolve));

  constructor(private readonly handlers: DownlinkHandlers) {}

  /**
   * Binds a new ROUTER (`router`: one made ahead, not bound yet) at `endpoint` with `intervalMs`'s
   * heartbeats; it takes over from the current one. With `tcp`, every tcp endpoint of it is a
   * CURVE server with the cluster's keys (an ipc one stays as it is: libzmq takes the security
   * options per bind); resolves with the tcp endpoint bound (its real port), if any.
   */
  async open(endpoint: string, intervalMs: number, router: Router = downlinkSocket(), tcp?: TcpListen): Promise<string | undefined> {
    // Before the bind: libzmq takes a listener's heartbeat settings when it binds.
    setZmtpHeartbeat(router, intervalMs);
    let bound: string | undefined;
    try {
      if (tcp !== undefined && endpoint.startsWith('tcp://')) setForNextConnections(router, curveServerOptions(tcp.keys));
      await router.bind(endpoint);
      if (endpoint.startsWith('tcp://')) bound = router.lastEndpoint ?? undefined;
      if (tcp?.also !== undefined) {
        setForNextConnections(router, curveServerOptions(tcp.keys));
        await router.bind(tcp.also);
        bound = router.lastEndpoint ?? undefined;
      }
    } catch (error) {
      router.close();
      throw error;
    }
    const before = this.current;
    this.current = router;
    this.writers.set(router, new LinkWriter(router, (_peer, records) => this.handlers.undeliverable(records)));
    const reading = this.read(router);
    this.readers.add(reading);
    void reading.finally(() => this.readers.delete(reading));
    if (before !== null) {
      const timer = setTimeout(() => this.retire(before), RETIRE_MS).unref();
      this.retireTimers.set(before, timer);
      this.retireWhenIdle(before);
    }
    return bound;
  }

  /** Expects these children from now on; returns the node ids no longer expected and the new ones. */
  expect(children: readonly (PeerSpec | null)[]): { dropped: number[]; added: number[] } {
    return this.peers.expect(children);
  }

  /** The named child this routing id belongs to, or undefined. */
  expectedNode(peer: string): number | undefined {
    return this.peers.expectedNode(peer);
  }

  isConnected(child: number): boolean {
    return this.peers.isConnected(child);
  }

  /** Queues `record` for `child`'s current connection; false when it has none. */
  send(child: number, record: Buffer): boolean {
    const route = this.peers.routeTo(child);
    if (route === null) return false;
    this.writers.get(route.via)?.push(route.rid, record);
    return true;
  }

  /** Resolves once closed, every ROUTER read to the end. */
  async run(): Promise<void> {
    await this.ended;
    await Promise.all([...this.readers]);
  }

  close(): void {
    for (const router of [...this.writers.keys()]) this.retire(router);
    this.end();
  }

  private async read(router: Router): Promise<void> {
    for await (const frames of router) {
      const [peer, frame] = frames;
      if (frames.length !== 2 || peer === undefined || frame === undefined) {
        this.handlers.drop('downlink wrong frame count');
        continue;
      }
      const from = peer.toString('latin1');
      // ROUTER_NOTIFY: an empty message is a peer connecting, or (when it was) disconnecting.
      if (frame.length === 0) {
        const change = this.peers.notified(from, router);
        if (change !== undefined) this.handlers.connected(change.node, change.connected, router !== this.current);
        if (router !== this.current) this.retireWhenIdle(router);
        continue;
      }
      const child = this.peers.expectedNode(from);
      if (child !== undefined) this.handlers.fromChild(child, frame);
      else this.handlers.stranger(from, frame);
    }
  }

  private retireWhenIdle(router: Router): void {
    if (!this.peers.inUse(router)) this.retire(router);
  }

  private retire(router: Router): void {
    clearTimeout(this.retireTimers.get(router));
    this.retireTimers.delete(router);
    if (!this.writers.has(router)) return;
    this.writers.delete(router);
    // A child still current on it (it did not move in time) loses its connection with it.
    for (const child of this.peers.forget(router)) this.handlers.connected(child, false, false);
    if (router === this.current) this.current = null;
    router.close();
  }
}
