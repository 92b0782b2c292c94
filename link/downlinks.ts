/**
 * @module The ROUTER a node's children connect to (and the control's, for the root): bound once,
 * read by one loop, written by one LinkWriter, accepting frames only from the peers it was told
 * to expect, and routing to the newest connection of each.
 */
import type { Router } from 'zeromq';
import { LinkWriter } from './link-writer.js';
import { ExpectedPeers, type PeerSpec } from './peer-identity.js';
import { type ClusterKeys, curveServerOptions } from './curve.js';
import { downlinkSocket, readEach, setForNextConnections } from './sockets.js';

/** Other hosts: the cluster's keys, and a tcp endpoint (`tcp://IP:*`) to bind as well. */
export interface TcpListen {
  keys: ClusterKeys;
  /** Bound besides the main endpoint (absent: the main endpoint is the tcp one). */
  also?: string;
}

export interface DownlinkHandlers {
  /** A frame from an expected peer. */
  fromChild(child: number, frame: Buffer): void;
  /** An expected peer's current connection came or went. */
  connected(child: number, connected: boolean): void;
  /** A frame from anyone else. */
  stranger(peer: string, frame: Buffer): void;
  /** Records a child could not take (gone, or its queue full). */
  undeliverable(records: Buffer[]): void;
  drop(kind: string): void;
}

export class Downlink {
  private readonly peers = new ExpectedPeers();
  private readonly writer: LinkWriter;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly handlers: DownlinkHandlers,
    private readonly router: Router = downlinkSocket(),
  ) {
    this.writer = new LinkWriter(router, (_peer, records) => handlers.undeliverable(records));
  }

  /**
   * Binds `endpoint`; with `tcp`, every tcp endpoint is a CURVE server with the cluster's keys
   * (an ipc one stays as it is: libzmq takes the security options per bind), and `tcp.also` is
   * bound as well. Resolves with the tcp endpoint bound (its real port), if any; starts reading.
   */
  async bind(endpoint: string, tcp?: TcpListen): Promise<string | undefined> {
    let bound: string | undefined;
    try {
      if (tcp !== undefined && endpoint.startsWith('tcp://')) setForNextConnections(this.router, curveServerOptions(tcp.keys));
      await this.router.bind(endpoint);
      if (endpoint.startsWith('tcp://')) bound = this.router.lastEndpoint ?? undefined;
      if (tcp?.also !== undefined) {
        setForNextConnections(this.router, curveServerOptions(tcp.keys));
        await this.router.bind(tcp.also);
        bound = this.router.lastEndpoint ?? undefined;
      }
    } catch (error) {
      this.router.close();
      throw error;
    }
    this.reading = this.read();
    return bound;
  }

  /** Expects these peers from now on; returns the node ids no longer expected and the new ones. */
  expect(children: readonly (PeerSpec | null)[]): { dropped: number[]; added: number[] } {
    return this.peers.expect(children);
  }

  /** The expected peer this routing id belongs to, or undefined. */
  expectedNode(peer: string): number | undefined {
    return this.peers.expectedNode(peer);
  }

  isConnected(child: number): boolean {
    return this.peers.isConnected(child);
  }

  /** Queues `record` for `child`'s current connection; false when it has none. */
  send(child: number, record: Buffer): boolean {
    const rid = this.peers.routeTo(child);
    if (rid === null) return false;
    this.writer.push(rid, record);
    return true;
  }

  /** Resolves once closed and read to the end. */
  run(): Promise<void> {
    return this.reading;
  }

  close(): void {
    this.router.close();
  }

  /** The routing id of the last message read, and its string (a child sends many in a row). */
  private lastPeerBytes: Buffer | null = null;
  private lastPeer = '';

  private read(): Promise<void> {
    return readEach(this.router, this.fromPeer);
  }

  private readonly fromPeer = (frames: Buffer[]): void => {
    const [peer, frame] = frames;
    if (frames.length !== 2 || peer === undefined || frame === undefined) return this.handlers.drop('downlink wrong frame count');
    const from = this.peerString(peer);
    // ROUTER_NOTIFY: an empty message is a peer connecting, or (when it was) disconnecting.
    if (frame.length === 0) {
      const change = this.peers.notified(from);
      if (change !== undefined) this.handlers.connected(change.node, change.connected);
      return;
    }
    const child = this.peers.expectedNode(from);
    if (child !== undefined) this.handlers.fromChild(child, frame);
    else this.handlers.stranger(from, frame);
  };

  /** `peer` as a string, reusing the last one's when the bytes are the same (no string per message). */
  private peerString(peer: Buffer): string {
    if (this.lastPeerBytes === null || !peer.equals(this.lastPeerBytes)) {
      this.lastPeerBytes = peer;
      this.lastPeer = peer.toString('latin1');
    }
    return this.lastPeer;
  }
}
