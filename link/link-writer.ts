/**
 * @module The only writer of a ZeroMQ socket: batches records per peer.
 *
 * zeromq.js allows one pending send per socket (a second rejects with EBUSY), so every send of
 * a socket goes through one LinkWriter, and records pushed before a flush leave as one message
 * per peer. The flush runs in `setImmediate`, after the poll phase of the current event-loop
 * turn: everything the process read in that turn (every frame already waiting on every socket)
 * is answered or relayed in one message per peer, with no timer and no added wait when idle.
 * On this design a message costs far more than its bytes (a send() and a wakeup of every
 * process it crosses). A microtask flush sends about one relay per child frame, where this one
 * sends one message per peer per turn (fewer messages, more commands/s; the figures are in the commit that made it);
 * an earlier "1 ms timer when busy" rule did no better than the microtask.
 */
import type { Dealer, Router } from 'zeromq';

/** Keeps a frame well under what a receiver would want to hold at once. */
const MAX_FRAME_BYTES = 64 * 1024;
/** `peer` is null for a Dealer (its one connection), else the Router routing id. */
export type Undeliverable = (peer: string | null, records: Buffer[], error: unknown) => void;

export class LinkWriter {
  private queues = new Map<string | null, Buffer[]>();
  /** The other of the two maps `flush` swaps, empty between flushes (no allocation per flush). */
  private spare = new Map<string | null, Buffer[]>();
  private flushing = false;
  private scheduled = false;
  private readonly peerIds = new Map<string, Buffer>();
  /**
   * A record queued alone (nothing else queued since the last flush): kept here, not in
   * `queues`, so a relay's one record per turn costs no map entry and no array. While it is
   * set, `queues` is empty; a second record moves it into `queues` first (order kept).
   */
  private solePeer: string | null = null;
  private soleRecord: Buffer | null = null;
  /** The record being sent alone (sendAlone), for onUndeliverable if its send fails. */
  private alonePeer: string | null = null;
  private aloneRecord: Buffer | null = null;

  constructor(
    private readonly socket: Dealer | Router,
    private readonly onUndeliverable: Undeliverable,
  ) {}

  /** Queues one record for `peer`; never mutate `record` afterwards (zeromq may send it zero-copy). */
  push(peer: string | null, record: Buffer): void {
    this.enqueue(peer, record);
    if (!this.scheduled && !this.flushing) {
      this.scheduled = true;
      setImmediate(this.startFlush);
    }
  }

  /**
   * Like `push`, for a record that is alone in its event-loop turn (a timer's heartbeat): on an
   * idle link it leaves at once instead of waiting for company, which is most of what an idle
   * node does per interval. Returns the send when it left at once.
   */
  pushAlone(peer: string | null, record: Buffer): Promise<void> | undefined {
    if (!this.idle) {
      this.push(peer, record);
      return undefined;
    }
    this.enqueue(peer, record);
    return this.flush();
  }

  /** Nothing is queued or being sent: a record pushed alone now leaves at once. */
  get idle(): boolean {
    return !this.scheduled && !this.flushing;
  }

  private enqueue(peer: string | null, record: Buffer): void {
    if (this.soleRecord === null && this.queues.size === 0) {
      this.solePeer = peer;
      this.soleRecord = record;
      return;
    }
    this.takeSole();
    let queue = this.queues.get(peer);
    if (queue === undefined) {
      queue = [];
      this.queues.set(peer, queue);
    }
    queue.push(record);
  }

  /** Moves the record queued alone into `queues` (before another is queued, or a flush of all). */
  private takeSole(): void {
    const record = this.soleRecord;
    if (record === null) return;
    this.soleRecord = null;
    this.queues.set(this.solePeer, [record]);
  }

  /**
   * The flush of an event-loop turn. One record for one peer (every hop at one request in
   * flight) is sent straight, without flush's layers of async functions: on a relay node those
   * layers were most of its JavaScript per message.
   */
  private readonly startFlush = (): void => {
    const record = this.soleRecord;
    if (record === null) {
      void this.flush();
      return;
    }
    this.scheduled = false;
    this.flushing = true;
    const peer = this.solePeer;
    this.soleRecord = null;
    this.alonePeer = peer;
    this.aloneRecord = record;
    (peer === null ? this.socket.send(record) : this.socket.send([this.peerId(peer), record])).then(this.sentAlone, this.aloneFailed);
  };

  private readonly sentAlone = (): void => {
    this.alonePeer = null;
    this.aloneRecord = null;
    this.flushing = false;
    if (this.soleRecord !== null || this.queues.size > 0) void this.flush();
  };

  private readonly aloneFailed = (error: unknown): void => {
    this.onUndeliverable(this.alonePeer, [this.aloneRecord as Buffer], error);
    this.sentAlone();
  };

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.flushing = true;
    try {
      for (this.takeSole(); this.queues.size > 0; this.takeSole()) {
        const queues = this.queues;
        this.queues = this.spare;
        this.spare = queues;
        for (const [peer, records] of queues) await this.sendAll(peer, records);
        queues.clear();
      }
    } finally {
      this.flushing = false;
    }
  }

  private async sendAll(peer: string | null, records: Buffer[]): Promise<void> {
    if (records.length === 1) return this.sendFrame(peer, records, records[0] as Buffer);
    let start = 0;
    while (start < records.length) {
      let end = start;
      let bytes = 0;
      while (end < records.length && (end === start || bytes + (records[end] as Buffer).length <= MAX_FRAME_BYTES)) {
        bytes += (records[end] as Buffer).length;
        end++;
      }
      const batch = records.slice(start, end);
      await this.sendFrame(peer, batch, batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, bytes));
      start = end;
    }
  }

  /** Sends `frame`, the records of `batch`, which go to onUndeliverable if the send fails. */
  private async sendFrame(peer: string | null, batch: Buffer[], frame: Buffer): Promise<void> {
    try {
      await (peer === null ? this.socket.send(frame) : this.socket.send([this.peerId(peer), frame]));
    } catch (error) {
      this.onUndeliverable(peer, batch, error);
    }
  }

  private peerId(peer: string): Buffer {
    let id = this.peerIds.get(peer);
    if (id === undefined) {
      id = Buffer.from(peer, 'latin1');
      this.peerIds.set(peer, id);
    }
    return id;
  }
}
