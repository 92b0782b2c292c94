/**
 * @module A node's write-ahead log on disk: every store is appended before it is acknowledged,
 * and the dictionary is rebuilt from it when the process starts.
 *
 * "Acknowledged" means handed to the OS: the node calls `flush()` (one `writev(2)` for the stores
 * of a request frame) before any reply of that frame leaves, so a `kill -9` of any arbor process
 * loses nothing (LevelDB and SQLite's WAL mode give the same promise without a sync). With
 * `fsync`, `whenDurable()` adds group commit: one `fdatasync` in flight at a time, and the stores
 * that arrive meanwhile share the next one, so replies wait for the disk but stores never queue
 * behind one sync each.
 *
 * A full disk is not the end of the log: an append the disk refuses (ENOSPC, a quota, a short
 * write) is cut back off the file, so no half record is left to read as damage later, and
 * `flush()` says so; the caller refuses those stores and tries again with the next ones, which
 * succeed once there is room (etcd's NOSPACE alarm and Redis's stop-writes-on-error keep serving
 * reads the same way). Only a log that cannot be cut back, or a failed sync, is fatal.
 *
 * Opening cuts a torn tail (wal-format.ts says what counts as one), and the bytes cut are kept
 * beside the log in `<log>.torn` (appended, synced, never deleted) before the log is cut: no
 * byte that was once in a log is thrown away.
 *
 * Compaction: once the file is COMPACT_RATIO times the live data and over COMPACT_MIN_BYTES, a
 * snapshot (one put per live name) is written to a temporary file, synced, and renamed over the
 * log; a crash at any point leaves either the old log or the new one, both complete, both read
 * by the same rules. A snapshot the disk has no room for is given up (the log goes on as it is)
 * and tried again once the log has grown by COMPACT_MIN_BYTES more.
 *
 * Deletes: a delete is a record of its own, appended (and acknowledged) like a store, so replay
 * applies it in its place among the stores. A snapshot writes only the live names and no delete
 * at all: it replaces the whole file, so no store older than it is left anywhere to bring a
 * deleted name back.
 */
import {
  closeSync,
  constants,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { readPlainFile } from '../lib/plain-file.js';
import { syncDirectory } from '../lib/sync-directory.js';
import { deleteRecord, putRecord, putRecordBytes, scanLog, WAL_MAGIC } from './wal-format.js';

/*
 * Every file of a log is opened without following a symbolic link (O_NOFOLLOW): a link planted in
 * the data directory makes the open fail (ELOOP), so no write ever lands outside it. The log is
 * read back only as a regular file (a fifo cannot block the start).
 */
const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
const NEW_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const REWRITE = constants.O_RDWR | constants.O_NOFOLLOW;

export const COMPACT_MIN_BYTES = 1024 * 1024;
export const COMPACT_RATIO = 4;

/** The log cannot be used: corrupt before its tail, or the disk failed in a way it cannot step back from. */
export class WalError extends Error {
  override readonly name = 'WalError';
}

/** The disk had no room for an append; nothing of it is left in the file. Returned, never thrown. */
export class DiskFullError extends Error {
  override readonly name = 'DiskFullError';
}

/** What the node needs of its log; a node without one keeps its dictionary in memory only. */
export interface StoreLog {
  append(name: string, value: bigint, isNew: boolean): void;
  /** A delete of `name`, which had a value. */
  appendDelete(name: string): void;
  /** Writes what was appended; on a full disk nothing of it stays, and the error says why. */
  flush(): DiskFullError | undefined;
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

/** How the log reports what happens after it is open. */
export interface LogEvents {
  /** The log cannot go on (a failed sync, an append that cannot be cut back). */
  fatal(error: WalError): void;
  /** Something worth a line on stderr that changes nothing for the caller (a compaction given up). */
  warn(message: string): void;
}

export interface Opened {
  log: WriteAheadLog;
  /** The dictionary as the log left it; the log keeps a reference to write snapshots. */
  entries: Map<string, bigint>;
  /** Bytes of a torn tail that were cut off (0 when the log was whole), kept in `<log>.torn`. */
  cutBytes: number;
  /** What the torn tail was, when there was one. */
  torn?: string;
}

const isDiskFull = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT';
};

export class WriteAheadLog implements StoreLog {
  private fd: number;
  private pending: Buffer[] = [];
  /** Live-data bytes the pending records add (names new to the dictionary). */
  private pendingLive = 0;
  private fileBytes: number;
  private liveBytes: number;
  /** Compaction waits until the file is at least this long (moved on when a snapshot had no room). */
  private compactFrom = 0;
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
    private readonly events: LogEvents,
  ) {
    this.fd = openSync(path, APPEND, 0o600);
    this.fileBytes = fileBytes;
    this.liveBytes = 0;
    for (const name of entries.keys()) this.liveBytes += putRecordBytes(name);
  }

  /**
   * Opens the log at `path` (created when missing; emptied first when `fresh`), cutting a torn
   * tail into `<path>.torn`. Throws WalError when the log is corrupt before its tail, or when the
   * torn bytes cannot be kept (they are not cut then).
   */
  static open(path: string, options: { fresh: boolean }, events: LogEvents): Opened {
    if (options.fresh) rmSync(path, { force: true });
    let bytes: Buffer;
    try {
      bytes = readPlainFile(path, Number.MAX_SAFE_INTEGER) ?? Buffer.alloc(0);
    } catch (error) {
      throw new WalError(`cannot read log ${path}: ${(error as Error).message}`);
    }
    const scanned = scanLog(bytes);
    if (scanned.problem?.kind === 'corrupt') {
      throw new WalError(`log ${path} is corrupt: ${scanned.problem.what}; refusing to start rather than lose what follows it`);
    }
    const cutBytes = bytes.length - scanned.validBytes;
    if (cutBytes > 0) cutTornTail(path, bytes, scanned.validBytes);
    // A log without its header gets it with its first append (a full disk need not stop a start).
    let log: WriteAheadLog;
    try {
      log = new WriteAheadLog(path, scanned.entries, scanned.validBytes, events);
    } catch (error) {
      throw new WalError(`cannot open log ${path}: ${(error as Error).message}`);
    }
    return { log, entries: scanned.entries, cutBytes, ...(scanned.problem !== undefined && { torn: scanned.problem.what }) };
  }

  /** Queues the record of a put; `isNew` when the name had no value (for the live-data count). */
  append(name: string, value: bigint, isNew: boolean): void {
    const record = putRecord(name, value);
    this.pending.push(record);
    if (isNew) this.pendingLive += record.length;
  }

  /** Queues the record of a delete of `name` (it had a value: its put leaves the live data). */
  appendDelete(name: string): void {
    this.pending.push(deleteRecord(name));
    this.pendingLive -= putRecordBytes(name);
  }

  /**
   * Hands every queued record to the OS in one writev; compacts when the log has grown enough.
   * A full disk: the records are dropped, the file is as it was before, and the error is returned.
   */
  flush(): DiskFullError | undefined {
    if (this.pending.length === 0) return undefined;
    const records = this.fileBytes === 0 ? [WAL_MAGIC, ...this.pending] : this.pending;
    const live = this.pendingLive;
    this.pending = [];
    this.pendingLive = 0;
    const full = this.writeAll(records);
    if (full !== undefined) return full;
    this.liveBytes += live;
    if (this.shouldCompact()) this.compact();
    if (this.nextWaiters.length > 0) this.startSync();
    return undefined;
  }

  /** Calls `done` once everything flushed so far is on the disk (group commit). */
  whenDurable(done: () => void): void {
    if (this.pending.length > 0 || this.dirty) {
      this.nextWaiters.push(done);
      // Queued records start the sync when they are flushed.
      if (this.pending.length === 0) this.startSync();
    } else if (this.syncing) this.syncWaiters.push(done);
    else done();
  }

  /** Something appended is not on the disk yet. */
  get unsynced(): boolean {
    return this.pending.length > 0 || this.dirty || this.syncing;
  }

  /** Closes the file; records never flushed were never acknowledged and are dropped. */
  close(): void {
    this.pending = [];
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** Appends `buffers`; a full disk leaves the file as it was (a partial append is cut back off). */
  private writeAll(buffers: Buffer[]): DiskFullError | undefined {
    let total = 0;
    for (const b of buffers) total += b.length;
    let failure: string;
    try {
      const written = buffers.length === 1 ? writeSync(this.fd, buffers[0] as Buffer) : writevSync(this.fd, buffers);
      if (written === total) {
        this.fileBytes += total;
        this.dirty = true;
        return undefined;
      }
      // A regular file takes everything or fails; a short write is the disk filling up.
      failure = `short write: ${written} of ${total} bytes`;
    } catch (error) {
      if (!isDiskFull(error)) throw new WalError(`cannot append to log ${this.path}: ${(error as Error).message}`);
      failure = (error as Error).message;
    }
    try {
      ftruncateSync(this.fd, this.fileBytes);
    } catch (error) {
      throw new WalError(`cannot append to log ${this.path} (${failure}), nor cut the partial append back off: ${(error as Error).message}`);
    }
    return new DiskFullError(`no room to append to log ${this.path}: ${failure}`);
  }

  private startSync(): void {
    if (this.syncing || !this.dirty) return;
    this.syncing = true;
    this.dirty = false;
    this.syncWaiters = this.nextWaiters;
    this.nextWaiters = [];
    fdatasync(this.fd, (error) => {
      this.syncing = false;
      if (error) return this.events.fatal(new WalError(`cannot sync log ${this.path}: ${error.message}`));
      const done = this.syncWaiters;
      this.syncWaiters = [];
      for (const waiter of done) waiter();
      if (this.dirty) this.startSync();
    });
  }

  private shouldCompact(): boolean {
    return !this.syncing && this.fileBytes > COMPACT_MIN_BYTES && this.fileBytes > COMPACT_RATIO * this.liveBytes && this.fileBytes >= this.compactFrom;
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
    let full: string | undefined;
    try {
      // A leftover of a compaction cut short goes first; the new one is made, never opened through a link.
      rmSync(tmp, { force: true });
      const fd = openSync(tmp, NEW_EXCLUSIVE, 0o600);
      try {
        const written = writevSync(fd, records);
        if (written !== bytes) full = `short write: ${written} of ${bytes} bytes`;
        else fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (full === undefined) renameSync(tmp, this.path);
    } catch (error) {
      if (!isDiskFull(error)) {
        rmSync(tmp, { force: true });
        throw new WalError(`cannot compact log ${this.path}: ${(error as Error).message}`);
      }
      full = (error as Error).message;
    }
    if (full !== undefined) {
      rmSync(tmp, { force: true });
      this.compactFrom = this.fileBytes + COMPACT_MIN_BYTES;
      this.events.warn(`gave up compacting log ${this.path} for now (${full}); the log goes on as it is`);
      return;
    }
    // Renamed: from here on the log is the snapshot, whatever else happens.
    closeSync(this.fd);
    this.fd = openSync(this.path, APPEND, 0o600);
    this.fileBytes = bytes;
    this.liveBytes = bytes - WAL_MAGIC.length;
    this.compactFrom = 0;
    try {
      syncDirectory(dirname(this.path));
    } catch (error) {
      throw new WalError(`cannot compact log ${this.path}: ${(error as Error).message}`);
    }
    // The snapshot is synced: whatever waited for durability has it now.
    this.dirty = false;
    const waiting = this.nextWaiters;
    this.nextWaiters = [];
    for (const waiter of waiting) waiter();
  }
}

/**
 * Cuts `bytes` (the log's content) back to `validBytes`, after appending what is cut to
 * `<path>.torn` and syncing it: a crash in between cuts (and keeps) the same bytes again.
 */
function cutTornTail(path: string, bytes: Buffer, validBytes: number): void {
  const kept = `${path}.torn`;
  const tail = bytes.subarray(validBytes);
  try {
    const fd = openSync(kept, APPEND, 0o600);
    try {
      const written = writeSync(fd, tail);
      if (written !== tail.length) throw new Error(`short write: ${written} of ${tail.length} bytes`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    syncDirectory(dirname(path));
  } catch (error) {
    throw new WalError(`cannot keep the torn tail of log ${path} (${tail.length} bytes) in ${kept}: ${(error as Error).message}; refusing to cut it`);
  }
  const fd = openSync(path, REWRITE);
  try {
    ftruncateSync(fd, validBytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
