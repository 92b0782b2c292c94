/**
 * Deletes in the write-ahead log: a delete record is read back in its place among the puts, a
 * torn delete at the tail is cut like a torn put, a log of puts only (today's logs) reads as
 * before, and a compaction keeps deleted names deleted.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { deleteRecord, putRecord, scanLog, WAL_MAGIC } from '../../computing/wal-format.js';
import { COMPACT_MIN_BYTES, WriteAheadLog } from '../../computing/wal.js';

const log = (...records: Buffer[]): Buffer => Buffer.concat([WAL_MAGIC, ...records]);

describe('delete records', () => {
  it('apply in their place: a put after a delete brings the name back', () => {
    const scanned = scanLog(log(putRecord('a', 1n), putRecord('b', 2n), deleteRecord('a'), deleteRecord('zz'), putRecord('b', 3n), deleteRecord('b'), putRecord('b', 4n)));
    expect(scanned.problem).toBeUndefined();
    expect([...scanned.entries]).toEqual([['b', 4n]]);
  });

  it('a log of puts only reads as it always did', () => {
    const bytes = log(putRecord('x', -1n), putRecord('y', 2n));
    expect(scanLog(bytes)).toEqual({ entries: new Map([['x', -1n], ['y', 2n]]), validBytes: bytes.length });
  });

  it('a torn delete at the tail is cut; a damaged one before more data is refused', () => {
    const whole = log(putRecord('a', 1n), deleteRecord('a'));
    const torn = scanLog(whole.subarray(0, whole.length - 1));
    expect(torn.problem?.kind).toBe('torn');
    expect([...torn.entries]).toEqual([['a', 1n]]);
    const bad = Buffer.from(log(putRecord('a', 1n), deleteRecord('a'), putRecord('c', 1n)));
    bad[WAL_MAGIC.length + putRecord('a', 1n).length + 9] = 0x2d; // a '-' in the deleted name
    expect(scanLog(bad).problem?.kind).toBe('corrupt');
  });

  it('compaction writes the live names only, and a deleted name stays deleted when the log is read again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-wal-delete-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'n.wal');
    const { log: wal, entries } = WriteAheadLog.open(path, { fresh: true }, {
      fatal: (e) => {
        throw e;
      },
      warn: () => undefined,
    });
    for (const [name, value] of [['gone', 1n], ['kept', 2n]] as const) {
      entries.set(name, value);
      wal.append(name, value, true);
    }
    entries.delete('gone');
    wal.appendDelete('gone');
    wal.flush();
    const long = 'w'.repeat(200);
    entries.set(long, 0n);
    wal.append(long, 0n, true);
    let compacted = false;
    for (let i = 1; !compacted && i < 20_000; i++) {
      const before = statSync(path).size;
      entries.set(long, BigInt(i));
      wal.append(long, BigInt(i), false);
      wal.flush();
      compacted = statSync(path).size < before;
    }
    expect(compacted).toBe(true);
    expect(statSync(path).size).toBeLessThan(COMPACT_MIN_BYTES);
    wal.close();
    const read = scanLog(readFileSync(path));
    expect(read.problem).toBeUndefined();
    expect(read.entries.has('gone')).toBe(false);
    expect(read.entries.get('kept')).toBe(2n);
  });
});
