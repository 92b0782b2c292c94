import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { NodeEventKind as LibEventKind } from '../../clients/lib/types.js';
import {
  errorOutcome,
  toCommandBody,
  type Outcome,
  type RemoteCommand,
} from '../../clients/command.js';
import { formatEvent, formatJsonEvent } from '../../clients/format-event.js';
import { formatJsonHelp, formatJsonLocalError, formatJsonReply } from '../../clients/format-json.js';
import { formatLocalError, formatReply, isFailure, statusName } from '../../clients/format.js';
import { ReplyOrder } from '../../clients/reply-order.js';

const create = (id: number, parent?: number): RemoteCommand =>
  parent === undefined ? { kind: 'create', id } : { kind: 'create', id, parent };
const store = (id: number, name: string, value: bigint): RemoteCommand => ({ kind: 'exec', id, name, value });
const load = (id: number, name: string): RemoteCommand => ({ kind: 'exec', id, name });
const ping = (id: number): RemoteCommand => ({ kind: 'ping', id });
const heartbeat = (intervalMs: number): RemoteCommand => ({ kind: 'heartbeat', intervalMs });

const created = (id: number, pid: number, parent?: number): Outcome => ({ $case: 'create', value: { id, pid, parent } });
const execResult = (id: number, name: string, found: boolean, value: bigint): Outcome => ({
  $case: 'exec',
  value: { id, name, found, value },
});
const pinged = (id: number, available: boolean): Outcome => ({ $case: 'ping', value: { id, available } });
const heartbeatSet = (intervalMs: number): Outcome => ({ $case: 'heartbeat', value: { intervalMs } });
const failed = (code: status, message: string): Outcome => errorOutcome(code, message);

/* Every row of the output table in ../shared/spec/assignment.md: [case, command, outcome, seed, mai]. */
const TABLE: [string, RemoteCommand, Outcome, string, string][] = [
  ['create succeeded', create(8), created(8, 102478), 'Ok: 102478', 'Ok: 102478'],
  ['create with parent succeeded', create(9, 11), created(9, 4242, 11), 'Ok: 4242', 'Ok: 4242'],
  [
    'id already used',
    create(8),
    failed(status.ALREADY_EXISTS, 'Node with id 8 already exists'),
    'Error: Node with id 8 already exists',
    'Error: Already exists',
  ],
  [
    'parent does not exist',
    create(6, 5),
    failed(status.NOT_FOUND, 'Parent with id 5 not found'),
    'Error: Parent with id 5 not found',
    'Error: Parent not found',
  ],
  [
    'parent does not answer',
    create(6, 5),
    failed(status.UNAVAILABLE, 'Parent 5 is unavailable'),
    'Error: Parent 5 is unavailable',
    'Error: Parent is unavailable',
  ],
  [
    'parent given, but the tree places the id elsewhere',
    create(9, 8),
    failed(status.FAILED_PRECONDITION, 'Node 9 belongs under 11, not under 8'),
    'Error: Node 9 belongs under 11, not under 8',
    'Error: Node 9 belongs under 11, not under 8',
  ],
  [
    'the tree would make it the root',
    create(3, 8),
    failed(status.FAILED_PRECONDITION, 'Node 3 belongs under control, not under 8'),
    'Error: Node 3 belongs under control, not under 8',
    'Error: Node 3 belongs under control, not under 8',
  ],
  ['value stored', store(8, 'X', 16n), execResult(8, 'X', true, 16n), 'Ok: 8', 'Ok:8'],
  ['value loaded', load(8, 'X'), execResult(8, 'X', true, 16n), "Ok: 8 'X' 16", 'Ok:8: 16'],
  ['key absent', load(8, 'X'), execResult(8, 'X', false, 0n), "Ok: 8 'X' not found", "Ok:8: 'X' not found"],
  [
    'exec: node does not exist',
    load(10, 'X'),
    failed(status.NOT_FOUND, "Node with id 10 doesn't exist"),
    "Error: Node with id 10 doesn't exist",
    'Error:10: Not found',
  ],
  [
    'exec (store): node does not exist',
    store(10, 'X', 1n),
    failed(status.NOT_FOUND, "Node with id 10 doesn't exist"),
    "Error: Node with id 10 doesn't exist",
    'Error:10: Not found',
  ],
  [
    'exec: node does not answer',
    load(8, 'X'),
    failed(status.UNAVAILABLE, 'Node 8 is unavailable'),
    'Error: Node 8 is unavailable',
    'Error:8: Node is unavailable',
  ],
  [
    'ping: node does not exist',
    ping(21),
    failed(status.NOT_FOUND, "Node with id 21 doesn't exist"),
    "Error: Node with id 21 doesn't exist",
    'Error: Not found',
  ],
  ['ping answered', ping(11), pinged(11, true), 'Ok: 11 is available', 'Ok: 1'],
  ['ping not answered', ping(11), pinged(11, false), 'Error: 11 is unavailable', 'Ok: 0'],
  ['heartbeat set', heartbeat(2000), heartbeatSet(2000), 'Ok', 'Ok'],
  [
    'malformed (refused by the gateway)',
    store(8, 'X', 1n),
    failed(status.INVALID_ARGUMENT, "name 'X-' is invalid: expected 1 to 255 characters from [A-Za-z0-9]"),
    "Error: name 'X-' is invalid: expected 1 to 255 characters from [A-Za-z0-9]",
    "Error: name 'X-' is invalid: expected 1 to 255 characters from [A-Za-z0-9]",
  ],
  [
    'any other status',
    ping(1),
    failed(status.DEADLINE_EXCEEDED, 'Deadline exceeded'),
    'Error: Deadline exceeded',
    'Error: Deadline exceeded',
  ],
];

describe('formatReply: the assignment table', () => {
  it.each(TABLE)('%s', (_case, command, outcome, seed, mai) => {
    expect(formatReply(command, outcome, 'seed')).toBe(seed);
    expect(formatReply(command, outcome, 'mai')).toBe(mai);
  });
});

describe('formatReply: edges', () => {
  it('int64 extremes print exactly', () => {
    const max = 9223372036854775807n;
    const min = -9223372036854775808n;
    expect(formatReply(load(1, 'a'), execResult(1, 'a', true, max), 'seed')).toBe("Ok: 1 'a' 9223372036854775807");
    expect(formatReply(load(1, 'a'), execResult(1, 'a', true, min), 'mai')).toBe('Ok:1: -9223372036854775808');
  });

  it('a ping the gateway answers with UNAVAILABLE still means "did not answer"', () => {
    const outcome = failed(status.UNAVAILABLE, 'Node 4 is unavailable');
    expect(formatReply(ping(4), outcome, 'seed')).toBe('Error: Node 4 is unavailable');
    expect(formatReply(ping(4), outcome, 'mai')).toBe('Ok: 0');
  });

  it('an error message is kept on one line, and an empty one names the status', () => {
    expect(formatReply(ping(1), failed(status.INTERNAL, 'bad\nthing\r\n'), 'seed')).toBe('Error: bad thing ');
    expect(formatReply(ping(1), failed(status.INTERNAL, ''), 'seed')).toBe('Error: INTERNAL');
  });

  it('a result of the wrong kind is an error line, not a crash', () => {
    expect(formatReply(ping(1), created(1, 2), 'seed')).toBe('Error: the gateway answered a ping command with a create result');
    expect(isFailure(ping(1), created(1, 2))).toBe(true);
  });

  it('a local error reads the same in both formats', () => {
    expect(formatLocalError("unknown command 'foo': expected create, exec, ping, heartbeat, help or quit")).toBe(
      "Error: unknown command 'foo': expected create, exec, ping, heartbeat, help or quit",
    );
  });
});

describe('isFailure (the exit code)', () => {
  it.each(TABLE)('%s', (_case, command, outcome, seed) => {
    expect(isFailure(command, outcome)).toBe(seed.startsWith('Error'));
  });
});

describe('formatJsonReply', () => {
  it('documented shapes', () => {
    expect(formatJsonReply(3, load(8, 'X'), execResult(8, 'X', true, 16n))).toBe(
      '{"line":3,"command":"exec","id":8,"name":"X","ok":true,"found":true,"value":"16"}',
    );
    expect(formatJsonReply(4, load(8, 'Y'), execResult(8, 'Y', false, 0n))).toBe(
      '{"line":4,"command":"exec","id":8,"name":"Y","ok":true,"found":false}',
    );
    expect(formatJsonReply(1, create(8), created(8, 99))).toBe(
      '{"line":1,"command":"create","id":8,"ok":true,"pid":99,"parent":null}',
    );
    expect(formatJsonReply(2, create(9), created(9, 100, 8))).toBe(
      '{"line":2,"command":"create","id":9,"ok":true,"pid":100,"parent":8}',
    );
    expect(formatJsonReply(5, ping(9), pinged(9, false))).toBe('{"line":5,"command":"ping","id":9,"ok":true,"available":false}');
    expect(formatJsonReply(6, heartbeat(50), heartbeatSet(50))).toBe(
      '{"line":6,"command":"heartbeat","intervalMs":50,"ok":true}',
    );
    expect(formatJsonReply(7, load(10, 'X'), failed(status.NOT_FOUND, "Node with id 10 doesn't exist"))).toBe(
      '{"line":7,"command":"exec","id":10,"name":"X","ok":false,"code":"NOT_FOUND","message":"Node with id 10 doesn\'t exist"}',
    );
  });

  it('int64 values are strings, exact', () => {
    const line = formatJsonReply(1, load(1, 'm'), execResult(1, 'm', true, -9223372036854775808n));
    expect(JSON.parse(line)).toMatchObject({ value: '-9223372036854775808' });
  });

  it('local errors, help, and a mismatched result', () => {
    expect(formatJsonLocalError(9, "invalid id 'x': expected an integer from 0 to 2147483647")).toBe(
      '{"line":9,"ok":false,"code":"INVALID_ARGUMENT","message":"invalid id \'x\': expected an integer from 0 to 2147483647"}',
    );
    expect(JSON.parse(formatJsonHelp(2, 'a\nb'))).toEqual({ line: 2, command: 'help', ok: true, text: 'a\nb' });
    expect(JSON.parse(formatJsonReply(1, ping(1), created(1, 2)))).toMatchObject({ ok: false, code: 'INTERNAL' });
  });
});

describe('events', () => {
  const event = (kind: LibEventKind) => ({ id: 9, kind, time: new Date(0), reason: 'silent for 400 ms' });

  it('text: the two heartbit lines, nothing for the rest', () => {
    expect(formatEvent(event('unavailable'))).toBe('Heartbit: node 9 is unavailable now');
    expect(formatEvent(event('available'))).toBe('Heartbit: node 9 is available again');
    expect(formatEvent(event('created'))).toBeUndefined();
    expect(formatEvent(event('exited'))).toBeUndefined();
  });

  it('json: every event', () => {
    expect(formatJsonEvent({ ...event('exited'), signal: 'SIGKILL' })).toBe(
      '{"event":"exited","id":9,"time":"1970-01-01T00:00:00.000Z","reason":"silent for 400 ms","signal":"SIGKILL"}',
    );
  });
});

describe('toCommandBody', () => {
  it('maps commands onto the Session oneof', () => {
    expect(toCommandBody(create(9, 11))).toEqual({ $case: 'create', value: { id: 9, parent: 11 } });
    expect(toCommandBody(create(8))).toEqual({ $case: 'create', value: { id: 8, parent: undefined } });
    expect(toCommandBody(store(8, 'X', -1n))).toEqual({ $case: 'exec', value: { id: 8, name: 'X', value: -1n } });
    expect(toCommandBody(load(8, 'X'))).toEqual({ $case: 'exec', value: { id: 8, name: 'X', value: undefined } });
    expect(toCommandBody(ping(3))).toEqual({ $case: 'ping', value: { id: 3 } });
  });

  it('heartbeat (also spelled heartbit) is a Session command', () => {
    expect(toCommandBody(heartbeat(100))).toEqual({ $case: 'heartbeat', value: { intervalMs: 100 } });
  });

  it('a heartbeat the gateway refuses prints its message in both formats', () => {
    const message = 'heartbeat interval 5 ms is out of range: expected 0 (off) or 10 to 3600000';
    const outcome = failed(status.INVALID_ARGUMENT, message);
    expect(formatReply(heartbeat(5), outcome, 'seed')).toBe(`Error: ${message}`);
    expect(formatReply(heartbeat(5), outcome, 'mai')).toBe(`Error: ${message}`);
  });

  it('status names', () => {
    expect(statusName(5)).toBe('NOT_FOUND');
    expect(statusName(99)).toBe('CODE_99');
  });
});

describe('ReplyOrder', () => {
  it('arrival order prints at once', () => {
    const printed: string[] = [];
    const order = new ReplyOrder(false, (text) => printed.push(text));
    const [a, b] = [order.reserve(), order.reserve()];
    order.fill(b, 'second');
    expect(printed).toEqual(['second']);
    expect(order.inFlight).toBe(1);
    order.fill(a, 'first');
    expect(printed).toEqual(['second', 'first']);
    expect(order.backlog).toBe(0);
  });

  it('input order holds later replies back, and an empty slot does not block', () => {
    const printed: string[] = [];
    const order = new ReplyOrder(true, (text) => printed.push(text));
    const [a, b, c] = [order.reserve(), order.reserve(), order.reserve()];
    order.fill(c, 'third');
    order.fill(b, undefined);
    expect(printed).toEqual([]);
    expect(order.backlog).toBe(3);
    expect(order.inFlight).toBe(1);
    order.fill(a, 'first');
    expect(printed).toEqual(['first', 'third']);
    expect(order.backlog).toBe(0);
  });
});
