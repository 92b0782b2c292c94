/**
 * @module A node's integer dictionary and its write-ahead log (wal.ts): the stores of a request
 * frame are written with one append before any answer of that frame leaves (`commit`), and with
 * `fsync` a reply that depends on a store waits until the disk has it (group commit: `DiskGate`).
 *
 * A store is applied to the dictionary when it is served, so later requests of the same frame
 * see it, and the frame's answers from its first store on are held until the frame is read and
 * its stores written (`endFrame`). If the disk refuses the append, the stores are taken back and
 * the held requests answered again, stores failing `disk full` and loads from the dictionary as
 * it was: no answer ever shows a value the log does not hold.
 */
import { decode, encode, FailReason, KEYS_PAGE_ROOM, type KeyEntry, keyEntryBytes, ProtocolError } from '../link/index.js';
import type { DiskFullError, StoreLog } from './wal.js';

/** How a request was answered: at once, or once the disk has what the answer depends on. */
export interface Answer {
  reply: Buffer;
  waitsForDisk: boolean;
}

/** An answer held until its frame's stores are written, with the request it answers. */
export interface HeldAnswer {
  request: Buffer;
  answer: Answer;
}

/** The end of a frame: the answers it held, to give now, and whether the disk refused its stores. */
export interface FrameEnd {
  readonly held: readonly HeldAnswer[];
  readonly full?: DiskFullError;
}

/** The end of a frame without stores (most frames of a relay node): one object for all of them. */
const NOTHING_HELD: FrameEnd = Object.freeze({ held: Object.freeze([]) });

export class Dictionary {
  /** Stores of the frame being read, oldest first: the name and its value before (undefined: none). */
  private uncommitted: [string, bigint | undefined][] = [];
  /** Answers of the frame being read from its first store on. */
  private held: HeldAnswer[] = [];
  /**
   * The names in byte order, for Keys: references to the map's own strings (no second copy of
   * the dictionary), made on the first Keys after a name was added or deleted, and kept while
   * only values change.
   */
  private sorted: string[] | null = null;
  /**
   * The revision (KeysResponse.revision) is these two as a u64: a random number per process, so a
   * restarted node does not count through the same revisions again, and the stores and deletes
   * applied since it started (mod 2^32; a plain number, so a store costs no bigint).
   */
  private readonly incarnation = Math.floor(Math.random() * 2 ** 32);
  private changes = 0;

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
   * Serves one request record of the frame being read (store, load, ping, delete or keys): its answer, or null
   * when it is held until `endFrame` (a store of the frame is not written yet); a ProtocolError for
   * a body that does not decode. `frameWaits`: an earlier reply of the same frame waits for the disk.
   */
  serve(rec: Buffer, id: number, frameWaits: boolean): Answer | ProtocolError | null {
    const answer = this.answer(rec, id, frameWaits, false);
    if (answer instanceof ProtocolError || this.uncommitted.length === 0) return answer;
    this.held.push({ request: rec, answer });
    return null;
  }

  /**
   * The frame is read: its stores are written with one append, before any of its answers leaves,
   * and the answers it held are returned. When the disk has no room, the stores are taken back
   * out of the dictionary (newest first) and the held requests answered again: stores fail `disk
   * full`, loads see the dictionary as it was. Throws (WalError) only when the log cannot go on.
   */
  endFrame(id: number, frameWaits: boolean): FrameEnd {
    if (this.uncommitted.length === 0) return NOTHING_HELD;
    const stores = this.uncommitted;
    const held = this.held;
    this.uncommitted = [];
    this.held = [];
    const full = this.log.flush();
    if (full === undefined) return { held };
    for (let i = stores.length - 1; i >= 0; i--) {
      const [name, before] = stores[i] as [string, bigint | undefined];
      if (before === undefined) this.entries.delete(name);
      else this.entries.set(name, before);
    }
    // The names may differ from before (a store added one, a delete took one): a new revision.
    this.changed(true);
    const again: HeldAnswer[] = [];
    for (const { request } of held) {
      const answer = this.answer(request, id, frameWaits, true);
      if (!(answer instanceof ProtocolError)) again.push({ request, answer });
    }
    return { held: again, full };
  }

  /** `refuseStores`: the disk has no room, so a store fails (`disk full`) and changes nothing. */
  private answer(rec: Buffer, id: number, frameWaits: boolean, refuseStores: boolean): Answer | ProtocolError {
    const msg = decode(rec);
    if (msg instanceof ProtocolError) return msg;
    switch (msg.kind) {
      case 'store': {
        if (refuseStores) return { reply: encode({ kind: 'fail', corr: msg.corr, node: id, reason: FailReason.DiskFull }), waitsForDisk: false };
        const before = this.entries.get(msg.name);
        const isNew = before === undefined;
        this.uncommitted.push([msg.name, before]);
        this.entries.set(msg.name, msg.value);
        this.log.append(msg.name, msg.value, isNew);
        this.changed(isNew);
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
      case 'delete': {
        const value = this.entries.get(msg.name);
        const found = value !== undefined;
        if (found && refuseStores) return { reply: encode({ kind: 'fail', corr: msg.corr, node: id, reason: FailReason.DiskFull }), waitsForDisk: false };
        if (found) {
          this.uncommitted.push([msg.name, value]);
          this.entries.delete(msg.name);
          this.log.appendDelete(msg.name);
          this.changed(true);
        }
        const reply = encode({ kind: 'value', corr: msg.corr, node: id, found, added: false, value: value ?? 0n });
        // A delete that changed nothing answers like a load (its "not found" may rest on an unsynced delete).
        return { reply, waitsForDisk: this.fsync && (found || frameWaits || this.log.unsynced) };
      }
      case 'keys': {
        const page = this.page(msg.prefix, msg.startAfter, msg.limit);
        const revision = (BigInt(this.incarnation) << 32n) | BigInt(this.changes);
        const reply = encode({ kind: 'keys-page', corr: msg.corr, node: id, more: page.more, revision, entries: page.entries });
        return { reply, waitsForDisk: this.fsync && (frameWaits || this.log.unsynced) };
      }
      default:
        return new ProtocolError('unknown-kind', `${msg.kind} is not a request`);
    }
  }

  /**
   * The names after `startAfter` that start with `prefix`, in byte order: at most `limit`, and
   * at most what one record holds; `more` when a further name matches.
   */
  private page(prefix: string, startAfter: string, limit: number): { entries: KeyEntry[]; more: boolean } {
    const sorted = this.sortedNames();
    const from = startAfter < prefix ? firstAtLeast(sorted, prefix) : firstAfter(sorted, startAfter);
    const entries: KeyEntry[] = [];
    let room = KEYS_PAGE_ROOM;
    for (let i = from; i < sorted.length; i++) {
      const name = sorted[i] as string;
      if (!name.startsWith(prefix)) break;
      if (entries.length === limit || keyEntryBytes(name) > room) return { entries, more: true };
      room -= keyEntryBytes(name);
      entries.push({ name, value: this.entries.get(name) as bigint });
    }
    return { entries, more: false };
  }

  private sortedNames(): string[] {
    // Names are ASCII, so sorting by UTF-16 code unit (the default) is byte order.
    this.sorted ??= [...this.entries.keys()].sort();
    return this.sorted;
  }

  /** A store or delete was applied; `names` when the set of names changed. */
  private changed(names: boolean): void {
    this.changes = (this.changes + 1) >>> 0;
    if (names) this.sorted = null;
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

/** The first index of `sorted` whose name is at least `name`. */
function firstAtLeast(sorted: readonly string[], name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index of `sorted` whose name is after `name`. */
function firstAfter(sorted: readonly string[], name: string): number {
  const at = firstAtLeast(sorted, name);
  return sorted[at] === name ? at + 1 : at;
}
