/**
 * The console's dictionary commands (keys, del, watch) as lines, their reply and event lines,
 * `arbor dump`/`restore` on the command line, and the dump's line format.
 */
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../clients/args.js';
import { dumpLine, parseDumpLine } from '../../clients/dump-format.js';
import { formatKeyEvent, formatReply } from '../../clients/format.js';
import { parseLine } from '../../clients/parse-line.js';

describe('keys, del and watch lines', () => {
  it.each([
    ['keys 5', { kind: 'keys', id: 5, prefix: '' }],
    ['keys 5 ab', { kind: 'keys', id: 5, prefix: 'ab' }],
    ['del 5 x', { kind: 'delete', id: 5, name: 'x' }],
    ['watch', { kind: 'watch', prefix: '' }],
    ['watch 12', { kind: 'watch', id: 12, prefix: '' }],
    ['watch abc', { kind: 'watch', prefix: 'abc' }],
    ['watch 12 abc', { kind: 'watch', id: 12, prefix: 'abc' }],
    ['watch * 12', { kind: 'watch', prefix: '12' }],
  ])('%j', (line, expected) => expect(parseLine(line)).toEqual(expected));

  it.each([
    ['keys', 'keys takes 1 or 2 arguments: keys <id> [<prefix>]'],
    ['keys 5 a-b', "prefix 'a-b' is invalid: expected 0 to 255 characters from [A-Za-z0-9]"],
    ['del 5', 'del takes 2 arguments: del <id> <name>'],
    ['del 5 a b', 'del takes 2 arguments: del <id> <name>'],
    ['watch 1 2 3', 'watch takes at most 2 arguments: watch [<id>] [<prefix>]'],
    ['watch a-b', "prefix 'a-b' is invalid: expected 0 to 255 characters from [A-Za-z0-9]"],
  ])('%j is refused', (line, message) => expect(parseLine(line)).toEqual({ kind: 'invalid', message }));

  it('replies and events print as the issue says', () => {
    const keys = { $case: 'keys' as const, value: { entries: [{ name: 'a', value: -1n }], more: false, revision: 1n } };
    expect(formatReply({ kind: 'keys', id: 5, prefix: '' }, keys, 'seed')).toBe("Ok: 5 'a' -1\nOk: 5 1 names");
    expect(formatReply({ kind: 'delete', id: 5, name: 'a' }, { $case: 'delete', value: { id: 5, name: 'a', found: false } }, 'mai')).toBe("Ok: 5 'a' not found");
    expect(formatKeyEvent({ id: 5, name: 'a', kind: 'put', value: 7n })).toBe("Watch: 5 'a' = 7");
    expect(formatKeyEvent({ id: 5, name: 'a', kind: 'delete', value: 0n })).toBe("Watch: 5 'a' deleted");
  });
});

describe('arbor dump and restore', () => {
  it('are subcommands with the connection options only', () => {
    expect(parseArgs(['dump', '--target', 'h:1'], {})).toMatchObject({ kind: 'dump', options: { target: 'h:1' } });
    expect(parseArgs(['restore'], { ARBOR_TARGET: 'h:2' })).toMatchObject({ kind: 'restore', options: { target: 'h:2' } });
    expect(() => parseArgs(['dump', '--json'], {})).toThrow('option --json is for the console, not dump');
  });

  it('lines round-trip, and a bad line says what is wrong', () => {
    for (const record of [{ id: 8, name: 'X', value: -(2n ** 63n) }, { id: 0 }]) expect(parseDumpLine(dumpLine(record))).toEqual(record);
    expect(dumpLine({ id: 8, name: 'X', value: 16n })).toBe('{"id":8,"name":"X","value":"16"}');
    expect(parseDumpLine('{"id":8,"name":"X","value":16}')).toMatch(/^value must be a decimal int64 in a string/);
    expect(parseDumpLine('{"id":8,"name":"X","value":"9223372036854775808"}')).toMatch(/out of range/);
    expect(parseDumpLine('{"id":-1}')).toMatch(/out of range/);
    expect(parseDumpLine('{"id":1,"nme":"x"}')).toBe("unknown member 'nme'");
    expect(parseDumpLine('[1]')).toMatch(/^expected an object/);
    expect(parseDumpLine('nope')).toMatch(/^not JSON/);
  });
});
