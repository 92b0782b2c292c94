/* Property-based tests of the console's line parser (issue 6): any input yields a command, a
   skip, or one short printable error line; valid commands written any legal way parse back. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMAND_WORDS, type Command } from '../../clients/command.js';
import { parseLine, words } from '../../clients/parse-line.js';
import { INT64_MAX, INT64_MIN, MAX_HEARTBEAT_MS, MAX_NODE_ID, MIN_HEARTBEAT_MS } from '../../proto/limits.js';

const KINDS = new Set(['create', 'exec', 'ping', 'heartbeat', 'remove', 'keys', 'delete', 'watch', 'tree', 'status', 'help', 'quit', 'skip', 'invalid']);

/** Checks the contract of `parseLine` for one input. */
function checkContract(line: string): void {
  const parsed = parseLine(line);
  expect(KINDS.has(parsed.kind)).toBe(true);
  if (parsed.kind === 'invalid') {
    expect(parsed.message).toMatch(/^[\x20-\x7e]+$/); // non-empty, one line, printable ASCII
    expect(parsed.message.length).toBeLessThan(200);
  }
}

/* Any code unit, lone surrogates included (what a decoder could hand over). */
const anyCodeUnits = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 60 })
  .map((codes) => String.fromCharCode(...codes));
const whitespace = fc.constantFrom(' ', '  ', '\t', '\v', '\f', '\u00a0', '\u3000', ' \t ');
/* Tokens near the grammar, so the generator reaches the argument checks, not only "unknown command". */
const token = fc.oneof(
  fc.constantFrom(...COMMAND_WORDS, 'heartbit', '--json', '-1', '-0', '#', '\u0000', '\r', '\ufffd', '1e3', '+5', '0x10'),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.integer().map(String),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
);
const nearGrammar = fc
  .tuple(fc.array(fc.tuple(whitespace, token), { maxLength: 6 }), fc.constantFrom('', '\r', '\r\r', ' \r'))
  .map(([parts, end]) => parts.map(([space, text]) => `${text}${space}`).join('') + end);

describe('parseLine on any input', () => {
  it('never throws; gives a command, a skip, or one short printable error line', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), anyCodeUnits, nearGrammar), (line) => {
        checkContract(line);
      }),
      { numRuns: 3000 },
    );
  });

  it('long inputs too, around and far beyond the line limit', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', minLength: 4000, maxLength: 5000 }), fc.integer({ min: 1, max: 300 }), (text, times) => {
        checkContract(text);
        checkContract(`exec 1 ${text.replace(/\s/g, 'x')}`);
        checkContract(text.repeat(times));
      }),
      { numRuns: 50 },
    );
  });

  it('blank lines and comments are skipped, with any line ending', () => {
    const comment = fc.tuple(fc.string({ unit: 'binary', maxLength: 50 }), fc.boolean()).map(([text, hash]) => (hash ? `#${text}` : ''));
    fc.assert(
      fc.property(fc.array(whitespace, { maxLength: 4 }), comment, fc.constantFrom('', '\r'), (lead, rest, end) => {
        const line = `${lead.join('')}${rest}${end}`;
        expect(parseLine(line)).toEqual({ kind: 'skip' });
      }),
    );
  });
});

const id = fc.integer({ min: 0, max: MAX_NODE_ID });
const name = fc.string({
  unit: fc.constantFrom(...'abcxyzABCXYZ0123456789'),
  minLength: 1,
  maxLength: 255,
});
const value = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
const interval = fc.oneof(fc.constant(0), fc.integer({ min: MIN_HEARTBEAT_MS, max: MAX_HEARTBEAT_MS }));

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.tuple(id, fc.option(id, { nil: undefined })).map(([i, p]): Command => (p === undefined ? { kind: 'create', id: i } : { kind: 'create', id: i, parent: p })),
  fc.tuple(id, name, fc.option(value, { nil: undefined })).map(([i, n, v]): Command =>
    v === undefined ? { kind: 'exec', id: i, name: n } : { kind: 'exec', id: i, name: n, value: v },
  ),
  id.map((i): Command => ({ kind: 'ping', id: i })),
  id.map((i): Command => ({ kind: 'remove', id: i })),
  fc.tuple(id, fc.option(name, { nil: undefined })).map(([i, p]): Command => ({ kind: 'keys', id: i, prefix: p ?? '' })),
  fc.tuple(id, name).map(([i, n]): Command => ({ kind: 'delete', id: i, name: n })),
  fc.tuple(fc.option(id, { nil: undefined }), fc.option(name, { nil: undefined })).map(([i, p]): Command =>
    i === undefined ? { kind: 'watch', prefix: p ?? '' } : { kind: 'watch', id: i, prefix: p ?? '' },
  ),
  interval.map((ms): Command => ({ kind: 'heartbeat', intervalMs: ms })),
  fc.boolean().map((json): Command => ({ kind: 'tree', json })),
  fc.constant<Command>({ kind: 'status' }),
  fc.option(fc.constantFrom(...COMMAND_WORDS), { nil: undefined }).map((topic): Command => (topic === undefined ? { kind: 'help' } : { kind: 'help', topic })),
  fc.constant<Command>({ kind: 'quit' }),
);

/** The tokens of a command, as a user could type them (`zeros` leading zeros on numbers). */
function tokens(c: Command, zeros: string, heartbit: boolean): string[] {
  const num = (n: number | bigint): string => (n < 0 ? `-${zeros}${-n}` : `${zeros}${n}`);
  switch (c.kind) {
    case 'create':
      return ['create', num(c.id), ...(c.parent === undefined ? [] : [num(c.parent)])];
    case 'exec':
      return ['exec', num(c.id), c.name, ...(c.value === undefined ? [] : [num(c.value)])];
    case 'ping':
    case 'remove':
      return [c.kind, num(c.id)];
    case 'keys':
      return ['keys', num(c.id), ...(c.prefix === '' ? [] : [c.prefix])];
    case 'delete':
      return ['del', num(c.id), c.name];
    case 'watch':
      // A lone prefix with a letter needs no `*`; one of digits only does.
      if (c.id !== undefined) return ['watch', num(c.id), ...(c.prefix === '' ? [] : [c.prefix])];
      if (c.prefix === '') return ['watch'];
      return /[A-Za-z]/.test(c.prefix) ? ['watch', c.prefix] : ['watch', '*', c.prefix];
    case 'heartbeat':
      return [heartbit ? 'heartbit' : 'heartbeat', num(c.intervalMs)];
    case 'tree':
      return c.json ? ['tree', '--json'] : ['tree'];
    case 'help':
      return c.topic === undefined ? ['help'] : ['help', c.topic];
    case 'status':
    case 'quit':
      return [c.kind];
  }
}

describe('valid commands round-trip', () => {
  it('written with any whitespace, leading zeros, and LF or CRLF, parse back to the command', () => {
    fc.assert(
      fc.property(
        command,
        fc.array(whitespace, { minLength: 6, maxLength: 6 }),
        fc.constantFrom('', '0', '000'),
        fc.boolean(),
        fc.constantFrom('', '\r'),
        (expected, spaces, zeros, heartbit, end) => {
          const parts = tokens(expected, zeros, heartbit);
          const line = `${spaces[0]}${parts.map((part, i) => `${part}${spaces[i + 1] ?? ' '}`).join('')}${end}`;
          expect(parseLine(line)).toEqual(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('create with parent -1 means no parent', () => {
    fc.assert(
      fc.property(id, (i) => {
        expect(parseLine(`create ${i} -1`)).toEqual({ kind: 'create', id: i });
      }),
    );
  });

  it('ids beyond int32 or negative, and values beyond int64, are refused', () => {
    const badId = fc.oneof(fc.bigInt({ min: BigInt(MAX_NODE_ID) + 1n, max: 2n ** 80n }), fc.bigInt({ min: -(2n ** 80n), max: -1n }));
    const badValue = fc.oneof(fc.bigInt({ min: INT64_MAX + 1n, max: 2n ** 100n }), fc.bigInt({ min: -(2n ** 100n), max: INT64_MIN - 1n }));
    fc.assert(
      fc.property(badId, badValue, (i, v) => {
        expect(parseLine(`ping ${i}`).kind).toBe('invalid');
        expect(parseLine(`exec 1 X ${v}`).kind).toBe('invalid');
      }),
    );
  });
});

describe('the words of a line', () => {
  /* The scan that replaced `trim().split(/\s+/)` on ASCII lines must give the same words on any input. */
  const asSplit = (line: string): string[] => {
    const trimmed = line.trim();
    return trimmed === '' ? [] : trimmed.split(/\s+/);
  };
  const asciiWithSpaces = fc
    .array(fc.oneof(fc.constantFrom(' ', '\t', '\n', '\v', '\f', '\r', '\x1c', '\x1f', '\x85', '\u00a0', '\u2028', '\ufeff'), fc.string({ unit: 'binary-ascii', maxLength: 8 })), { maxLength: 12 })
    .map((parts) => parts.join(''));

  it('are those of trim().split(/\\s+/), Unicode spaces included', () => {
    fc.assert(
      fc.property(fc.oneof(asciiWithSpaces, anyCodeUnits, nearGrammar), (line) => {
        expect(words(line)).toEqual(asSplit(line));
      }),
      { numRuns: 5000 },
    );
  });
});
