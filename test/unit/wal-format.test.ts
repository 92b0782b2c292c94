/**
 * The log's bytes, read back: every sequence of puts round-trips; a log cut short anywhere is a
 * torn tail that keeps exactly the complete records before the cut; a damaged byte anywhere but
 * in the last records is corruption, never a silently shorter dictionary.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_RECORD_BYTES, putRecord, scanLog, WAL_MAGIC } from '../../computing/wal-format.js';

const name = fc.stringMatching(/^[A-Za-z0-9]{1,255}$/);
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const puts = fc.array(fc.tuple(fc.oneof(name, fc.constantFrom('a', 'b', 'c')), int64), { minLength: 1, maxLength: 60 });

function log(entries: [string, bigint][]): { bytes: Buffer; ends: number[] } {
  const records = entries.map(([n, v]) => putRecord(n, v));
  const ends: number[] = [];
  let at = WAL_MAGIC.length;
  for (const r of records) ends.push((at += r.length));
  return { bytes: Buffer.concat([WAL_MAGIC, ...records]), ends };
}

const dictionary = (entries: [string, bigint][]): Map<string, bigint> => new Map(entries);

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

  it('a log cut short at any byte is a torn tail: exactly the complete records before the cut are kept', () => {
    fc.assert(
      fc.property(puts, fc.nat(), (entries, seed) => {
        const { bytes, ends } = log(entries);
        const cut = WAL_MAGIC.length + (seed % (bytes.length - WAL_MAGIC.length));
        const scanned = scanLog(bytes.subarray(0, cut));
        const whole = ends.filter((end) => end <= cut).length;
        expect(scanned.problem?.kind ?? 'none').toBe(ends.includes(cut) || cut === WAL_MAGIC.length ? 'none' : 'torn');
        expect(scanned.validBytes).toBe(whole === 0 ? WAL_MAGIC.length : ends[whole - 1]);
        expect(scanned.entries).toEqual(dictionary(entries.slice(0, whole)));
      }),
      { numRuns: 500 },
    );
  });

  it('a damaged byte in a record with more than a record of data after it is corruption', () => {
    const tail: [string, bigint][] = Array.from({ length: 30 }, (_, i) => [`tail${i}`, BigInt(i)]);
    fc.assert(
      fc.property(puts, fc.nat(), fc.integer({ min: 1, max: 255 }), (entries, seed, flip) => {
        const { bytes, ends } = log([...entries, ...tail]);
        const damagedEnd = ends[entries.length - 1] as number;
        expect(bytes.length - damagedEnd).toBeGreaterThan(MAX_RECORD_BYTES);
        const at = WAL_MAGIC.length + (seed % (damagedEnd - WAL_MAGIC.length));
        const damaged = Buffer.from(bytes);
        damaged[at] = (damaged[at] as number) ^ flip;
        const scanned = scanLog(damaged);
        expect(scanned.problem?.kind).toBe('corrupt');
        // What was read before the damage is never more than the records before it.
        expect(scanned.validBytes).toBeLessThanOrEqual(at);
      }),
      { numRuns: 500 },
    );
  });

  it('a bad last record is a torn tail; zeros after the data are too', () => {
    const { bytes } = log([
      ['a', 1n],
      ['b', 2n],
    ]);
    const lastBad = Buffer.from(bytes);
    lastBad[lastBad.length - 1] = (lastBad[lastBad.length - 1] as number) ^ 1;
    expect(scanLog(lastBad)).toMatchObject({ entries: new Map([['a', 1n]]), problem: { kind: 'torn' } });
    const zeros = Buffer.concat([bytes, Buffer.alloc(4096)]);
    expect(scanLog(zeros)).toMatchObject({ entries: new Map([['a', 1n], ['b', 2n]]), validBytes: bytes.length, problem: { kind: 'torn' } });
  });

  it('an empty file is a new log; a wrong header is not a log at all', () => {
    expect(scanLog(Buffer.alloc(0))).toEqual({ entries: new Map(), validBytes: 0 });
    expect(scanLog(WAL_MAGIC.subarray(0, 3)).problem).toEqual({ kind: 'torn', what: 'a partial header' });
    expect(scanLog(Buffer.from('{"not":"a log"}')).problem?.kind).toBe('corrupt');
  });
});
