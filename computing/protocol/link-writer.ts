/**
 * @module The only writer of a ZeroMQ socket: batches records per peer per event-loop turn.
 *
 * zeromq.js allows one pending send per socket (a second rejects with EBUSY), so every send of
 * a socket goes through one LinkWriter. Records pushed during one turn leave as one message per
 * peer, which cuts per-message costs on every hop under load.
 */
import type { Dealer, Router } from 'zeromq';

/** Keeps a frame well under what a receiver would want to hold at once. */
const MAX_FRAME_BYTES = 64 * 1024;

/** `peer` is null for a Dealer (its one connection), else the Router routing id. */
export type Undeliverable = (peer: string | null, records: Buffer[], error: unknown) => void;

export class LinkWriter {
  private queues = new Map<string | null, Buffer[]>();
  private flushing = false;
  private scheduled = false;
  private readonly peerIds = new Map<string, Buffer>();

  constructor(
    private readonly socket: Dealer | Router,
    private readonly onUndeliverable: Undeliverable,
  ) {}

  /** Queues one record for `peer`; never mutate `record` afterwards (zeromq may send it zero-copy). */
  push(peer: string | null, record: Buffer): void {
    let queue = this.queues.get(peer);
    if (queue === undefined) {
      queue = [];
      this.queues.set(peer, queue);
    }
    queue.push(record);
    if (!this.scheduled && !this.flushing) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  private readonly flush = async (): Promise<void> => {
    this.scheduled = false;
    this.flushing = true;
    try {
      while (this.queues.size > 0) {
        const queues = this.queues;
        this.queues = new Map();
        for (const [peer, records] of queues) await this.sendAll(peer, records);
      }
    } finally {
      this.flushing = false;
    }
  };

  private async sendAll(peer: string | null, records: Buffer[]): Promise<void> {
    let start = 0;
    while (start < records.length) {
      let end = start;
      let bytes = 0;
      while (end < records.length && (end === start || bytes + (records[end] as Buffer).length <= MAX_FRAME_BYTES)) {
        bytes += (records[end] as Buffer).length;
        end++;
      }
      const batch = records.slice(start, end);
      const frame = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, bytes);
      try {
        await (peer === null ? this.socket.send(frame) : this.socket.send([this.peerId(peer), frame]));
      } catch (error) {
        this.onUndeliverable(peer, batch, error);
      }
      start = end;
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
