/**
 * The dictionary's record kinds (Keys 9, KeysPage 10, Delete 11): every valid message encodes and
 * decodes back to itself, a full page fits the u16 length, and any cut or damaged body decodes to
 * a ProtocolError, never a throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, HEADER_BYTES, KEYS_PAGE_ROOM, keyEntryBytes, type Message, MAX_RECORD_BYTES, ProtocolError } from '../../link/index.js';

const name = (min: number) => fc.string({ unit: fc.constantFrom(...'abzAZ09'), minLength: min, maxLength: 255 });
const head = { corr: fc.integer({ min: 0, max: 0xffff_ffff }), node: fc.integer({ min: 0, max: 2 ** 31 - 1 }) };
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ kind: fc.constant('keys' as const), ...head, limit: fc.integer({ min: 1, max: 0xffff }), prefix: name(0), startAfter: name(0) }),
  fc.record({ kind: fc.constant('delete' as const), ...head, name: name(1) }),
  fc.record({
    kind: fc.constant('keys-page' as const),
    ...head,
    more: fc.boolean(),
    revision: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    entries: fc.array(fc.record({ name: name(1), value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }), { maxLength: 20 }),
  }),
);

describe('dictionary records', () => {
  it('round-trip', () => {
    fc.assert(
      fc.property(message, (msg) => {
        expect(decode(encode(msg))).toEqual(msg);
      }),
    );
  });

  it('a page filled to KEYS_PAGE_ROOM is one valid record', () => {
    const entry = { name: 'n'.repeat(255), value: -1n };
    const entries = Array.from({ length: Math.floor(KEYS_PAGE_ROOM / keyEntryBytes(entry.name)) }, () => entry);
    const rec = encode({ kind: 'keys-page', corr: 1, node: 1, more: true, revision: 5n, entries });
    expect(rec.length).toBeLessThanOrEqual(MAX_RECORD_BYTES);
    expect(decode(rec)).toMatchObject({ kind: 'keys-page', more: true, revision: 5n });
  });

  it('a page cut inside an entry, a bad name byte, or a prefix longer than its record is a ProtocolError', () => {
    const page = encode({ kind: 'keys-page', corr: 1, node: 1, more: false, revision: 1n, entries: [{ name: 'abc', value: 7n }] });
    const cut = Buffer.from(page.subarray(0, page.length - 3));
    cut.writeUInt16LE(cut.length, 0);
    expect(decode(cut)).toBeInstanceOf(ProtocolError);
    const del = Buffer.from(encode({ kind: 'delete', corr: 1, node: 1, name: 'ab' }));
    del[HEADER_BYTES] = 0x2f;
    expect(decode(del)).toBeInstanceOf(ProtocolError);
    const keys = Buffer.from(encode({ kind: 'keys', corr: 1, node: 1, limit: 5, prefix: 'ab', startAfter: '' }));
    keys[HEADER_BYTES + 2] = 9;
    expect(decode(keys)).toBeInstanceOf(ProtocolError);
  });

  it('any cut or damaged record decodes to a message or a ProtocolError, never a throw', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.nat(255), (msg, at, byte) => {
        const rec = Buffer.from(encode(msg));
        const cut = Buffer.from(rec.subarray(0, HEADER_BYTES + (at % Math.max(1, rec.length - HEADER_BYTES))));
        cut.writeUInt16LE(cut.length, 0);
        expect(() => decode(cut)).not.toThrow();
        if (rec.length > HEADER_BYTES) rec[HEADER_BYTES + (at % (rec.length - HEADER_BYTES))] = byte;
        expect(() => decode(rec)).not.toThrow();
      }),
    );
  });
});
