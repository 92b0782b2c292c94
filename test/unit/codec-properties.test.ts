/**
 * Property-based tests of the wire codec (fast-check): every valid message survives a round
 * trip, batches split back into their records, and any bytes at all decode to a message or a
 * typed error, never an uncaught throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, FailReason, type Message, ProtocolError, splitFrame } from '../../link/index.js';

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const corr = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const node = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const name = fc.stringMatching(/^[A-Za-z0-9]{1,255}$/);
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ kind: fc.constant('store' as const), corr, node, name, value: int64 }),
  fc.record({ kind: fc.constant('load' as const), corr, node, name }),
  fc.record({ kind: fc.constant('ping' as const), corr, node }),
  fc.record({ kind: fc.constant('pong' as const), corr, node }),
  fc.record({ kind: fc.constant('hello' as const), corr, node, pid: int32, keys: fc.nat() }),
  fc.record({ kind: fc.constant('value' as const), corr, node, found: fc.boolean(), added: fc.boolean(), value: int64 }),
  fc.record({ kind: fc.constant('fail' as const), corr, node, reason: fc.constantFrom(FailReason.NoRoute, FailReason.Undeliverable, FailReason.DiskFull) }),
);

describe('wire codec properties', () => {
  it('decode(encode(m)) equals m', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decode(encode(m))).toEqual(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('a batch splits back into exactly its records', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 50 }), (msgs) => {
        const seen: Message[] = [];
        const error = splitFrame(Buffer.concat(msgs.map(encode)), (rec) => seen.push(decode(rec) as Message));
        expect(error).toBeUndefined();
        expect(seen).toEqual(msgs);
      }),
    );
  });

  it('any bytes give messages or a typed error, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const frame = Buffer.from(bytes);
        const decoded: unknown[] = [];
        const error = splitFrame(frame, (rec) => decoded.push(decode(rec)));
        if (error !== undefined) expect(error).toBeInstanceOf(ProtocolError);
        for (const d of decoded) expect(d instanceof ProtocolError || typeof (d as Message).kind === 'string').toBe(true);
        const direct = decode(frame);
        expect(direct instanceof ProtocolError || typeof direct.kind === 'string').toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('corrupting one byte of a valid record never throws', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, byte) => {
        const rec = Buffer.from(encode(m));
        rec[at % rec.length] = byte;
        expect(() => splitFrame(rec, (r) => void decode(r))).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });
});
