/**
 * @module The control's end of the data path: the ROUTER the root connects to (ipc, and tcp with
 * CURVE for a root on another host). It sends request records to the current root, accepts
 * frames only from the root's current process, decodes each record and hands it on: replies
 * to the requests, hellos to the links, `fail` to the requests. It counts what it drops,
 * logging the first of each kind.
 */
import { decode, Downlink, type Message, type PeerSpec, ProtocolError, recordCorr, splitFrame, type TcpListen } from '../link/index.js';
import type { Logger } from '../lib/logger.js';

export interface RootLinkHandlers {
  /** The root now, and its current process (null: no tree yet). */
  currentRoot(): PeerSpec | null;
  /** A reply (value, pong, keys page or fail) to a request. */
  reply(msg: Extract<Message, { kind: 'value' | 'pong' | 'fail' | 'keys-page' }>): void;
  /** A hello: node `node` answered its link `corr`, holding `keys` names. */
  hello(msg: Extract<Message, { kind: 'hello' }>): void;
  /** Records that could not be sent (the root is gone, or its queue is full), by correlation id. */
  undeliverable(corr: number): void;
}

export class RootLink {
  /** Malformed or unexpected input, by kind. */
  readonly dropped = new Map<string, number>();
  private readonly down: Downlink;
  private expected: PeerSpec | null = null;
  /** Other hosts: where a root on another host connects (tcp with CURVE), once bound. */
  tcpEndpoint: string | undefined;

  private constructor(
    private readonly handlers: RootLinkHandlers,
    private readonly log: Logger,
  ) {
    this.down = new Downlink({
      fromChild: (_root, frame) => this.fromRoot(frame),
      connected: () => undefined,
      stranger: (peer, frame) => {
        // The tree may have a new root (or root process) that nothing was sent to yet.
        this.sync();
        if (this.down.expectedNode(peer) === undefined) this.drop('unknown peer');
        else this.fromRoot(frame);
      },
      undeliverable: (records) => {
        for (const rec of records) handlers.undeliverable(recordCorr(rec));
        this.drop('undeliverable to the root');
      },
      drop: (kind) => this.drop(kind),
    });
  }

  /** Binds `endpoint` for the root (and, with other hosts, `tcp.also`). */
  static async open(endpoint: string, handlers: RootLinkHandlers, log: Logger, tcp?: TcpListen): Promise<RootLink> {
    const link = new RootLink(handlers, log);
    link.tcpEndpoint = await link.down.bind(endpoint, tcp);
    return link;
  }

  /** Sends a request record to the root (failing it at once when the root is not connected). */
  send(record: Buffer): void {
    const root = this.sync();
    if (root === null || !this.down.send(root.id, record)) this.handlers.undeliverable(recordCorr(record));
  }

  async close(): Promise<void> {
    this.down.close();
    await this.down.run();
  }

  private fromRoot(frame: Buffer): void {
    const error = splitFrame(frame, this.record);
    if (error) this.drop(error.problem);
  }

  private readonly record = (rec: Buffer): void => {
    const msg = decode(rec);
    if (msg instanceof ProtocolError) return this.drop(msg.problem);
    switch (msg.kind) {
      case 'value':
      case 'pong':
      case 'keys-page':
      case 'fail':
        return this.handlers.reply(msg);
      case 'hello':
        return this.handlers.hello(msg);
      default:
        return this.drop(`unexpected ${msg.kind}`);
    }
  };

  /** Counts dropped input; the first of each kind is logged, the rest only counted. */
  drop(kind: string): void {
    const seen = this.dropped.get(kind) ?? 0;
    this.dropped.set(kind, seen + 1);
    if (seen === 0) this.log.warn({ kind }, 'dropped input from the tree; further drops of this kind are only counted');
  }

  /** Expects the root (and process) the tree has now; returns it. */
  private sync(): PeerSpec | null {
    const root = this.handlers.currentRoot();
    if (root?.id !== this.expected?.id || root?.pid !== this.expected?.pid) {
      this.expected = root;
      this.down.expect([root]);
    }
    return root;
  }
}
