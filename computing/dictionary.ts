/**
 * @module A node's integer dictionary and its write-ahead log (wal.ts): every store goes to the
 * log before its reply leaves (the uplink calls `flush` before each send), and with `fsync` a
 * reply that depends on a store waits until the disk has it (group commit: `DiskGate`).
 */
import { decode, encode, ProtocolError } from '../link/index.js';
import type { StoreLog } from './wal.js';

/** How a request was answered: at once, or once the disk has what the answer depends on. */
export interface Answer {
  reply: Buffer;
  waitsForDisk: boolean;
}

export class Dictionary {
  constructor(
    private readonly entries: Map<string, bigint>,
    private readonly log: StoreLog,
    /** Replies wait until the log is on the disk (group commit), not only handed to the OS. */
    private readonly fsync: boolean,
  ) {}

  /** Names held. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Serves one request record for this node (store, load or ping); a ProtocolError for a body
   * that does not decode. `frameWaits`: an earlier reply of the same frame waits for the disk.
   */
  serve(rec: Buffer, id: number, frameWaits: boolean): Answer | ProtocolError {
    const msg = decode(rec);
    if (msg instanceof ProtocolError) return msg;
    switch (msg.kind) {
      case 'store': {
        const isNew = !this.entries.has(msg.name);
        this.entries.set(msg.name, msg.value);
        this.log.append(msg.name, msg.value, isNew);
        return { reply: encode({ kind: 'value', corr: msg.corr, node: id, found: true, added: isNew, value: msg.value }), waitsForDisk: this.fsync };
      }
      case 'load': {
        const value = this.entries.get(msg.name);
        const reply = encode({ kind: 'value', corr: msg.corr, node: id, found: value !== undefined, added: false, value: value ?? 0n });
        // With fsync, a load never reports a value the disk could still lose.
        return { reply, waitsForDisk: this.fsync && (frameWaits || this.log.unsynced) };
      }
      case 'ping':
        return { reply: encode({ kind: 'pong', corr: msg.corr, node: id }), waitsForDisk: false };
      default:
        return new ProtocolError('unknown-kind', `${msg.kind} is not a request`);
    }
  }

  /** Hands every store so far to the OS (before any reply leaves). Throws when the disk refuses. */
  flush(): void {
    this.log.flush();
  }

  /** Calls `done` once everything stored so far is on the disk. */
  whenDurable(done: () => void): void {
    this.log.whenDurable(done);
  }

  close(): void {
    this.log.close();
  }
}

/** fsync mode: the replies of one request frame that wait for the disk, released together. */
export class DiskGate {
  private waiting: Buffer[] = [];

  constructor(private readonly dictionary: Dictionary) {}

  /** A reply of the frame being read waits for the disk. */
  hold(reply: Buffer): void {
    this.waiting.push(reply);
  }

  /** Some reply of the frame being read waits (a later load of it must wait too). */
  get holding(): boolean {
    return this.waiting.length > 0;
  }

  /** Replies held by earlier frames, still waiting for the disk (the node is not idle). */
  get pending(): number {
    return this.awaitingDisk;
  }

  private awaitingDisk = 0;

  /** The frame is read: its held replies go to `release` once the disk has everything stored so far. */
  frameRead(release: (reply: Buffer) => void): void {
    if (this.waiting.length === 0) return;
    const replies = this.waiting;
    this.waiting = [];
    this.awaitingDisk += replies.length;
    this.dictionary.whenDurable(() => {
      this.awaitingDisk -= replies.length;
      for (const reply of replies) release(reply);
    });
  }
}
