import { describe, expect, it } from 'vitest';
import { MAX_LINE_CHARS, parseLine, type ParsedLine } from '../../clients/parse-line.js';
import { LineSplitter } from '../../clients/line-splitter.js';
import { parseArgs, UsageError } from '../../clients/args.js';
import { helpText } from '../../clients/help.js';
import { COMMAND_WORDS } from '../../clients/command.js';

/** The message of an invalid line (fails the test if the line parsed). */
function problem(line: string): string {
  const parsed: ParsedLine = parseLine(line);
  if (parsed.kind !== 'invalid') throw new Error(`expected ${JSON.stringify(line)} to be invalid, got ${parsed.kind}`);
  return parsed.message;
}

describe('parseLine: valid commands', () => {
  it.each([
    ['create 8', { kind: 'create', id: 8 }],
    ['create 20 on b', { kind: 'create', id: 20, host: 'b' }],
    ['create 20 8 on host-2.b', { kind: 'create', id: 20, parent: 8, host: 'host-2.b' }],
    ['create 20 -1 on b', { kind: 'create', id: 20, host: 'b' }],
    ['create 9 11', { kind: 'create', id: 9, parent: 11 }],
    ['create 5 -1', { kind: 'create', id: 5 }],
    ['create 0', { kind: 'create', id: 0 }],
    ['create 2147483647 0', { kind: 'create', id: 2147483647, parent: 0 }],
    ['create 007', { kind: 'create', id: 7 }],
    ['exec 8 X', { kind: 'exec', id: 8, name: 'X' }],
    ['exec 8 X 16', { kind: 'exec', id: 8, name: 'X', value: 16n }],
    ['exec 8 abc123XYZ -5', { kind: 'exec', id: 8, name: 'abc123XYZ', value: -5n }],
    ['exec 1 max 9223372036854775807', { kind: 'exec', id: 1, name: 'max', value: 9223372036854775807n }],
    ['exec 1 min -9223372036854775808', { kind: 'exec', id: 1, name: 'min', value: -9223372036854775808n }],
    ['exec 1 z -0', { kind: 'exec', id: 1, name: 'z', value: 0n }],
    ['ping 21', { kind: 'ping', id: 21 }],
    ['heartbeat 2000', { kind: 'heartbeat', intervalMs: 2000 }],
    ['heartbit 10', { kind: 'heartbeat', intervalMs: 10 }],
    ['heartbeat 0', { kind: 'heartbeat', intervalMs: 0 }],
    ['heartbeat 3600000', { kind: 'heartbeat', intervalMs: 3600000 }],
    ['help', { kind: 'help' }],
    ['help exec', { kind: 'help', topic: 'exec' }],
    ['help heartbit', { kind: 'help', topic: 'heartbeat' }],
    ['quit', { kind: 'quit' }],
    ['tree', { kind: 'tree', json: false }],
    ['tree --json', { kind: 'tree', json: true }],
    ['status', { kind: 'status' }],
    ['help tree', { kind: 'help', topic: 'tree' }],
    ['help status', { kind: 'help', topic: 'status' }],
  ])('%j', (line, expected) => {
    expect(parseLine(line)).toEqual(expected);
  });

  it('accepts CRLF and any whitespace between tokens', () => {
    expect(parseLine('exec 8 X 16\r')).toEqual({ kind: 'exec', id: 8, name: 'X', value: 16n });
    expect(parseLine('  \texec\t 8 \u00a0 X\v16  \r')).toEqual({ kind: 'exec', id: 8, name: 'X', value: 16n });
    expect(parseLine('quit\r')).toEqual({ kind: 'quit' });
  });

  it('keeps a 255-character name', () => {
    const name = 'a'.repeat(255);
    expect(parseLine(`exec 1 ${name}`)).toEqual({ kind: 'exec', id: 1, name });
  });
});

describe('parseLine: lines to skip', () => {
  it.each(['', '   ', '\t', '\r', '# a comment', '   # indented comment', '#create 5'])('%j', (line) => {
    expect(parseLine(line)).toEqual({ kind: 'skip' });
  });
});

describe('parseLine: wrong commands and argument counts', () => {
  it.each([
    ['foo', "unknown command 'foo': expected create, exec, ping, heartbeat, remove, keys, del, watch, tree, status, help or quit"],
    ['CREATE 5', "unknown command 'CREATE': expected create, exec, ping, heartbeat, remove, keys, del, watch, tree, status, help or quit"],
    ['create', 'create takes 1 or 2 arguments: create <id> [<parent>] [on <host>]'],
    ['create 1 2 3', 'create takes 1 or 2 arguments: create <id> [<parent>] [on <host>]'],
    ['create 1 2 on b c', 'create takes 1 or 2 arguments: create <id> [<parent>] [on <host>]'],
    ['exec 8', 'exec takes 2 or 3 arguments: exec <id> <name> [<value>]'],
    ['exec', 'exec takes 2 or 3 arguments: exec <id> <name> [<value>]'],
    ['exec 8 X 1 2', 'exec takes 2 or 3 arguments: exec <id> <name> [<value>]'],
    ['ping', 'ping takes 1 argument: ping <id>'],
    ['ping 1 2', 'ping takes 1 argument: ping <id>'],
    ['heartbeat', 'heartbeat takes 1 argument: heartbeat <time>'],
    ['heartbit 1 2', 'heartbit takes 1 argument: heartbit <time>'],
    ['help a b', 'help takes at most 1 argument: help [<command>]'],
    ['help foo', "no help for 'foo': expected create, exec, ping, heartbeat, remove, keys, del, watch, tree, status, help or quit"],
    ['quit now', 'quit takes no arguments: quit'],
    ['status 1', 'status takes no arguments: status'],
    ['tree 8', "unknown tree option '8': tree [--json]"],
    ['tree --JSON', "unknown tree option '--JSON': tree [--json]"],
    ['tree --json x', 'tree takes at most 1 argument: tree [--json]'],
  ])('%j', (line, message) => {
    expect(problem(line)).toBe(message);
  });
});

describe('parseLine: bad numbers and names', () => {
  it.each([
    ['create abc', "invalid id 'abc': expected an integer from 0 to 2147483647"],
    ['ping x1', "invalid id 'x1': expected an integer from 0 to 2147483647 in plain decimal digits"],
    ['create 1e3', "invalid id '1e3': expected an integer from 0 to 2147483647 in plain decimal digits"],
    ['create 0x10', "invalid id '0x10': expected an integer from 0 to 2147483647 in plain decimal digits"],
    ['create +5', "invalid id '+5': expected an integer from 0 to 2147483647 in plain decimal digits"],
    ['create 5.0', "invalid id '5.0': expected an integer from 0 to 2147483647 in plain decimal digits"],
    ['create 1_000', "invalid id '1_000': expected an integer from 0 to 2147483647 in plain decimal digits"],
    ['create -5', 'id -5 is out of range: expected an integer from 0 to 2147483647'],
    ['create 2147483648', 'id 2147483648 is out of range: expected an integer from 0 to 2147483647'],
    ['ping 99999999999999999999', "id '99999999999999999999' is out of range: expected an integer from 0 to 2147483647"],
    ['create 5 -2', 'parent -2 is out of range: expected an integer from 0 to 2147483647 (or -1 for no parent)'],
    ['create 5 p', "invalid parent 'p': expected an integer from 0 to 2147483647 (or -1 for no parent)"],
    ['exec 8 X 9223372036854775808', 'value 9223372036854775808 is out of range: expected a signed 64-bit integer'],
    ['exec 8 X -9223372036854775809', 'value -9223372036854775809 is out of range: expected a signed 64-bit integer'],
    ['exec 8 X ten', "invalid value 'ten': expected a signed 64-bit integer"],
    ['exec 8 X 1e3', "invalid value '1e3': expected a signed 64-bit integer in plain decimal digits"],
    ['exec 8 X +5', "invalid value '+5': expected a signed 64-bit integer in plain decimal digits"],
    ['exec 8 X 0x10', "invalid value '0x10': expected a signed 64-bit integer in plain decimal digits"],
    ['exec 8 X-Y 1', "name 'X-Y' is invalid: expected 1 to 255 characters from [A-Za-z0-9]"],
    ['exec 8 Ключ 1', "name '????' is invalid: expected 1 to 255 characters from [A-Za-z0-9]"],
    ['heartbeat 5', 'heartbeat interval 5 ms is out of range: expected 0 (off) or 10 to 3600000'],
    ['heartbeat 3600001', 'heartbeat interval 3600001 ms is out of range: expected 0 (off) or 10 to 3600000'],
    ['heartbeat -10', 'heartbeat interval -10 ms is out of range: expected 0 (off) or 10 to 3600000'],
    ['heartbeat 1s', "invalid time '1s': expected 0 (off) or an integer from 10 to 3600000 (milliseconds) in plain decimal digits"],
  ])('%j', (line, message) => {
    expect(problem(line)).toBe(message);
  });

  it('refuses a 256-character name', () => {
    expect(problem(`exec 1 ${'a'.repeat(256)}`)).toMatch(/^name 'a{40}\.\.\.' is invalid/);
  });
});

describe('parseLine: garbage gives a short error', () => {
  it('a 1 MiB line', () => {
    const message = problem('x'.repeat(1 << 20));
    expect(message).toBe(`line '${'x'.repeat(40)}...' is too long: expected at most ${MAX_LINE_CHARS} characters`);
  });

  it('a 1 MiB number, just under the line limit, costs nothing and is quoted short', () => {
    const digits = '9'.repeat(MAX_LINE_CHARS - 20);
    expect(problem(`exec 1 X ${digits}`)).toBe(`value '${'9'.repeat(40)}...' is out of range: expected a signed 64-bit integer`);
    expect(problem(`ping ${digits}`).length).toBeLessThan(120);
    expect(problem(`heartbeat ${digits}`).length).toBeLessThan(140);
  });

  it('NUL, control characters and invalid UTF-8 replacement characters are shown as ?', () => {
    expect(problem('create 5\u0000')).toBe("invalid id '5?': expected an integer from 0 to 2147483647 in plain decimal digits");
    expect(problem('\u0000\u0001')).toBe("unknown command '??': expected create, exec, ping, heartbeat, remove, keys, del, watch, tree, status, help or quit");
    expect(problem('exec 1 a\ufffdb')).toBe("name 'a?b' is invalid: expected 1 to 255 characters from [A-Za-z0-9]");
  });

  it('a line of many tokens', () => {
    expect(problem(`exec ${'1 '.repeat(1000)}`)).toBe('exec takes 2 or 3 arguments: exec <id> <name> [<value>]');
  });

  it('every message is one short line', () => {
    const nasty = ['\u0000'.repeat(100), `create ${'\n'.repeat(3)}`, `${'é'.repeat(3000)}`, `exec 1 ${'\u2028'.repeat(50)}`];
    for (const line of nasty) {
      const parsed = parseLine(line);
      if (parsed.kind !== 'invalid') continue;
      for (const bad of ['\n', '\r', '\u0000']) expect(parsed.message).not.toContain(bad);
      expect(parsed.message.length).toBeLessThan(200);
    }
  });
});

describe('LineSplitter', () => {
  it('splits across chunks and keeps the last unterminated line', () => {
    const splitter = new LineSplitter(100);
    expect(splitter.push('create 8\ncre')).toEqual(['create 8']);
    expect(splitter.push('ate 9\r\n\nping')).toEqual(['create 9\r', '']);
    expect(splitter.push(' 9')).toEqual([]);
    expect(splitter.end()).toBe('ping 9');
    expect(splitter.end()).toBeUndefined();
  });

  it('cuts an overlong line to max + 1 characters (so the parser refuses it) and recovers after it', () => {
    const splitter = new LineSplitter(10);
    const lines = [...splitter.push('x'.repeat(7)), ...splitter.push('y'.repeat(1000)), ...splitter.push('z\nping 1\n')];
    expect(lines).toEqual([`${'x'.repeat(7)}yyyy`, 'ping 1']);
    expect(lines[0]).toHaveLength(11);
  });

  it('a line of exactly max characters is kept whole', () => {
    const splitter = new LineSplitter(5);
    expect(splitter.push('12345\n123456\n')).toEqual(['12345', '123456']);
  });
});

describe('parseArgs', () => {
  const env = {};

  it('defaults', () => {
    expect(parseArgs([], env)).toEqual({
      kind: 'run',
      options: { target: '127.0.0.1:50051', format: 'seed', ordered: false, json: false },
    });
  });

  it('flags, both spellings, and the environment', () => {
    expect(parseArgs(['--target', 'h:1', '--format=mai', '--ordered'], env)).toEqual({
      kind: 'run',
      options: { target: 'h:1', format: 'mai', ordered: true, json: false },
    });
    expect(parseArgs(['--json'], { ARBOR_TARGET: 'e:2' })).toEqual({
      kind: 'run',
      options: { target: 'e:2', format: 'seed', ordered: false, json: true },
    });
    expect(parseArgs(['--target=f:3'], { ARBOR_TARGET: 'e:2' })).toMatchObject({ options: { target: 'f:3' } });
  });

  it('TLS from --tls-ca or ARBOR_TLS_CA, the token from ARBOR_TOKEN only', () => {
    expect(parseArgs(['--tls-ca', 'ca.pem'], env)).toMatchObject({ options: { tlsCa: 'ca.pem' } });
    expect(parseArgs(['--tls-ca=a.pem'], { ARBOR_TLS_CA: 'b.pem' })).toMatchObject({ options: { tlsCa: 'a.pem' } });
    expect(parseArgs([], { ARBOR_TLS_CA: 'b.pem', ARBOR_TOKEN: ' t0k ' })).toMatchObject({ options: { tlsCa: 'b.pem', token: 't0k' } });
    expect(() => parseArgs(['--token', 'x'], env)).toThrow(new UsageError("unknown option '--token'"));
  });

  it('one-shot: the arguments after the options are one command line, options of its own included', () => {
    expect(parseArgs(['-t', 'h:1', 'exec', '50', 'a', '-5'], env)).toEqual({
      kind: 'run',
      options: { target: 'h:1', format: 'seed', ordered: false, json: false, command: 'exec 50 a -5' },
    });
    expect(parseArgs(['--json', 'tree', '--json'], env)).toMatchObject({ options: { json: true, command: 'tree --json' } });
    expect(parseArgs(['--target=h:1', 'status'], env)).toMatchObject({ options: { target: 'h:1', command: 'status' } });
    expect(parseArgs(['exec', '1', 'a', '--help'], env)).toMatchObject({ kind: 'run', options: { command: 'exec 1 a --help' } });
    expect(parseArgs(['--target', 'h:1'], env)).not.toHaveProperty('options.command');
  });

  it('help and version win', () => {
    expect(parseArgs(['--bogus', '--help'], env)).toEqual({ kind: 'help' });
    expect(parseArgs(['--version'], env)).toEqual({ kind: 'version' });
  });

  it.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['--target'], 'option --target needs a value'],
    [['--target', '--json'], 'option --target needs a value'],
    [['-t'], 'option -t needs a value'],
    [['--bogus', 'status'], "unknown option '--bogus'"],
    [['--target='], 'option --target needs a value'],
    [['--format', 'xml'], "invalid --format 'xml': expected seed or mai"],
    [['--ordered=yes'], 'option --ordered takes no value'],
    [['--json', '--format', 'mai'], '--format and --json cannot be used together'],
    [['--target', 'a b:1'], "invalid --target 'a b:1': expected host:port"],
    [['--tls-ca'], 'option --tls-ca needs a value'],
  ])('%j → %s', (argv, message) => {
    expect(() => parseArgs(argv, env)).toThrow(new UsageError(message));
  });
});

describe('helpText', () => {
  it('lists every command', () => {
    const text = helpText();
    for (const usage of ['create <id> [<parent>] [on <host>]', 'exec <id> <name> [<value>]', 'ping <id>', 'heartbeat <time>', 'tree [--json]', 'status', 'help', 'quit']) {
      expect(text).toContain(usage);
    }
  });

  it('explains one command', () => {
    expect(helpText('exec').split('\n')[0]).toBe('exec <id> <name> [<value>]');
  });

  it('explains every command, tree with its drawing convention', () => {
    for (const word of COMMAND_WORDS) expect(helpText(word).split('\n').length).toBeGreaterThan(1);
    expect(helpText('tree')).toContain('├─L 6 (pid 4243)');
    expect(helpText('tree')).toContain('✗ unavailable');
  });
});
