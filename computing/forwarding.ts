/**
 * @module A node's place in the data path: its uplink to its parent (or the control) and the
 * ROUTER its children connect to. Requests for its own id go to `serve`; any other goes one hop
 * down by the search-tree rule; replies from below go up in waves (reply-waves.ts).
 *
 * Its place is the control's to say: a `link` names its parent's endpoint and its two children,
 * and it accepts frames only from those (so it can be re-pointed, e.g. under a respawned parent,
 * without a restart). After each link it says hello up the tree, which proves the new path.
 */
import type { Dealer, Router } from 'zeromq';
import {
  type ClusterKeys,
  curveClientOptions,
  Downlink,
  encode,
  FailReason,
  Kind,
  LinkWriter,
  monotonicMs,
  nextHop,
  nodeRoutingId,
  parseRoutingId,
  type PeerSpec,
  readEach,
  recordCorr,
  recordKind,
  recordNode,
  setForNextConnections,
  splitFrame,
  type TcpListen,
  type ToNode,
} from '../link/index.js';
import { ReplyWaves } from './reply-waves.js';
import { StrangerFrames } from './stranger-frames.js';

const isRequest = (kind: number): boolean => kind === Kind.Store || kind === Kind.Load || kind === Kind.Ping || kind === Kind.Keys || kind === Kind.Delete;
const isReply = (kind: number): boolean => kind === Kind.Value || kind === Kind.Pong || kind === Kind.Fail || kind === Kind.KeysPage;

type Link = Extract<ToNode, { t: 'link' }>;

/**
 * How the node answers a request of the frame being read: `now` (the reply joins the frame's
 * wave), or `later` when the answer waits (it goes up with the wave once given to `late`). Both
 * only until the frame is read (`frameRead` returns).
 */
export interface Answering {
  now(reply: Buffer): void;
  later(request: Buffer): void;
}

/** How the node answers, and what the forwarding tells it. */
export interface ForwardingHandlers {
  /** A request for this node, read from the parent. */
  serve(request: Buffer, answer: Answering): void;
  /** A frame from the parent is read (every request of it served or passed on); its answers may still be given. */
  frameRead(answer: Answering): void;
  /** Something arrived (a frame, a child came or went): the node is not idle. */
  worked(): void;
  drop(kind: string, count?: number): void;
}

export class Forwarding {
  /** The children the control gave us (node id and process). */
  private left: PeerSpec | null = null;
  private right: PeerSpec | null = null;
  /** Children we had before (`id:pid`): their late frames are ignored quietly. */
  private readonly former = new Set<string>();
  /** Our uplink's connections so far: each one gets a fresh routing id (peer-identity.ts). */
  private generation = 0;
  private parentEndpoint: string | null = null;
  private readonly up: LinkWriter;
  private readonly down: Downlink;
  /** Our replies and our children's, on their way up: one message per request frame. */
  private readonly waves: ReplyWaves;
  /** Frames of peers not named by the control (yet). */
  private readonly strangers: StrangerFrames;
  private curve: ClusterKeys | undefined;

  constructor(
    readonly id: number,
    private readonly uplink: Dealer,
    router: Router,
    private readonly handlers: ForwardingHandlers,
  ) {
    this.up = new LinkWriter(uplink, (_peer, records) => handlers.drop('uplink-send-failed', records.length));
    this.down = new Downlink(
      {
        fromChild: (child, frame) => this.fromChildFrame(child, frame),
        connected: () => handlers.worked(),
        stranger: (peer, frame) => {
          if (!this.isFormer(peer) && !this.strangers.hold(peer, frame)) handlers.drop('downlink unknown peer');
        },
        undeliverable: (records) => this.bounce(records),
        drop: (kind) => handlers.drop(kind),
      },
      router,
    );
    this.waves = new ReplyWaves((reply) => this.up.push(null, reply));
    this.strangers = new StrangerFrames((_peer, frames) => handlers.drop('downlink unknown peer', frames), monotonicMs);
  }

  /**
   * Binds the endpoint our children connect to; with `curve`, tcp endpoints are CURVE servers
   * and `tcpAlso` is bound as well. Resolves with the tcp endpoint bound, if any.
   */
  listen(endpoint: string, curve?: ClusterKeys, tcpAlso?: string): Promise<string | undefined> {
    this.curve = curve;
    const tcp: TcpListen | undefined = curve === undefined ? undefined : { keys: curve, ...(tcpAlso !== undefined && { also: tcpAlso }) };
    return this.down.bind(endpoint, tcp);
  }

  /** Runs the reader loops until the sockets close. */
  async run(): Promise<void> {
    await Promise.all([this.readUplink(), this.down.run()]);
  }

  /** Nothing is on its way: no send queued, no reply awaited from below. */
  get idle(): boolean {
    return this.up.idle && this.waves.pending === 0;
  }

  /** Releases what is held and closes the children's side (the uplink is the caller's). */
  stop(): void {
    this.waves.stop();
    this.strangers.stop();
    this.down.close();
  }

  /** The control placed us: connect up, take these children, and say hello (`keys` names held) through the new path. */
  link(msg: Link, keys: number): void {
    if (msg.parent !== this.parentEndpoint) this.connectUp(msg.parent);
    this.setChildren(msg.left, msg.right);
    for (const [peer, frames] of this.strangers.takeWhere((p) => this.down.expectedNode(p) !== undefined)) {
      for (const frame of frames) this.fromChildFrame(this.down.expectedNode(peer) as number, frame);
    }
    // Queued on the uplink until it is connected (the socket is not `immediate`).
    this.up.push(null, encode({ kind: 'hello', corr: msg.epoch, node: this.id, pid: process.pid, keys }));
  }

  /** A reply that waited (for the disk): it goes up with its wave, or alone when the wave left. */
  late(reply: Buffer): void {
    this.waves.fromBelow(reply);
  }

  /** Connects the uplink to `endpoint`, leaving the old connection, under a fresh routing id. */
  private connectUp(endpoint: string): void {
    if (this.parentEndpoint !== null) {
      try {
        this.uplink.disconnect(this.parentEndpoint);
      } catch {
        // Not connected (any more): nothing to undo.
      }
    }
    this.parentEndpoint = endpoint;
    setForNextConnections(this.uplink, {
      routingId: nodeRoutingId(this.id, process.pid, this.generation++),
      // Other hosts: a parent elsewhere is reached as a CURVE client of the cluster; on this host, plain ipc.
      ...(this.curve !== undefined && (endpoint.startsWith('tcp://') ? curveClientOptions(this.curve) : { curveServer: false })),
    });
    this.uplink.connect(endpoint);
  }

  private setChildren(left: PeerSpec | null, right: PeerSpec | null): void {
    const was = [this.left, this.right].filter((c): c is PeerSpec => c !== null);
    const { dropped, added } = this.down.expect([left, right]);
    for (const id of dropped) {
      const old = was.find((c) => c.id === id);
      if (old !== undefined) this.former.add(`${old.id}:${old.pid}`);
    }
    this.left = left;
    this.right = right;
    for (const id of added) {
      const spec = [left, right].find((c) => c?.id === id) as PeerSpec;
      this.former.delete(`${spec.id}:${spec.pid}`);
    }
  }

  private readUplink(): Promise<void> {
    return readEach(this.uplink, this.fromUplink);
  }

  private readonly fromUplink = (frames: Buffer[]): void => {
    const [frame] = frames;
    if (frames.length !== 1 || frame === undefined) return this.handlers.drop('uplink wrong frame count');
    this.handlers.worked();
    this.waves.begin();
    const error = splitFrame(frame, this.fromParent);
    this.handlers.frameRead(this.answering);
    this.waves.end();
    if (error) this.handlers.drop(`uplink ${error.problem}`);
  };

  private isFormer(peer: string): boolean {
    const who = parseRoutingId(peer);
    return who !== undefined && this.former.has(`${who.id}:${who.pid}`);
  }

  private fromChildFrame(child: number, frame: Buffer): void {
    this.handlers.worked();
    const error = splitFrame(frame, this.fromChild);
    if (error) this.handlers.drop(`downlink ${error.problem}`);
  }

  private readonly answering: Answering = {
    now: (reply) => this.waves.reply(reply),
    later: (request) => this.waves.forwarded(request),
  };

  private readonly fromParent = (rec: Buffer): void => {
    const kind = recordKind(rec);
    if (!isRequest(kind)) return this.handlers.drop('uplink non-request');
    const target = recordNode(rec);
    const hop = nextHop(this.id, target);
    if (hop === 'self') return this.handlers.serve(rec, this.answering);
    const child = hop === 'left' ? this.left : this.right;
    if (child === null || !this.down.send(child.id, rec)) return this.waves.reply(this.fail(rec, FailReason.NoRoute));
    this.waves.forwarded(rec);
  };

  private readonly fromChild = (rec: Buffer): void => {
    const kind = recordKind(rec);
    // A hello answers a link, not a request of ours: it never joins a wave.
    if (kind === Kind.Hello) return this.up.push(null, rec);
    if (!isReply(kind)) return this.handlers.drop('downlink non-reply');
    this.waves.fromBelow(rec);
  };

  /** Requests a child could not take are answered at once, so nobody waits for a deadline. */
  private bounce(records: Buffer[]): void {
    for (const rec of records) {
      if (isRequest(recordKind(rec))) this.waves.fromBelow(this.fail(rec, FailReason.Undeliverable));
    }
  }

  private fail(rec: Buffer, reason: FailReason): Buffer {
    return encode({ kind: 'fail', corr: recordCorr(rec), node: recordNode(rec), reason });
  }
}
