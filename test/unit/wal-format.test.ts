/**
 * The log's bytes, read back. Every sequence of puts round-trips. The reader's promise, for any
 * log and any single corruption: every acknowledged record is read back, or the start is refused.
 * A changed byte anywhere before the last record is refused; in the last record it is refused
 * unless it has the shape of an interrupted write (then that record alone is cut, as a tear of
 * it would be: the two cannot be told apart). A log cut short anywhere, or an append interrupted
 * anywhere (cut short, or grown with zeros where the data never came), keeps exactly the whole
 * records before the cut.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { putRecord, RECORD_HEADER_BYTES, scanLog, WAL_MAGIC } from '../../computing/wal-format.js';

const name = fc.stringMatching(/^[A-Za-z0-9]{1,255}$/);
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
// Short names too, so logs of many small records (the common case) come up as often as long ones.
const puts = fc.array(fc.tuple(fc.oneof(name, fc.constantFrom('a', 'b', 'c', 'X1')), fc.oneof(int64, fc.constantFrom(0n, 1n, -1n))), { minLength: 1, maxLength: 40 });

function log(entries: [string, bigint][]): { bytes: Buffer; ends: number[] } {
  const records = entries.map(([n, v]) => putRecord(n, v));
  const ends: number[] = [];
  let at = WAL_MAGIC.length;
  for (const r of records) ends.push((at += r.length));
  return { bytes: Buffer.concat([WAL_MAGIC, ...records]), ends };
}

const dictionary = (entries: [string, bigint][]): Map<string, bigint> => new Map(entries);

/** Index of the record holding byte `at` (-1: the magic). */
const recordOf = (ends: number[], at: number): number => (at < WAL_MAGIC.length ? -1 : ends.findIndex((end) => at < end));

describe('write-ahead log format', () => {
  it('every sequence of puts reads back as the dictionary they leave, with no problem', () => {
    fc.assert(
      fc.property(puts, (entries) => {
        const { bytes } = log(entries);
        const scanned = scanLog(bytes);
        expect(scanned.problem).toBeUndefined();
        expect(scanned.validBytes).toBe(bytes.length);
        expect(scanned.entries).toEqual(dictionary(entries));
      }),
      { numRuns: 300 },
    );
  });

  it('one changed byte anywhere: every record is read back, or the start is refused; only a tear-shaped last record is cut', () => {
    fc.assert(
      fc.property(puts, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (entries, seed, flip, toZero) => {
        const { bytes, ends } = log(entries);
        const at = seed % bytes.length;
        const damaged = Buffer.from(bytes);
        damaged[at] = toZero && bytes[at] !== 0 ? 0 : (bytes[at] as number) ^ flip;
        const scanned = scanLog(damaged);
        const n = entries.length;
        const which = recordOf(ends, at);
        // A change never goes unseen.
        expect(scanned.problem).toBeDefined();
        if (scanned.problem?.kind === 'corrupt') return;
        // Not refused: only the last record may be lost, and only when the damage looks like a tear.
        expect(which).toBe(n - 1);
        const start = n === 1 ? WAL_MAGIC.length : (ends[n - 2] as number);
        expect(scanned.validBytes).toBe(start);
        expect(scanned.entries).toEqual(dictionary(entries.slice(0, n - 1)));
        const claimed = RECORD_HEADER_BYTES + damaged.readUInt32LE(start);
        const runsPastEnd = at < start + 4 && start + claimed > damaged.length;
        const endsInZero = damaged[damaged.length - 1] === 0;
        expect(runsPastEnd || endsInZero).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('a changed length byte of the second-to-last record is refused, whatever the new value', () => {
    fc.assert(
      fc.property(puts, fc.tuple(fc.oneof(name, fc.constant('z')), int64), (entries, last) => {
        const { bytes, ends } = log([...entries, last]);
        const n = ends.length;
        const secondToLast = n === 2 ? WAL_MAGIC.length : (ends[n - 3] as number);
        for (let b = 0; b < 4; b++) {
          for (let v = 0; v < 256; v++) {
            if (v === bytes[secondToLast + b]) continue;
            const damaged = Buffer.from(bytes);
            damaged[secondToLast + b] = v;
            expect(scanLog(damaged).problem?.kind, `byte ${b} of the length set to ${v}`).toBe('corrupt');
          }
        }
      }),
      { numRuns: 12 },
    );
  });

  it('a log cut short at any byte, or an append interrupted anywhere (cut, or grown with zeros), keeps exactly the whole records before', () => {
    fc.assert(
      fc.property(puts, fc.nat(), fc.nat({ max: 600 }), (entries, seed, zeros) => {
        const { bytes, ends } = log(entries);
        const cut = WAL_MAGIC.length + (seed % (bytes.length - WAL_MAGIC.length));
        const file = Buffer.concat([bytes.subarray(0, cut), Buffer.alloc(zeros)]);
        const scanned = scanLog(file);
        const whole = ends.filter((end) => end <= cut).length;
        const clean = zeros === 0 && (ends.includes(cut) || cut === WAL_MAGIC.length);
        expect(scanned.problem?.kind ?? 'none').toBe(clean ? 'none' : 'torn');
        expect(scanned.validBytes).toBe(whole === 0 ? WAL_MAGIC.length : ends[whole - 1]);
        expect(scanned.entries).toEqual(dictionary(entries.slice(0, whole)));
      }),
      { numRuns: 1000 },
    );
  });

  it('the exact case of the report: the length of the second-to-last record made larger reads as damage, not a tear', () => {
    const { bytes, ends } = log([
      ['a', 1n],
      ['b', 2n],
      ['c', 3n],
    ]);
    const secondToLast = ends[0] as number;
    const damaged = Buffer.from(bytes);
    damaged[secondToLast] = 0x30; // 18 → 48: seems to run past the end of the file
    const scanned = scanLog(damaged);
    expect(scanned.problem).toEqual({ kind: 'corrupt', what: `a record of 56 bytes with 36 left in the file at byte ${secondToLast}, not what an interrupted write leaves` });
    damaged[secondToLast] = 0x13; // 18 → 19: runs one byte into the last record
    expect(scanLog(damaged).problem?.kind).toBe('corrupt');
  });

  it('a last record with its last byte written but a bad checksum is damage; one ending in zeros, or cut short, is torn', () => {
    const { bytes } = log([
      ['a', 1n],
      ['bbbbbbbb', 2n],
    ]);
    const lastBad = Buffer.from(bytes);
    lastBad[lastBad.length - 2] = (lastBad[lastBad.length - 2] as number) ^ 1;
    expect(scanLog(lastBad).problem?.kind).toBe('corrupt');
    const zeroed = Buffer.from(bytes);
    zeroed.fill(0, zeroed.length - 5);
    expect(scanLog(zeroed)).toMatchObject({ entries: new Map([['a', 1n]]), problem: { kind: 'torn', what: 'a record with a bad checksum, ending in 5 zero bytes' } });
    expect(scanLog(bytes.subarray(0, bytes.length - 3))).toMatchObject({ entries: new Map([['a', 1n]]), problem: { kind: 'torn' } });
    const zeros = Buffer.concat([bytes, Buffer.alloc(4096)]);
    expect(scanLog(zeros)).toMatchObject({ entries: new Map([['a', 1n], ['bbbbbbbb', 2n]]), validBytes: bytes.length, problem: { kind: 'torn' } });
    // Garbage after the last record is not a tear of one record.
    expect(scanLog(Buffer.concat([bytes, Buffer.from('hello')])).problem?.kind).toBe('corrupt');
  });

  it('an empty file is a new log; a wrong header is not a log at all', () => {
    expect(scanLog(Buffer.alloc(0))).toEqual({ entries: new Map(), validBytes: 0 });
    expect(scanLog(WAL_MAGIC.subarray(0, 3)).problem).toEqual({ kind: 'torn', what: 'a partial header' });
    expect(scanLog(Buffer.from('{"not":"a log"}')).problem?.kind).toBe('corrupt');
  });
});
