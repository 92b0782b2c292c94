/**
 * @module A leader's side of its chain (--replicas 2; the rules are control/chains.ts): its log
 * as the dictionary sees it, which holds every acknowledgement until the follower has the
 * stores in its own log too.
 *
 * `ReplicatedLog` wraps the node's own log (wal.ts). Each append is written locally first (one
 * writev per request frame, as without replication), then sent to the follower as Replicate
 * records numbered by a sequence; the follower answers with the highest number it has logged.
 * The dictionary runs in its "replies wait" mode (as with --fsync), so a reply that depends on
 * a store, and a load made while any store is not yet on both copies, is given only once
 * `whenDurable` says so: a load never shows a value a takeover could lose.
 *
 * A follower given by the control first gets the whole dictionary (a snapshot whose first record
 * says reset), then every later append; once it has acknowledged the snapshot it is caught up
 * and the control is told. While the control says `solo` (its follower was lost) the leader
 * acknowledges alone; a caught-up follower ends that by itself (stricter, so always safe).
 *
 * Fencing: records carry the chain's epoch; a follower with a newer one refuses them and says
 * so; the leader then acknowledges nothing more, and tells the control.
 *
 * Liveness of the follower: with the claim's `lateMs`, a follower that acknowledges nothing for
 * that long while records wait for it (frozen, stuck, cut off) is reported late to the control,
 * once per follower; the control decides what follows (chains.ts). A check that itself ran late
 * (this process's own loop was held up, so acks may be waiting unread) starts the count again.
 * While it catches up from a snapshot the bound is 4 x longer (at least CATCH_UP_LATE_MIN_MS).
 */
import type { Dealer } from 'zeromq';
import {
  type ClusterKeys,
  curveClientOptions,
  decode,
  encode,
  LinkWriter,
  nodeRoutingId,
  ProtocolError,
  REPLICATE_ROOM,
  type ReplicaClaim,
  type ReplicaOp,
  replicaOpBytes,
  setForNextConnections,
  splitFrame,
  uplinkSocket,
} from '../link/index.js';
import type { DiskFullError, StoreLog } from './wal.js';

/** What the replicated log tells the node's owner (the control channel). */
export interface ReplicationEvents {
  caughtUp(epoch: number): void;
  fenced(epoch: number): void;
  late(epoch: number): void;
  drop(kind: string): void;
}

/** A wait for the sequence number `seq` to be on both copies. */
interface Waiter {
  seq: number;
  done: () => void;
}

/** Splits ops into Replicate bodies that each fit in one record. */
export function chunkOps(ops: readonly ReplicaOp[]): ReplicaOp[][] {
  const chunks: ReplicaOp[][] = [];
  let chunk: ReplicaOp[] = [];
  let room = REPLICATE_ROOM;
  for (const op of ops) {
    const bytes = replicaOpBytes(op);
    if (bytes > room && chunk.length > 0) {
      chunks.push(chunk);
      chunk = [];
      room = REPLICATE_ROOM;
    }
    chunk.push(op);
    room -= bytes;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** A follower catching up (its snapshot not all acknowledged) is late only after 4 x lateMs, and at least this. */
export const CATCH_UP_LATE_MIN_MS = 2000;

/**
 * Whether a follower is late (pure): records wait for it (`outstanding`) and it acknowledged
 * nothing since `progressAt` for `lateMs` or more.
 */
export function followerLate(outstanding: boolean, progressAt: number, now: number, lateMs: number): boolean {
  return outstanding && now - progressAt >= lateMs;
}

export class ReplicatedLog implements StoreLog {
  private chain: ReplicaClaim;
  /** Ops appended since the last flush. */
  private ops: ReplicaOp[] = [];
  /** The last sequence number used (sent, or counted while there was no follower). */
  private seq = 0;
  /** The highest sequence number the follower has logged. */
  private acked = 0;
  /** The snapshot's last sequence number until the follower has it (then null: caught up). */
  private snapshotEnd: number | null = null;
  private caughtUp = false;
  private fenced = false;
  private waiters: Waiter[] = [];
  private socket: Dealer | null = null;
  private writer: LinkWriter | null = null;
  private generation = 0;
  /** When the follower last acknowledged something new, or records began to wait for it. */
  private progressAt = 0;
  /** It was reported late (once per follower). */
  private lateSaid = false;
  private lateTimer: NodeJS.Timeout | null = null;
  private lastCheck = 0;

  constructor(
    private readonly id: number,
    private readonly inner: StoreLog,
    /** The dictionary's map, for snapshots: between frames it is exactly what the log holds. */
    private readonly entries: ReadonlyMap<string, bigint>,
    private readonly fsync: boolean,
    chain: ReplicaClaim,
    private readonly events: ReplicationEvents,
    private readonly curve?: ClusterKeys,
  ) {
    this.chain = chain;
    if (chain.follower !== null) this.follow(chain.follower);
  }

  /** The control changed the chain: a new epoch, follower or solo word. */
  set(chain: ReplicaClaim): void {
    const was = this.chain;
    this.chain = chain;
    if (chain.epoch > was.epoch) this.fenced = false;
    if (chain.follower !== was.follower || chain.epoch !== was.epoch) {
      this.caughtUp = false;
      this.snapshotEnd = null;
      this.closeSocket();
      if (chain.follower !== null) this.follow(chain.follower);
    }
    this.release();
  }

  /** Stores wait for the follower: the control did not say solo, or a follower has caught up since. */
  private get paired(): boolean {
    return !this.chain.solo || this.caughtUp;
  }

  append(name: string, value: bigint, isNew: boolean): void {
    this.inner.append(name, value, isNew);
    this.ops.push({ name, value });
  }

  appendDelete(name: string): void {
    this.inner.appendDelete(name);
    this.ops.push({ name });
  }

  flush(): DiskFullError | undefined {
    const ops = this.ops;
    this.ops = [];
    const full = this.inner.flush();
    if (full !== undefined || ops.length === 0) return full;
    // Sent only once the follower has its snapshot base; before that the snapshot will cover them.
    for (const chunk of chunkOps(ops)) this.send(chunk, false);
    return undefined;
  }

  whenDurable(done: () => void): void {
    const seq = this.seq;
    const local = (then: () => void): void => (this.fsync ? this.inner.whenDurable(then) : then());
    local(() => {
      if (!this.fenced && (!this.paired || this.acked >= seq)) return done();
      this.waiters.push({ seq, done });
    });
  }

  get unsynced(): boolean {
    return (this.fsync && this.inner.unsynced) || this.fenced || (this.paired && this.acked < this.seq);
  }

  close(): void {
    this.closeSocket();
    this.inner.close();
  }

  /** Connects to a new follower and sends it the whole dictionary, then every later append. */
  private follow(endpoint: string): void {
    const socket = uplinkSocket();
    setForNextConnections(socket, {
      routingId: nodeRoutingId(this.id, process.pid, this.generation++),
      ...(this.curve !== undefined && endpoint.startsWith('tcp://') && curveClientOptions(this.curve)),
    });
    socket.connect(endpoint);
    this.socket = socket;
    this.progressAt = performance.now();
    this.lateSaid = false;
    this.writer = new LinkWriter(socket, (_peer, records) => this.events.drop(`replicate send failed (${records.length} records)`));
    void this.readAcks(socket);
    const snapshot: ReplicaOp[] = [];
    for (const [name, value] of this.entries) snapshot.push({ name, value });
    const chunks = chunkOps(snapshot);
    if (chunks.length === 0) chunks.push([]);
    chunks.forEach((chunk, i) => this.send(chunk, i === 0));
    this.snapshotEnd = this.seq;
  }

  private send(ops: ReplicaOp[], reset: boolean): void {
    this.seq = (this.seq + 1) >>> 0;
    // No follower: the number is counted all the same, so a wait for it ends with the next snapshot's ack.
    if (this.writer === null) return;
    // Nothing waited for it before this record: the follower's time starts now.
    if (this.acked >= ((this.seq - 1) >>> 0)) this.progressAt = performance.now();
    this.writer.push(null, encode({ kind: 'replicate', corr: this.seq, node: this.id, epoch: this.chain.epoch, reset, ops }));
    this.watchLate();
  }

  private async readAcks(socket: Dealer): Promise<void> {
    try {
      for await (const [frame] of socket) {
        if (socket !== this.socket) return;
        if (frame === undefined) continue;
        const error = splitFrame(frame, (rec) => this.ack(rec));
        if (error !== undefined) this.events.drop(`replica-ack ${error.problem}`);
      }
    } catch {
      // Closed: a new follower, or the process stops.
    }
  }

  private ack(rec: Buffer): void {
    const msg = decode(rec);
    if (msg instanceof ProtocolError || msg.kind !== 'replica-ack') return this.events.drop('replica-ack bad record');
    if (msg.fenced || msg.epoch > this.chain.epoch) {
      if (!this.fenced) this.events.fenced(this.chain.epoch);
      this.fenced = true;
      return;
    }
    if (msg.epoch !== this.chain.epoch || msg.corr > this.seq) return this.events.drop('replica-ack of another epoch');
    if (msg.corr > this.acked) {
      this.acked = msg.corr;
      this.progressAt = performance.now();
    }
    if (this.snapshotEnd !== null && this.acked >= this.snapshotEnd) {
      this.snapshotEnd = null;
      this.caughtUp = true;
      this.events.caughtUp(this.chain.epoch);
    }
    this.release();
  }

  /** Gives every wait that is now on both copies (or needs only this one). */
  private release(): void {
    if (this.fenced || this.waiters.length === 0) return;
    const ready = this.paired ? this.waiters.filter((w) => this.acked >= w.seq) : this.waiters;
    if (ready.length === 0) return;
    this.waiters = this.paired ? this.waiters.filter((w) => this.acked < w.seq) : [];
    for (const w of ready) w.done();
  }

  /**
   * Checks the follower every quarter of `lateMs` while records wait for it (only with
   * `lateMs`; an idle leader has no timer, so it stays quiet).
   */
  private watchLate(): void {
    const lateMs = this.chain.lateMs;
    if (lateMs === undefined || this.lateTimer !== null || this.lateSaid || this.writer === null) return;
    const period = Math.max(1, Math.floor(lateMs / 4));
    this.lastCheck = performance.now();
    this.lateTimer = setTimeout(() => {
      this.lateTimer = null;
      const now = performance.now();
      // This check itself ran late: acks may be waiting unread; the count starts again.
      if (now - this.lastCheck > period + lateMs / 2) this.progressAt = now;
      const outstanding = this.acked < this.seq;
      if (this.fenced || !outstanding) return;
      // Catching up, a follower applies and logs a whole snapshot (megabytes, on a cold process):
      // it gets longer, so a busy machine does not make it late again and again for ever.
      const bound = this.snapshotEnd !== null ? Math.max(4 * lateMs, CATCH_UP_LATE_MIN_MS) : lateMs;
      if (!followerLate(outstanding, this.progressAt, now, bound)) return this.watchLate();
      this.lateSaid = true;
      this.events.late(this.chain.epoch);
    }, period);
    this.lateTimer.unref();
  }

  private closeSocket(): void {
    if (this.lateTimer !== null) clearTimeout(this.lateTimer);
    this.lateTimer = null;
    this.socket?.close();
    this.socket = null;
    this.writer = null;
  }
}
