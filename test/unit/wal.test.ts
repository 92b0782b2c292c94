/**
 * A node's log on a real file: appends survive a reopen, a torn tail is cut (its bytes kept in
 * `<log>.torn`) and the log goes on from there, corruption is refused and left as it was,
 * `fresh` empties, compaction keeps the dictionary and shrinks the file (and a compacted log is
 * read by the same rules), and durability waiters run only once their stores are on the disk.
 */
import { appendFileSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { COMPACT_MIN_BYTES, type Opened, WalError, WriteAheadLog } from '../../computing/wal.js';
import { putRecord, WAL_MAGIC } from '../../computing/wal-format.js';

function tempLog(): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-wal-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, '8.wal');
}

const events = {
  fatal: (error: WalError): never => {
    throw error;
  },
  warn: (): void => undefined,
};

function open(path: string, fresh = false): Opened {
  const opened = WriteAheadLog.open(path, { fresh }, events);
  onTestFinished(() => {
    try {
      opened.log.close();
    } catch {
      // closed by the test
    }
  });
  return opened;
}

function put({ log, entries }: Opened, name: string, value: bigint): void {
  log.append(name, value, !entries.has(name));
  entries.set(name, value);
}

describe('write-ahead log file', () => {
  it('what was flushed is there after a reopen; what was not flushed is not', () => {
    const path = tempLog();
    const first = open(path);
    put(first, 'X', 16n);
    put(first, 'Y', -1n);
    first.log.flush();
    put(first, 'Z', 3n); // appended, never flushed: not acknowledged
    first.log.close();
    const again = open(path);
    expect(again.entries).toEqual(new Map([['X', 16n], ['Y', -1n]]));
    expect(again.cutBytes).toBe(0);
  });

  it('a torn tail is cut on open, its bytes kept in <log>.torn, and the log goes on from the last whole record', () => {
    const path = tempLog();
    const first = open(path);
    put(first, 'A', 1n);
    first.log.flush();
    put(first, 'B', 2n);
    first.log.flush();
    first.log.close();
    const whole = readFileSync(path);
    truncateSync(path, whole.length - 3); // the kernel kept only part of the last write
    const again = open(path);
    expect(again.entries).toEqual(new Map([['A', 1n]]));
    const cut = whole.length - 3 - (WAL_MAGIC.length + 18);
    expect(again.cutBytes).toBe(cut);
    expect(again.torn).toMatch(/^a record of 18 bytes with 15 left in the file$/);
    expect(readFileSync(`${path}.torn`)).toEqual(whole.subarray(WAL_MAGIC.length + 18, whole.length - 3));
    put(again, 'C', 3n);
    again.log.flush();
    again.log.close();
    // A second tear is added to what was kept before, never replacing it.
    appendFileSync(path, Buffer.alloc(7));
    const third = open(path);
    expect(third.entries).toEqual(new Map([['A', 1n], ['C', 3n]]));
    expect(third.cutBytes).toBe(7);
    expect(readFileSync(`${path}.torn`)).toEqual(Buffer.concat([whole.subarray(WAL_MAGIC.length + 18, whole.length - 3), Buffer.alloc(7)]));
  });

  it('a whole log needs no torn file, and a new log gets its header with its first append', () => {
    const path = tempLog();
    const first = open(path);
    expect(statSync(path).size).toBe(0);
    put(first, 'A', 1n);
    first.log.flush();
    first.log.close();
    expect(readFileSync(path)).toEqual(Buffer.concat([WAL_MAGIC, putRecord('A', 1n)]));
    expect(open(path).cutBytes).toBe(0);
    expect(existsSync(`${path}.torn`)).toBe(false);
  });

  it('refuses a log damaged before its tail, naming the file and the place', () => {
    const path = tempLog();
    const first = open(path);
    for (let i = 0; i < 50; i++) put(first, `k${i}`, BigInt(i));
    first.log.flush();
    first.log.close();
    const bytes = readFileSync(path);
    bytes[WAL_MAGIC.length + 12] = (bytes[WAL_MAGIC.length + 12] as number) ^ 0xff;
    writeFileSync(path, bytes);
    expect(() => WriteAheadLog.open(path, { fresh: false }, events)).toThrow(WalError);
    expect(() => WriteAheadLog.open(path, { fresh: false }, events)).toThrow(/corrupt: a record with a bad checksum at byte 8, with more data after it; refusing to start/);
    // Never read as empty: the file is left as it was, for someone to look at.
    expect(readFileSync(path)).toEqual(bytes);
    expect(existsSync(`${path}.torn`)).toBe(false);
  });

  it('one length byte of the second-to-last record changed: refused, nothing cut', () => {
    const path = tempLog();
    const first = open(path);
    for (let i = 0; i < 5; i++) put(first, `k${i}`, BigInt(i));
    first.log.flush();
    first.log.close();
    const bytes = readFileSync(path);
    const secondToLast = WAL_MAGIC.length + 3 * 19;
    bytes[secondToLast] = 40; // 19 → 40: it would run past the end of the file
    writeFileSync(path, bytes);
    expect(() => WriteAheadLog.open(path, { fresh: false }, events)).toThrow(`at byte ${secondToLast}, not what an interrupted write leaves; refusing to start`);
    expect(readFileSync(path)).toEqual(bytes);
    expect(existsSync(`${path}.torn`)).toBe(false);
  });

  it('a file that is not a log is refused too', () => {
    const path = tempLog();
    writeFileSync(path, 'hello, world\n');
    expect(() => WriteAheadLog.open(path, { fresh: false }, events)).toThrow(/not an arbor log/);
  });

  it('never follows a symbolic link planted in the data dir: not as the log, nor as the compaction file', () => {
    const path = tempLog();
    const outside = join(dirname(path), 'outside');
    writeFileSync(outside, 'not to be touched');
    symlinkSync(outside, path);
    expect(() => WriteAheadLog.open(path, { fresh: false }, events)).toThrow(/cannot read log .*8\.wal: .* is a symbolic link, not a file/);
    expect(readFileSync(outside, 'utf8')).toBe('not to be touched');
    rmSync(path);
    // A link where the compaction writes its snapshot: removed and made anew, the target untouched.
    const opened = open(path);
    symlinkSync(outside, `${path}.compact`);
    for (let round = 0; round < 3000; round++) {
      for (let k = 0; k < 20; k++) put(opened, `key${k}`, BigInt(round * 100 + k));
      opened.log.flush();
    }
    expect(statSync(path).size).toBeLessThan(COMPACT_MIN_BYTES / 2);
    expect(readFileSync(outside, 'utf8')).toBe('not to be touched');
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
  });

  it('fresh starts from an empty log, whatever was there', () => {
    const path = tempLog();
    const first = open(path);
    put(first, 'old', 1n);
    first.log.flush();
    first.log.close();
    appendFileSync(path, 'garbage');
    expect(open(path, true).entries).toEqual(new Map());
  });

  it('compaction keeps the dictionary and shrinks the file once it is mostly overwritten values', () => {
    const path = tempLog();
    const opened = open(path);
    let peak = 0;
    let compactions = 0;
    let before = 0;
    for (let round = 0; round < 3000; round++) {
      for (let k = 0; k < 20; k++) put(opened, `key${k}`, BigInt(round * 100 + k));
      opened.log.flush();
      const size = statSync(path).size;
      if (size < before) compactions++;
      before = size;
      peak = Math.max(peak, size);
    }
    // 3000 rounds write 1.3 MB; the file never grows past the threshold by more than one flush.
    expect(compactions).toBe(1);
    expect(peak).toBeLessThanOrEqual(COMPACT_MIN_BYTES + 20 * 30);
    expect(statSync(path).size).toBeLessThan(COMPACT_MIN_BYTES / 2);
    opened.log.close();
    const again = open(path);
    expect(again.entries).toEqual(new Map(Array.from({ length: 20 }, (_, k) => [`key${k}`, BigInt(2999 * 100 + k)])));
    expect(again.cutBytes).toBe(0);
    again.log.close();
    // The snapshot is read by the same rules: a changed length before its last record is refused.
    const bytes = readFileSync(path);
    bytes[WAL_MAGIC.length] = 200;
    writeFileSync(path, bytes);
    expect(() => WriteAheadLog.open(path, { fresh: false }, events)).toThrow(/is corrupt: a record with a bad checksum at byte 8, with more data after it/);
  });

  it('durability waiters run after the sync, in order, and at once when nothing is pending', async () => {
    const path = tempLog();
    const opened = open(path);
    await new Promise<void>((resolve) => opened.log.whenDurable(resolve)); // the new file's header
    const order: string[] = [];
    opened.log.whenDurable(() => order.push('idle'));
    expect(order).toEqual(['idle']);
    put(opened, 'a', 1n);
    opened.log.flush();
    expect(opened.log.unsynced).toBe(true);
    opened.log.whenDurable(() => order.push('first'));
    put(opened, 'b', 2n);
    opened.log.flush(); // arrives while the first sync is in flight: goes with the next one
    opened.log.whenDurable(() => order.push('second'));
    expect(order).toEqual(['idle']);
    await expect.poll(() => order, { timeout: 5000 }).toEqual(['idle', 'first', 'second']);
    expect(opened.log.unsynced).toBe(false);
  });
});
