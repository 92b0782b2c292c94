/**
 * @module The control's end of its one ZeroMQ link: the ROUTER the root connects to (two for a
 * moment while a new heartbeat interval takes over; see computing/protocol/downlinks.ts). It
 * accepts frames only from the current root's process, hands each record on, and counts what it
 * drops (logging the first of each kind).
 */
import { Downlinks, type PeerSpec, splitFrame, type TcpListen } from '../computing/protocol/index.js';
import type { Logger } from './logger.js';

export interface RootLinkHandlers {
  /** The root now, and its current process (null: no tree yet). */
  currentRoot: () => PeerSpec | null;
  /** The root's current connection came or went (ROUTER_NOTIFY; `moving`: it left an endpoint being retired). */
  connected: (root: number, connected: boolean, moving: boolean) => void;
  /** A frame arrived from the root: it is alive. */
  heard: (root: number) => void;
  /** One record of a frame from the root. */
  record: (rec: Buffer) => void;
  /** Records that could not be sent (the root is gone, or its queue is full). */
  undeliverable: (records: Buffer[]) => void;
}

export class RootLink {
  /** Malformed or unexpected input, by kind. */
  readonly dropped = new Map<string, number>();
  private readonly down: Downlinks;
  private expected: PeerSpec | null = null;
  private readonly reading: Promise<void>;

  private constructor(
    private readonly handlers: RootLinkHandlers,
    private readonly log: Logger,
  ) {
    this.down = new Downlinks({
      fromChild: (root, frame) => this.fromRoot(root, frame),
      connected: (root, connected, moving) => this.handlers.connected(root, connected, moving),
      stranger: (peer, frame) => {
        // The tree may have a new root (or root process) that nothing was sent to yet.
        this.sync();
        const root = this.down.expectedNode(peer);
        if (root === undefined) this.drop('unknown peer');
        else this.fromRoot(root, frame);
      },
      undeliverable: (records) => {
        this.handlers.undeliverable(records);
        this.drop('undeliverable to the root');
      },
      drop: (kind) => this.drop(kind),
    });
    this.reading = this.down.run();
  }

  /** Binds `endpoint` for the root, with the heartbeat settings of `intervalMs`. */
  static async open(endpoint: string, intervalMs: number, handlers: RootLinkHandlers, log: Logger, tcp?: TcpListen): Promise<RootLink> {
    const link = new RootLink(handlers, log);
    link.tcp = tcp;
    try {
      link.tcpEndpoint = await link.down.open(endpoint, intervalMs, undefined, tcp);
    } catch (error) {
      link.down.close();
      throw error;
    }
    return link;
  }

  send(root: number, record: Buffer): void {
    this.sync();
    if (!this.down.send(root, record)) this.handlers.undeliverable([record]);
  }

  isConnected(node: number): boolean {
    this.sync();
    return this.down.isConnected(node);
  }

  /**
   * A new heartbeat interval: libzmq pings the root at it and cuts it 3 intervals after an
   * unanswered ping (0: off). It takes these settings when it binds, so a new endpoint takes
   * over; the control moves the root to it next, and the old one closes when it is left.
   */
  async moveTo(endpoint: string, intervalMs: number): Promise<void> {
    this.tcpEndpoint = await this.down.open(endpoint, intervalMs, undefined, this.tcp);
  }

  /** Other hosts: where a root on another host connects (tcp with CURVE), once bound. */
  tcpEndpoint: string | undefined;
  private tcp: TcpListen | undefined;

  /** Counts dropped input; the first of each kind is logged, the rest only counted. */
  drop(kind: string): void {
    const seen = this.dropped.get(kind) ?? 0;
    this.dropped.set(kind, seen + 1);
    if (seen === 0) this.log.warn({ kind }, 'dropped input from the tree; further drops of this kind are only counted');
  }

  async close(): Promise<void> {
    this.down.close();
    await this.reading;
  }

  private fromRoot(root: number, frame: Buffer): void {
    this.handlers.heard(root);
    const error = splitFrame(frame, this.handlers.record);
    if (error) this.drop(error.problem);
  }

  /** Expects the root (and process) the tree has now. */
  private sync(): void {
    const root = this.handlers.currentRoot();
    if (root?.id === this.expected?.id && root?.pid === this.expected?.pid) return;
    this.expected = root;
    this.down.expect([root]);
  }
}
