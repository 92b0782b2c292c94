/**
 * @module One computing node: serves requests for its own id from its dictionary, forwards any
 * other request one hop down by the search-tree rule, and relays replies from its children up.
 *
 * Liveness is aggregated on the way up: every interval a node sends its parent one heartbeat
 * listing the topmost unreachable nodes of its subtree (usually none), and sends one at once
 * when that list changes. So the root's link carries O(1) heartbeats per interval.
 */
import type { Dealer, Router } from 'zeromq';
import {
  decode,
  encode,
  FailReason,
  HEADER_BYTES,
  Kind,
  LinkWriter,
  LivenessMonitor,
  nextHop,
  ProtocolError,
  recordCorr,
  recordKind,
  recordNode,
  routingId,
  splitFrame,
} from './protocol/index.js';
import { ReplyWaves } from './reply-waves.js';

const isRequest = (kind: number): boolean => kind === Kind.Store || kind === Kind.Load || kind === Kind.Ping;
const isReply = (kind: number): boolean =>
  kind === Kind.Value || kind === Kind.Pong || kind === Kind.Fail || kind === Kind.Hello;

export class ComputingNode {
  private readonly store = new Map<string, bigint>();
  /** Routing ids of the connected children, learned from their hellos. */
  private left: string | null = null;
  private right: string | null = null;
  private readonly up: LinkWriter;
  private readonly down: LinkWriter;
  /** Our replies and our children's, on their way up: one message per request frame. */
  private readonly waves: ReplyWaves;
  /** Dropped input by kind of problem; each kind is reported once on stderr. */
  readonly dropped = new Map<string, number>();
  private readonly children = new LivenessMonitor<string>(() => this.subtreeChanged());
  /** The body (i32 ids) of the last heartbeat each child sent. */
  private readonly childDown = new Map<string, Buffer>();
  private beatTimer: NodeJS.Timeout | null = null;
  /**
   * Our heartbeat, encoded once and sent again every interval until the subtree's liveness
   * changes: an idle node allocates nothing per beat.
   */
  private beat: Buffer;

  constructor(
    readonly id: number,
    private readonly uplink: Dealer,
    private readonly downlink: Router,
  ) {
    this.beat = this.buildBeat();
    this.up = new LinkWriter(uplink, (_peer, records) => this.drop('uplink-send-failed', records.length));
    this.down = new LinkWriter(downlink, (_peer, records) => this.bounce(records));
    this.waves = new ReplyWaves((reply) => this.up.push(null, reply));
  }

  /** Runs both reader loops until the sockets close. */
  async run(): Promise<void> {
    await Promise.all([this.readUplink(), this.readDownlink()]);
  }

  stop(): void {
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.children.stop();
    this.waves.stop();
  }

  /** Tells the parent (and through it the control) that this node is connected. */
  hello(corr: number, pid: number): void {
    this.up.push(null, encode({ kind: 'hello', corr, node: this.id, pid }));
  }

  private async readUplink(): Promise<void> {
    for await (const frames of this.uplink) {
      const [frame] = frames;
      if (frames.length !== 1 || frame === undefined) {
        this.drop('uplink wrong frame count');
        continue;
      }
      this.waves.begin();
      const error = splitFrame(frame, this.fromParent);
      this.waves.end();
      if (error) this.drop(`uplink ${error.problem}`);
    }
  }

  private async readDownlink(): Promise<void> {
    for await (const frames of this.downlink) {
      const [peer, frame] = frames;
      if (frames.length !== 2 || peer === undefined || frame === undefined) {
        this.drop('downlink wrong frame count');
        continue;
      }
      const child = peer.toString('latin1');
      this.children.heard(child);
      const error = splitFrame(frame, (rec) => this.fromChild(child, rec));
      if (error) this.drop(`downlink ${error.problem}`);
    }
  }

  private readonly fromParent = (rec: Buffer): void => {
    const kind = recordKind(rec);
    if (kind === Kind.Interval) return this.applyInterval(rec);
    if (!isRequest(kind)) return this.drop('uplink non-request');
    const target = recordNode(rec);
    const hop = nextHop(this.id, target);
    if (hop === 'self') return this.serve(rec);
    const child = hop === 'left' ? this.left : this.right;
    if (child === null) return this.waves.reply(this.fail(rec, FailReason.NoRoute));
    this.down.push(child, rec);
    this.waves.forwarded(rec);
  };

  private fromChild(child: string, rec: Buffer): void {
    const kind = recordKind(rec);
    if (child !== this.left && child !== this.right) {
      // Only a hello from the child itself, for a free child slot, may introduce a new peer:
      // a node accepts frames from its parent link and its two children, nobody else.
      if (kind !== Kind.Hello || routingId(recordNode(rec)) !== child || !this.adopt(child, recordNode(rec))) {
        return this.drop('downlink unknown peer');
      }
    } else if (kind === Kind.Heartbeat) {
      return this.childReported(child, rec);
    } else if (!isReply(kind)) {
      return this.drop('downlink non-reply');
    }
    this.waves.fromBelow(rec);
  }

  /** Takes `child` as the left or right child; false when that slot is taken (or it is us). */
  private adopt(child: string, childId: number): boolean {
    const hop = nextHop(this.id, childId);
    if (hop === 'self' || (hop === 'left' ? this.left : this.right) !== null) return false;
    if (hop === 'left') this.left = child;
    else this.right = child;
    this.children.watch(child);
    // The child learns the interval from us, so a child adopted mid-change is never left behind.
    this.down.push(child, encode({ kind: 'interval', corr: 0, node: childId, intervalMs: this.children.interval }));
    return true;
  }

  private applyInterval(rec: Buffer): void {
    const msg = decode(rec);
    if (msg instanceof ProtocolError || msg.kind !== 'interval') return this.drop('interval malformed');
    this.children.setInterval(msg.intervalMs);
    for (const child of [this.left, this.right]) if (child !== null) this.down.push(child, rec);
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = null;
    if (msg.intervalMs > 0) {
      this.beatTimer = setInterval(() => this.up.pushAlone(null, this.beat), msg.intervalMs);
      this.up.push(null, this.beat);
    }
  }

  private childReported(child: string, rec: Buffer): void {
    const body = rec.subarray(HEADER_BYTES);
    if (body.length % 4 !== 0) return this.drop('heartbeat malformed');
    if (this.childDown.get(child)?.equals(body) === true) return;
    this.childDown.set(child, Buffer.from(body));
    this.subtreeChanged();
  }

  /** The topmost unreachable nodes of this subtree: a silent child hides what lies below it. */
  private buildBeat(): Buffer {
    const down: number[] = [];
    for (const child of [this.left, this.right]) {
      if (child === null) continue;
      if (!this.children.isUp(child)) {
        down.push(Number(child));
        continue;
      }
      const body = this.childDown.get(child);
      if (body !== undefined) for (let at = 0; at < body.length; at += 4) down.push(body.readInt32LE(at));
    }
    return encode({ kind: 'heartbeat', corr: 0, node: this.id, down });
  }

  /** A child came or went, or reported a change below it: tell the parent at once if our view changed. */
  private subtreeChanged(): void {
    const beat = this.buildBeat();
    if (beat.equals(this.beat)) return;
    this.beat = beat;
    if (this.children.interval > 0) this.up.push(null, beat);
  }

  private serve(rec: Buffer): void {
    const msg = decode(rec);
    if (msg instanceof ProtocolError) return this.drop(`request ${msg.problem}`);
    switch (msg.kind) {
      case 'store':
        this.store.set(msg.name, msg.value);
        return this.waves.reply(encode({ kind: 'value', corr: msg.corr, node: this.id, found: true, value: msg.value }));
      case 'load': {
        const value = this.store.get(msg.name);
        return this.waves.reply(
          encode({ kind: 'value', corr: msg.corr, node: this.id, found: value !== undefined, value: value ?? 0n }),
        );
      }
      case 'ping':
        return this.waves.reply(encode({ kind: 'pong', corr: msg.corr, node: this.id }));
      default:
        return this.drop('request unexpected kind');
    }
  }

  /** Requests a child could not take are answered at once, so nobody waits for a deadline. */
  private bounce(records: Buffer[]): void {
    for (const rec of records) {
      if (isRequest(recordKind(rec))) this.waves.fromBelow(this.fail(rec, FailReason.Undeliverable));
    }
  }

  private fail(rec: Buffer, reason: FailReason): Buffer {
    return encode({ kind: 'fail', corr: recordCorr(rec), node: recordNode(rec), reason });
  }

  private drop(kind: string, count = 1): void {
    const seen = this.dropped.get(kind) ?? 0;
    this.dropped.set(kind, seen + count);
    if (seen === 0) process.stderr.write(`arbor-node ${this.id}: dropped input (${kind}); further drops of this kind are only counted\n`);
  }
}
