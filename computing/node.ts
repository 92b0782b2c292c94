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
 * Liveness (protocol/peer-watch.ts): libzmq pings the children every interval and cuts a frozen
 * one; a beat from this node's JavaScript every few seconds shows its event loop runs. Each node
 * sends its parent a report of the topmost unreachable nodes of its subtree when that list
 * changes, and with each beat; so the root's link carries O(1) messages per beat period. A node
 * with nothing to do and only quiet children goes quiet (quiet.ts): an idle tree runs no
 * JavaScript at all.
 */
import type { Dealer, Router } from 'zeromq';
import { Downlinks } from './protocol/downlinks.js';
import { controlLine, type ToNode } from './protocol/control-channel.js';
import { type ClusterKeys, curveClientOptions } from './protocol/curve.js';
import {
  BeatFlag,
  decode,
  encode,
  FailReason,
  HEADER_BYTES,
  Kind,
  LinkWriter,
  monotonicMs,
  nextHop,
  parseRoutingId,
  type PeerSpec,
  PeerWatch,
  ProtocolError,
  recordCorr,
  recordKind,
  recordNode,
  setForNextConnections,
  splitFrame,
  uplinkRoutingId,
} from './protocol/index.js';
import { WakeAlarm } from './quiet.js';
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

/**
 * Idle this long (checked at our beat), a node goes quiet. Short: a node that is woken again
 * soon pays two beats (its wake and its next rest), and an idle tree goes quiet one beat period
 * after its last command.
 */
const REST_AFTER_MS = 1000;

export class ComputingNode {
  private readonly store: Map<string, bigint>;
  /** The children the control gave us (node id and process). */
  private left: PeerSpec | null = null;
  private right: PeerSpec | null = null;
  /** Children we had before (`id:pid`): their late frames are ignored quietly. */
  private readonly former = new Set<string>();
  /** Our uplink's connections so far: each one gets a fresh routing id (peer-identity.ts). */
  private generation = 0;
  /** Frames of peers not named by the control (yet). */
  private readonly strangers = new StrangerFrames((_peer, frames) => this.drop('downlink unknown peer', frames), monotonicMs);
  private parentEndpoint: string | null = null;
  private readonly up: LinkWriter;
  /** The ROUTER(s) our children connect to. */
  private readonly down: Downlinks;
  /** Our replies and our children's, on their way up: one message per request frame. */
  private readonly waves: ReplyWaves;
  /** fsync mode: replies of this frame that wait for the log to reach the disk. */
  private awaitingDisk: Buffer[] = [];
  /** Dropped input by kind of problem; each kind is reported once on stderr. */
  readonly dropped = new Map<string, number>();
  /** Checked from our beat timer (one wakeup per beat period for both). */
  private readonly children = new PeerWatch<number>(() => this.subtreeChanged(), monotonicMs, false);
  private intervalMs = 0;
  /** The body (i32 ids) of the last heartbeat each child sent. */
  private readonly childDown = new Map<number, Buffer>();
  private beatTimer: NodeJS.Timeout | null = null;
  /**
   * Our beat and report, encoded once and sent again every beat period until the subtree's
   * liveness changes: an idle node allocates nothing per beat.
   */
  private beat: Buffer;
  /** We told our parent we beat no more; the alarm wakes us before any JavaScript runs. */
  private quiet = false;
  private readonly wake = new WakeAlarm(() => this.wakeUp());
  /** When we last had work (see `worked`). */
  private lastWorkAt = monotonicMs();

  constructor(
    readonly id: number,
    private readonly uplink: Dealer,
    private readonly dictionary: Dictionary,
    private readonly onFatal: (error: Error) => void,
  ) {
    this.store = dictionary.entries;
    this.beat = this.buildBeat();
    // The log is written before anything leaves upwards: no reply overtakes its store.
    this.up = new LinkWriter(uplink, (_peer, records) => this.drop('uplink-send-failed', records.length), () => this.writeLog());
    this.down = new Downlinks({
      fromChild: (child, frame) => this.fromChildFrame(child, frame),
      connected: (child, connected, moving) => {
        this.worked();
        this.children.connected(child, connected, moving);
      },
      stranger: (peer, frame) => {
        if (!this.isFormer(peer) && !this.strangers.hold(peer, frame)) this.drop('downlink unknown peer');
      },
      undeliverable: (records) => this.bounce(records),
      drop: (kind) => this.drop(kind),
    });
    this.waves = new ReplyWaves((reply) => this.up.push(null, reply));
  }

  /** Other hosts: the cluster's keys (tcp links use CURVE) and the tcp endpoint to bind besides `listen`. */
  private curve: ClusterKeys | undefined;
  private tcpAlso: string | undefined;

  /**
   * Binds the endpoint our children connect to (on `router`, made ahead), with the heartbeat
   * settings of `intervalMs`; with `curve`, tcp endpoints are CURVE servers and `tcpAlso` is bound
   * as well. Resolves with the tcp endpoint bound, if any.
   */
  listen(endpoint: string, intervalMs: number, router?: Router, curve?: ClusterKeys, tcpAlso?: string): Promise<string | undefined> {
    this.curve = curve;
    this.tcpAlso = tcpAlso;
    return this.down.open(endpoint, intervalMs, router, curve === undefined ? undefined : { keys: curve, ...(tcpAlso !== undefined && { also: tcpAlso }) });
  }

  /** Runs the reader loops until the sockets close. */
  async run(): Promise<void> {
    await Promise.all([this.readUplink(), this.down.run()]);
  }

  stop(): void {
    this.writeLog();
    this.down.close();
    this.wake.disarm();
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
    this.worked();
    if (msg.parent !== this.parentEndpoint) this.connectUp(msg.parent);
    this.setChildren(msg.left, msg.right);
    for (const [peer, frames] of this.strangers.takeWhere((p) => this.down.expectedNode(p) !== undefined)) {
      for (const frame of frames) this.fromChildFrame(this.down.expectedNode(peer) as number, frame);
    }
    // Queued on the uplink until it is connected (the socket is not `immediate`).
    this.up.push(null, encode({ kind: 'hello', corr: msg.epoch, node: this.id, pid: process.pid, keys: this.store.size }));
    if (this.intervalMs > 0) this.up.push(null, this.beat);
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
      routingId: uplinkRoutingId(this.id, process.pid, this.generation++),
      // Other hosts: a parent elsewhere is reached as a CURVE client of the cluster; on this host, plain ipc.
      ...(this.curve !== undefined && (endpoint.startsWith('tcp://') ? curveClientOptions(this.curve) : { curveServer: false })),
    });
    this.uplink.connect(endpoint);
  }

  /**
   * The heartbeat interval in force (0: off), as the claim gave it: our endpoint was bound with
   * its ZMTP settings, and our own beat goes up every beat period.
   */
  setInterval(intervalMs: number): void {
    this.intervalMs = intervalMs;
    this.children.setInterval(intervalMs);
    this.quiet = false;
    this.wake.disarm();
    this.worked();
    this.startBeats();
    if (this.children.beatMs > 0 && this.parentEndpoint !== null) this.up.push(null, this.beat);
  }

  /** Beats (and checks of our children) every beat period; they begin once we are linked: before that there is nobody to hear them. */
  private startBeats(): void {
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = null;
    const period = this.children.beatMs;
    if (period > 0) this.beatTimer = setInterval(this.beatTick, period);
  }

  private readonly beatTick = (): void => {
    this.children.tick();
    // After the check, which runs one turn later (peer-watch.ts): a quiet node must leave
    // nothing of its own scheduled, or that would be the first thing to wake it.
    if (this.parentEndpoint !== null) setImmediate(this.restOrBeat);
  };

  private readonly restOrBeat = (): void => {
    if (this.mayRest()) this.rest();
    else void this.up.pushAlone(null, this.beat);
  };

  /**
   * Quiet when nothing happened for REST_AFTER_MS, nothing is on its way (sends, replies),
   * and every child is quiet or already reported: nothing is left for our JavaScript to do or to
   * judge until something arrives, and whatever arrives wakes us first (a write of the log
   * finishing too: its callback is one more callback).
   */
  private mayRest(): boolean {
    return (
      this.intervalMs > 0 &&
      !this.quiet &&
      this.parentEndpoint !== null &&
      monotonicMs() - this.lastWorkAt >= REST_AFTER_MS &&
      this.children.allQuiet &&
      this.up.idle &&
      this.waves.pending === 0 &&
      this.awaitingDisk.length === 0
    );
  }

  /**
   * Tells our parent we are quiet and stops beating. The alarm is armed once the quiet beat has
   * left (its own send must not wake us); if anything was done meanwhile, we wake at once.
   */
  private rest(): void {
    const sent = this.up.pushAlone(null, this.buildBeat(BeatFlag.Quiet));
    if (sent === undefined) return;
    this.quiet = true;
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = null;
    const workAt = this.lastWorkAt;
    void sent.then(() => {
      if (!this.quiet) return;
      if (this.lastWorkAt !== workAt) this.wakeUp();
      else this.wake.arm();
    });
  }

  /** We had work (a frame other than a beat, a control message, a wake): no rest for REST_AFTER_MS. */
  private worked(): void {
    this.lastWorkAt = monotonicMs();
  }

  /** Something is about to run while we are quiet: a beat goes up before it, then beats resume. */
  private wakeUp(): void {
    this.wake.disarm();
    if (!this.quiet) return;
    this.quiet = false;
    this.worked();
    void this.up.pushAlone(null, this.beat);
    this.startBeats();
  }

  /**
   * A new interval for the whole tree (the control sends it top-down, everything held): our
   * uplink moves to our parent's new endpoint, and we open a new one with the new heartbeat
   * settings (downlinks.ts); the control then moves our children to it, which is expected, not
   * reported. Then hello with `epoch` up the tree.
   */
  async changeInterval(msg: Extract<ToNode, { t: 'interval' }>): Promise<void> {
    this.worked();
    if (msg.parent !== this.parentEndpoint) this.connectUp(msg.parent);
    const tcp = await this.down.open(
      msg.listen,
      msg.intervalMs,
      undefined,
      this.curve === undefined ? undefined : { keys: this.curve, ...(this.tcpAlso !== undefined && { also: this.tcpAlso }) },
    );
    // A new tcp port: the control learns it before the hello (children on other hosts move to it).
    if (tcp !== undefined) process.stdout.write(controlLine({ t: 'bound', tcp }));
    this.setInterval(msg.intervalMs);
    this.up.push(null, encode({ kind: 'hello', corr: msg.epoch, node: this.id, pid: process.pid, keys: this.store.size }));
  }

  private setChildren(left: PeerSpec | null, right: PeerSpec | null): void {
    const was = [this.left, this.right].filter((c): c is PeerSpec => c !== null);
    const { dropped, added } = this.down.expect([left, right]);
    for (const id of dropped) {
      this.children.unwatch(id);
      this.childDown.delete(id);
      const old = was.find((c) => c.id === id);
      if (old !== undefined) this.former.add(`${old.id}:${old.pid}`);
    }
    this.left = left;
    this.right = right;
    for (const id of added) {
      const spec = [left, right].find((c) => c?.id === id) as PeerSpec;
      this.former.delete(`${spec.id}:${spec.pid}`);
      this.children.watch(id, this.down.isConnected(id));
    }
    this.subtreeChanged();
  }

  private async readUplink(): Promise<void> {
    for await (const frames of this.uplink) {
      const [frame] = frames;
      if (frames.length !== 1 || frame === undefined) {
        this.drop('uplink wrong frame count');
        continue;
      }
      this.worked();
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

  private isFormer(peer: string): boolean {
    const who = parseRoutingId(peer);
    return who !== undefined && this.former.has(`${who.id}:${who.pid}`);
  }

  private fromChildFrame(child: number, frame: Buffer): void {
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
    if (child === null || !this.down.send(child.id, rec)) return this.waves.reply(this.fail(rec, FailReason.NoRoute));
    this.waves.forwarded(rec);
  };

  private fromChild(child: number, rec: Buffer): void {
    const kind = recordKind(rec);
    if (kind === Kind.Heartbeat) return this.childReported(child, rec);
    this.worked();
    // A hello answers a link, not a request of ours: it never joins a wave.
    if (kind === Kind.Hello) return this.up.push(null, rec);
    if (!isReply(kind)) return this.drop('downlink non-reply');
    this.waves.fromBelow(rec);
  }

  private childReported(child: number, rec: Buffer): void {
    const body = rec.subarray(HEADER_BYTES);
    if (body.length % 4 !== 0) return this.drop('heartbeat malformed');
    if (this.childDown.get(child)?.equals(body) !== true) {
      this.childDown.set(child, Buffer.from(body));
      this.subtreeChanged();
    }
    if ((recordCorr(rec) & BeatFlag.Quiet) === 0) return;
    this.children.rest(child);
    // The last child to go quiet lets us go too: an idle tree goes quiet bottom-up within a beat period.
    if (this.mayRest()) this.rest();
  }

  /** The topmost unreachable nodes of this subtree: a silent child hides what lies below it. */
  private buildBeat(flags = 0): Buffer {
    const down: number[] = [];
    for (const spec of [this.left, this.right]) {
      if (spec === null) continue;
      const child = spec.id;
      if (!this.children.isUp(child)) {
        down.push(child);
        continue;
      }
      const body = this.childDown.get(child);
      if (body !== undefined) for (let at = 0; at < body.length; at += 4) down.push(body.readInt32LE(at));
    }
    return encode({ kind: 'heartbeat', corr: flags, node: this.id, down });
  }

  /** A child came or went, or reported a change below it: tell the parent at once if our view changed. */
  private subtreeChanged(): void {
    const beat = this.buildBeat();
    if (beat.equals(this.beat)) return;
    this.beat = beat;
    if (this.intervalMs > 0) this.up.push(null, beat);
  }

  private serve(rec: Buffer): void {
    const msg = decode(rec);
    if (msg instanceof ProtocolError) return this.drop(`request ${msg.problem}`);
    switch (msg.kind) {
      case 'store': {
        const isNew = !this.store.has(msg.name);
        this.store.set(msg.name, msg.value);
        this.dictionary.log.append(msg.name, msg.value, isNew);
        return this.answer(rec, encode({ kind: 'value', corr: msg.corr, node: this.id, found: true, added: isNew, value: msg.value }), true);
      }
      case 'load': {
        const value = this.store.get(msg.name);
        const reply = encode({ kind: 'value', corr: msg.corr, node: this.id, found: value !== undefined, added: false, value: value ?? 0n });
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
