import { describe, expect, it } from 'vitest';
import {
  decode,
  encode,
  FailReason,
  HEADER_BYTES,
  type Message,
  ProtocolError,
  recordNode,
  splitFrame,
} from '../../link/index.js';

const samples: Message[] = [
  { kind: 'store', corr: 1, node: 8, name: 'X', value: 16n },
  { kind: 'store', corr: 0xffffffff, node: 2147483647, name: 'a'.repeat(255), value: 9223372036854775807n },
  { kind: 'store', corr: 7, node: 0, name: 'Z9', value: -9223372036854775808n },
  { kind: 'load', corr: 2, node: 11, name: 'abc123' },
  { kind: 'ping', corr: 3, node: 6 },
  { kind: 'hello', corr: 4, node: 13, pid: 4242, keys: 3 },
  { kind: 'value', corr: 5, node: 9, found: true, added: true, value: -1n },
  { kind: 'value', corr: 6, node: 9, found: false, added: false, value: 0n },
  { kind: 'pong', corr: 7, node: 6 },
  { kind: 'fail', corr: 8, node: 21, reason: FailReason.NoRoute },
  { kind: 'fail', corr: 9, node: 4, reason: FailReason.DiskFull },
];

describe('wire codec', () => {
  it.each(samples)('decode(encode(m)) equals m for $kind', (msg) => {
    expect(decode(encode(msg))).toEqual(msg);
  });

  it('splits a batch into its records without copying, in order', () => {
    const frame = Buffer.concat(samples.map(encode));
    const seen: Message[] = [];
    expect(splitFrame(frame, (rec) => seen.push(decode(rec) as Message))).toBeUndefined();
    expect(seen).toEqual(samples);
  });

  it('lets a forwarding hop read the target without decoding the body', () => {
    expect(recordNode(encode({ kind: 'load', corr: 9, node: 1234, name: 'k' }))).toBe(1234);
  });

  it('reports a truncated frame as an error after the complete records', () => {
    const whole = encode({ kind: 'ping', corr: 1, node: 1 });
    const frame = Buffer.concat([whole, whole.subarray(0, 5)]);
    let count = 0;
    const error = splitFrame(frame, () => count++);
    expect(count).toBe(1);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error?.problem).toBe('truncated');
  });

  it('rejects impossible lengths, unknown kinds and bad names with typed errors', () => {
    const tooShort = Buffer.alloc(HEADER_BYTES);
    tooShort.writeUInt16LE(3, 0);
    expect(splitFrame(tooShort, () => undefined)?.problem).toBe('bad-length');

    const unknown = encode({ kind: 'ping', corr: 1, node: 1 });
    unknown[2] = 99;
    expect((decode(unknown) as ProtocolError).problem).toBe('unknown-kind');

    const badName = encode({ kind: 'load', corr: 1, node: 1, name: 'ab' });
    badName[HEADER_BYTES] = 0x2d; // '-'
    expect((decode(badName) as ProtocolError).problem).toBe('bad-body');

    const emptyName = encode({ kind: 'load', corr: 1, node: 1, name: 'a' }).subarray(0, HEADER_BYTES);
    const fixed = Buffer.from(emptyName);
    fixed.writeUInt16LE(HEADER_BYTES, 0);
    expect((decode(fixed) as ProtocolError).problem).toBe('bad-body');
  });

  it('never throws on random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: (i % 40) + 1 }, () => Math.floor(Math.random() * 256)));
      expect(() => splitFrame(bytes, (rec) => void decode(rec))).not.toThrow();
      expect(() => decode(bytes)).not.toThrow();
    }
  });
});
