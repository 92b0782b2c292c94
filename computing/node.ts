/**
 * @module One computing node: serves requests for its own id from its dictionary, forwards any
 * other request one hop down by the search-tree rule, and relays replies from its children up.
 *
 * Its place is the control's to say: a `link` message on the control channel names its parent's
 * endpoint and its two children, and the node accepts frames only from those (the control is the
 * only author of tree links, so a node can be re-pointed, e.g. under a respawned parent, without
 * a restart). After each link it says hello up the tree, which proves the new path to the control.
 *
 * Stores go to the write-ahead log before their replies leave (see wal.ts).
 *
 * Liveness is aggregated on the way up: every interval a node sends its parent one heartbeat
 * listing the topmost unreachable nodes of its subtree (usually none), and sends one at once
 * when that list changes. So the root's link carries O(1) heartbeats per interval.
 */
import type { Dealer, Router } from 'zeromq';
import type { ToNode } from './protocol/control-channel.js';
import {
  decode,
  encode,
  FailReason,
  HEADER_BYTES,
  Kind,
  LinkWriter,
  LivenessMonitor,
  monotonicMs,
  nextHop,
  ProtocolError,
  recordCorr,
  recordKind,
  recordNode,
  routingId,
  splitFrame,
} from './protocol/index.js';
import { ReplyWaves } from './reply-waves.js';
import { StrangerFrames } from './stranger-frames.js';
import type { StoreLog } from './wal.js';

const isRequest = (kind: number): boolean => kind === Kind.Store || kind === Kind.Load || kind === Kind.Ping;
const isReply = (kind: number): boolean => kind === Kind.Value || kind === Kind.Pong || kind === Kind.Fail;

export interface Dictionary {
  entries: Map<string, bigint>;
  log: StoreLog;
  /** Replies wait until the log is on the disk (group commit), not only handed to the OS. */
  fsync: boolean;
}

type Link = Extract<ToNode, { t: 'link' }>;

export class ComputingNode {
  private readonly store: Map<string, bigint>;
  /** Routing ids of the children the control gave us. */
  private left: string | null = null;
  private right: string | null = null;
  /** Children we had before the last link: their late frames are ignored quietly. */
  private readonly former = new Set<string>();
  /** Frames of peers not named by the control (yet). */
  private readonly strangers = new StrangerFrames((_peer, frames) => this.drop('downlink unknown peer', frames), monotonicMs);
  private parentEndpoint: string | null = null;
  private readonly up: LinkWriter;
  private readonly down: LinkWriter;
  /** Our replies and our children's, on their way up: one message per request frame. */
  private readonly waves: ReplyWaves;
  /** fsync mode: replies of this frame that wait for the log to reach the disk. */
  private awaitingDisk: Buffer[] = [];
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
    private readonly dictionary: Dictionary,
    private readonly onFatal: (error: Error) => void,
  ) {
    this.store = dictionary.entries;
    this.beat = this.buildBeat();
    // The log is written before anything leaves upwards: no reply overtakes its store.
    this.up = new LinkWriter(uplink, (_peer, records) => this.drop('uplink-send-failed', records.length), () => this.writeLog());
    this.down = new LinkWriter(downlink, (_peer, records) => this.bounce(records));
    this.waves = new ReplyWaves((reply) => this.up.push(null, reply));
  }

  /** Runs both reader loops until the sockets close. */
  async run(): Promise<void> {
    await Promise.all([this.readUplink(), this.readDownlink()]);
  }

  stop(): void {
    this.writeLog();
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.children.stop();
    this.waves.stop();
    this.strangers.stop();
  }

  private writeLog(): void {
    try {
      this.dictionary.log.flush();
    } catch (failure) {
      this.onFatal(failure as Error);
    }
  }

  /** The control placed us: connect up, take these children, and say hello through the new path. */
  link(msg: Link): void {
    if (msg.parent !== this.parentEndpoint) {
      if (this.parentEndpoint !== null) {
        try {
          this.uplink.disconnect(this.parentEndpoint);
        } catch {
          // Not connected (any more): nothing to undo.
        }
      }
      this.parentEndpoint = msg.parent;
      this.uplink.connect(msg.parent);
    }
    this.setChildren(msg.left === null ? null : routingId(msg.left), msg.right === null ? null : routingId(msg.right));
    for (const child of [this.left, this.right]) {
      if (child !== null) for (const frame of this.strangers.take(child)) this.fromChildFrame(child, frame);
    }
    // Queued on the uplink until it is connected (the socket is not `immediate`).
    this.up.push(null, encode({ kind: 'hello', corr: msg.epoch, node: this.id, pid: process.pid }));
    if (this.children.interval > 0) this.up.push(null, this.beat);
  }

  /** The heartbeat interval in force (0: off). */
  setInterval(intervalMs: number): void {
    this.children.setInterval(intervalMs);
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = null;
    if (intervalMs > 0) {
      // Beats begin once we are linked: before that there is nobody to hear them.
      this.beatTimer = setInterval(() => {
        if (this.parentEndpoint !== null) this.up.pushAlone(null, this.beat);
      }, intervalMs);
      if (this.parentEndpoint !== null) this.up.push(null, this.beat);
    }
  }

  private setChildren(left: string | null, right: string | null): void {
    const before = [this.left, this.right];
    const after = [left, right];
    for (const child of before) {
      if (child === null || after.includes(child)) continue;
      this.children.unwatch(child);
      this.childDown.delete(child);
      this.former.add(child);
    }
    for (const child of after) {
      if (child === null || before.includes(child)) continue;
      this.former.delete(child);
      this.children.watch(child);
    }
    this.left = left;
    this.right = right;
    this.subtreeChanged();
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
      if (this.awaitingDisk.length > 0) {
        const replies = this.awaitingDisk;
        this.awaitingDisk = [];
        this.dictionary.log.whenDurable(() => {
          for (const reply of replies) this.waves.fromBelow(reply);
        });
      }
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
      if (child === this.left || child === this.right) this.fromChildFrame(child, frame);
      else if (!this.former.has(child) && !this.strangers.hold(child, frame)) this.drop('downlink unknown peer');
    }
  }

  private fromChildFrame(child: string, frame: Buffer): void {
    this.children.heard(child);
    const error = splitFrame(frame, (rec) => this.fromChild(child, rec));
    if (error) this.drop(`downlink ${error.problem}`);
  }

  private readonly fromParent = (rec: Buffer): void => {
    const kind = recordKind(rec);
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
    if (kind === Kind.Heartbeat) return this.childReported(child, rec);
    // A hello answers a link, not a request of ours: it never joins a wave.
    if (kind === Kind.Hello) return this.up.push(null, rec);
    if (!isReply(kind)) return this.drop('downlink non-reply');
    this.waves.fromBelow(rec);
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
      case 'store': {
        const isNew = !this.store.has(msg.name);
        this.store.set(msg.name, msg.value);
        this.dictionary.log.append(msg.name, msg.value, isNew);
        return this.answer(rec, encode({ kind: 'value', corr: msg.corr, node: this.id, found: true, value: msg.value }), true);
      }
      case 'load': {
        const value = this.store.get(msg.name);
        const reply = encode({ kind: 'value', corr: msg.corr, node: this.id, found: value !== undefined, value: value ?? 0n });
        // With fsync, a load never reports a value the disk could still lose.
        return this.answer(rec, reply, this.awaitingDisk.length > 0 || this.dictionary.log.unsynced);
      }
      case 'ping':
        return this.waves.reply(encode({ kind: 'pong', corr: msg.corr, node: this.id }));
      default:
        return this.drop('request unexpected kind');
    }
  }

  /** Our reply to `request`: part of this frame's wave, or (fsync) once the disk has what it depends on. */
  private answer(request: Buffer, reply: Buffer, needsDisk: boolean): void {
    if (!this.dictionary.fsync || !needsDisk) return this.waves.reply(reply);
    this.waves.forwarded(request);
    this.awaitingDisk.push(reply);
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
