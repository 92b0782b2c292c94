/**
 * @module A node's write-ahead log on disk: every store is appended before it is acknowledged,
 * and the dictionary is rebuilt from it when the process starts.
 *
 * "Acknowledged" means handed to the OS: `flush()` does one `writev(2)` for every store of an
 * event-loop turn, and the node calls it before anything leaves on its uplink (so before any
 * reply), so a `kill -9` of any arbor process loses nothing (LevelDB and SQLite's WAL mode give
 * the same promise without a sync). A turn's stores are also flushed by themselves at the end
 * of the turn. With `fsync`, `whenDurable()` adds group commit: one `fdatasync` in flight at a
 * time, and the stores that arrive meanwhile share the next one, so replies wait for the disk
 * but stores never queue behind one sync each.
 *
 * Compaction: once the file is COMPACT_RATIO times the live data and over COMPACT_MIN_BYTES, a
 * snapshot (one put per live name) is written to a temporary file, synced, and renamed over the
 * log; a crash at any point leaves either the old log or the new one, both complete.
 *
 * Deletes: a delete is a record of its own, appended (and acknowledged) like a store, so replay
 * applies it in its place among the stores. A snapshot writes only the live names and no delete
 * at all: it replaces the whole file, so no store older than it is left anywhere to bring a
 * deleted name back.
 */
import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { syncDirectory } from '../lib/sync-directory.js';
import { deleteRecord, putRecord, putRecordBytes, scanLog, WAL_MAGIC } from './wal-format.js';

export const COMPACT_MIN_BYTES = 1024 * 1024;
export const COMPACT_RATIO = 4;

/** The log cannot be used: corrupt before its tail, or the disk refused a write. */
export class WalError extends Error {
  override readonly name = 'WalError';
}

/** What the node needs of its log; a node without one keeps its dictionary in memory only. */
export interface StoreLog {
  append(name: string, value: bigint, isNew: boolean): void;
  /** A delete of `name`, which had a value. */
  appendDelete(name: string): void;
  flush(): void;
  whenDurable(done: () => void): void;
  readonly unsynced: boolean;
  close(): void;
}

/** No log: nothing is written, everything is "durable" at once. */
export const NO_LOG: StoreLog = {
  append: () => undefined,
  appendDelete: () => undefined,
  flush: () => undefined,
  whenDurable: (done) => done(),
  unsynced: false,
  close: () => undefined,
};

export interface Opened {
  log: WriteAheadLog;
  /** The dictionary as the log left it; the log keeps a reference to write snapshots. */
  entries: Map<string, bigint>;
  /** Bytes of a torn tail that were cut off (0 when the log was whole). */
  cutBytes: number;
}

export class WriteAheadLog implements StoreLog {
  private fd: number;
  private pending: Buffer[] = [];
  private fileBytes: number;
  private liveBytes: number;
  /** Written since the last sync started. */
  private dirty = false;
  private syncing = false;
  private closed = false;
  /** Waiting for the sync in flight. */
  private syncWaiters: (() => void)[] = [];
  /** Waiting for the next sync (their data came after the one in flight started). */
  private nextWaiters: (() => void)[] = [];

  private constructor(
    private readonly path: string,
    private readonly entries: Map<string, bigint>,
    fileBytes: number,
    private readonly onFatal: (error: WalError) => void,
  ) {
    this.fd = openSync(path, 'a', 0o600);
    this.fileBytes = fileBytes;
    this.liveBytes = 0;
    for (const name of entries.keys()) this.liveBytes += putRecordBytes(name);
  }

  /**
   * Opens the log at `path` (created when missing; emptied first when `fresh`), cutting a torn
   * tail. Throws WalError when the log is corrupt before its tail.
   */
  static open(path: string, options: { fresh: boolean }, onFatal: (error: WalError) => void): Opened {
    if (options.fresh) rmSync(path, { force: true });
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new WalError(`cannot read log ${path}: ${(error as Error).message}`);
      bytes = Buffer.alloc(0);
    }
    const scanned = scanLog(bytes);
    if (scanned.problem?.kind === 'corrupt') {
      throw new WalError(`log ${path} is corrupt: ${scanned.problem.what}; refusing to start rather than lose what follows it`);
    }
    const cutBytes = bytes.length - scanned.validBytes;
    if (cutBytes > 0) ftruncateLog(path, scanned.validBytes);
    const log = new WriteAheadLog(path, scanned.entries, scanned.validBytes, onFatal);
    if (scanned.validBytes === 0) log.writeAll([WAL_MAGIC]);
    return { log, entries: scanned.entries, cutBytes };
  }

  /** Queues the record of a put; `isNew` when the name had no value (for the live-data count). */
  append(name: string, value: bigint, isNew: boolean): void {
    const record = putRecord(name, value);
    if (this.pending.length === 0) setImmediate(this.flushAtTurnEnd);
    this.pending.push(record);
    if (isNew) this.liveBytes += record.length;
  }

  /** Queues the record of a delete of `name` (it had a value: its put leaves the live data). */
  appendDelete(name: string): void {
    const record = deleteRecord(name);
    if (this.pending.length === 0) setImmediate(this.flushAtTurnEnd);
    this.pending.push(record);
    this.liveBytes -= putRecordBytes(name);
  }

  /** Hands every queued record to the OS in one writev; compacts when the log has grown enough. */
  flush(): void {
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    this.writeAll(records);
    if (!this.syncing && this.fileBytes > COMPACT_MIN_BYTES && this.fileBytes > COMPACT_RATIO * this.liveBytes) this.compact();
    if (this.nextWaiters.length > 0) this.startSync();
  }

  /** Calls `done` once everything appended so far is on the disk (group commit). */
  whenDurable(done: () => void): void {
    if (this.pending.length > 0 || this.dirty) {
      this.nextWaiters.push(done);
      // Queued records start the sync when they are flushed (at the latest at the turn's end).
      if (this.pending.length === 0) this.startSync();
    } else if (this.syncing) this.syncWaiters.push(done);
    else done();
  }

  /** Something appended is not on the disk yet. */
  get unsynced(): boolean {
    return this.pending.length > 0 || this.dirty || this.syncing;
  }

  private readonly flushAtTurnEnd = (): void => {
    if (this.closed) return;
    try {
      this.flush();
    } catch (error) {
      this.onFatal(error instanceof WalError ? error : new WalError(String(error)));
    }
  };

  /** Closes the file; records never flushed were never acknowledged and are dropped. */
  close(): void {
    this.pending = [];
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private writeAll(buffers: Buffer[]): void {
    let total = 0;
    for (const b of buffers) total += b.length;
    try {
      const written = buffers.length === 1 ? writeSync(this.fd, buffers[0] as Buffer) : writevSync(this.fd, buffers);
      // A regular file takes everything or fails; a short write is the disk filling up.
      if (written !== total) throw new Error(`short write: ${written} of ${total} bytes (disk full?)`);
    } catch (error) {
      throw new WalError(`cannot append to log ${this.path}: ${(error as Error).message}`);
    }
    this.fileBytes += total;
    this.dirty = true;
  }

  private startSync(): void {
    if (this.syncing || !this.dirty) return;
    this.syncing = true;
    this.dirty = false;
    this.syncWaiters = this.nextWaiters;
    this.nextWaiters = [];
    fdatasync(this.fd, (error) => {
      this.syncing = false;
      if (error) return this.onFatal(new WalError(`cannot sync log ${this.path}: ${error.message}`));
      const done = this.syncWaiters;
      this.syncWaiters = [];
      for (const waiter of done) waiter();
      if (this.dirty) this.startSync();
    });
  }

  /** Snapshot → temporary file → sync → rename over the log → sync the directory. */
  private compact(): void {
    const tmp = `${this.path}.compact`;
    const records: Buffer[] = [WAL_MAGIC];
    let bytes = WAL_MAGIC.length;
    for (const [name, value] of this.entries) {
      const record = putRecord(name, value);
      records.push(record);
      bytes += record.length;
    }
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writevSync(fd, records);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      syncDirectory(dirname(this.path));
    } catch (error) {
      rmSync(tmp, { force: true });
      throw new WalError(`cannot compact log ${this.path}: ${(error as Error).message}`);
    }
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a', 0o600);
    this.fileBytes = bytes;
    this.liveBytes = bytes - WAL_MAGIC.length;
    // The snapshot is synced: whatever waited for durability has it now.
    this.dirty = false;
    const waiting = this.nextWaiters;
    this.nextWaiters = [];
    for (const waiter of waiting) waiter();
  }
}

function ftruncateLog(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
  } finally {
    closeSync(fd);
  }
}
