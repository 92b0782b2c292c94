/* The console's terminal manners, pure parts: colours, completion, progress text, history path
   and trimming, reconnection delays. (The history file test uses a real temporary directory.) */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { colourEnabled, colourReply } from '../../clients/colour.js';
import { completeLine, lookupFor } from '../../clients/completion.js';
import { RestartNotes } from '../../clients/format-event.js';
import { noticeOf } from '../../clients/gateway-log.js';
import { isRetryable, nextRetryDelay, RETRY_DELAY_MS } from '../../clients/gateway-link.js';
import { HISTORY_LINES, HistoryFile, historyPath, keepsInHistory, lastLines } from '../../clients/history.js';
import { progressEnabled, progressText } from '../../clients/progress.js';

describe('colourEnabled', () => {
  const tty = { isTTY: true };
  it.each([
    [tty, {}, true],
    [tty, { TERM: 'xterm-256color' }, true],
    [tty, { NO_COLOR: '1' }, false],
    [tty, { NO_COLOR: '' }, false], // set to anything, even empty
    [tty, { NO_COLOR: '0' }, false],
    [tty, { TERM: 'dumb' }, false],
    [{ isTTY: false }, {}, false],
    [{}, {}, false], // a pipe or a file has no isTTY at all
  ])('%j %j → %s', (stream, env, expected) => {
    expect(colourEnabled(stream, env)).toBe(expected);
  });
});

describe('colourReply', () => {
  it('Ok green, Error red, Heartbit yellow; the text itself unchanged', () => {
    expect(colourReply('Ok: 8')).toBe('\x1b[32mOk: 8\x1b[0m');
    expect(colourReply('Ok')).toBe('\x1b[32mOk\x1b[0m');
    expect(colourReply('Ok:8: 16')).toBe('\x1b[32mOk:8: 16\x1b[0m');
    expect(colourReply("Error: Node with id 10 doesn't exist")).toBe("\x1b[31mError: Node with id 10 doesn't exist\x1b[0m");
    expect(colourReply('Heartbit: node 9 is unavailable now')).toBe('\x1b[33mHeartbit: node 9 is unavailable now\x1b[0m');
    expect(colourReply('nodes 1, depth 0, heartbeat off, unavailable 0')).toBe('nodes 1, depth 0, heartbeat off, unavailable 0');
    expect(colourReply('Okay')).toBe('Okay');
  });

  it('colours the marks of a tree, line by line', () => {
    expect(colourReply('8 (pid 1)\n└─R 11 (pid 2) ✗ exited')).toBe('8 (pid 1)\n└─R 11 (pid 2) \x1b[31m✗ exited\x1b[0m');
  });
});

describe('completeLine', () => {
  it.each([
    ['', ['create', 'exec', 'ping', 'heartbeat', 'remove', 'keys', 'del', 'watch', 'tree', 'status', 'help', 'quit'], ''],
    ['c', ['create'], 'c'],
    ['re', ['remove'], 're'],
    ['he', ['heartbeat', 'help'], 'he'],
    ['  pi', ['ping'], 'pi'],
    ['x', [], 'x'],
    ['help ', ['create', 'exec', 'ping', 'heartbeat', 'remove', 'keys', 'del', 'watch', 'tree', 'status', 'help', 'quit'], ''],
    ['help st', ['status'], 'st'],
    ['tree -', ['--json'], '-'],
    ['create 8', [], '8'],
    ['exec 8 X', [], 'X'],
    ['help exec ', [], ''],
  ])('%j', (line, hits, word) => {
    expect(completeLine(line)).toEqual([hits, word]);
  });

  const known = { ids: [8, 11, 80], names: (id: number) => (id === 8 ? ['X', 'Xy', 'b'] : []) };
  it.each([
    ['exec ', ['8', '11', '80'], ''],
    ['ping 8', ['8', '80'], '8'],
    ['remove 1', ['11'], '1'],
    ['create 8', [], '8'],
    ['exec 8 X', ['X', 'Xy'], 'X'],
    ['exec 11 X', [], 'X'],
    ['exec 8 X 5', [], '5'],
    ['keys 8', [], '8'],
  ])('with known ids and names: %j', (line, hits, word) => {
    expect(completeLine(line, known)).toEqual([hits, word]);
  });

  it('looks up the tree after exec, ping and remove, and the names after exec <id>', () => {
    expect(lookupFor('exec 1')).toEqual({ kind: 'ids' });
    expect(lookupFor('remove ')).toEqual({ kind: 'ids' });
    expect(lookupFor('exec 8 ab')).toEqual({ kind: 'names', id: 8, prefix: 'ab' });
    expect(lookupFor('exec x ab')).toBeUndefined();
    expect(lookupFor('tree ')).toBeUndefined();
  });
});

describe('restart lines at a prompt', () => {
  const at = new Date(0);
  it('tells a restart with the reason its exit gave, and the new pid; the rest as the text formats', () => {
    const notes = new RestartNotes();
    expect(notes.line({ id: 11, kind: 'unavailable', time: at, reason: 'silent' })).toBe('Heartbit: node 11 is unavailable now');
    expect(notes.line({ id: 11, kind: 'exited', time: at, reason: 'its process was killed by SIGKILL', signal: 'SIGKILL' })).toBeUndefined();
    expect(notes.line({ id: 11, kind: 'restarted', time: at, reason: 'pid 4242', pid: 4242 })).toBe('node 11 restarted (its process was killed by SIGKILL), now pid 4242');
    expect(notes.line({ id: 11, kind: 'restarted', time: at, reason: 'pid 4243', pid: 4243 })).toBe('node 11 restarted, now pid 4243');
  });
});

describe('progress', () => {
  it('shows on a terminal stderr for a script only', () => {
    expect(progressEnabled({ isTTY: true }, false, {})).toBe(true);
    expect(progressEnabled({ isTTY: true }, true, {})).toBe(false);
    expect(progressEnabled({}, false, {})).toBe(false);
    expect(progressEnabled({ isTTY: true }, false, { TERM: 'dumb' })).toBe(false);
  });

  it('text', () => {
    expect(progressText({ sent: 0, answered: 0, createsSent: 0, createsAnswered: 0 })).toBeUndefined();
    expect(progressText({ sent: 500, answered: 120, createsSent: 500, createsAnswered: 120 })).toBe('created 120/500');
    expect(progressText({ sent: 100000, answered: 5000, createsSent: 0, createsAnswered: 0 })).toBe('answered 5000/100000');
    expect(progressText({ sent: 1000, answered: 300, createsSent: 500, createsAnswered: 120 })).toBe('answered 300/1000 (created 120/500)');
  });
});

describe('reconnection', () => {
  it('gives up only on refusals no retry cures', () => {
    expect(isRetryable(undefined)).toBe(true); // the gateway ended the session (it stopped)
    expect(isRetryable(status.UNAVAILABLE)).toBe(true);
    expect(isRetryable(status.INTERNAL)).toBe(true);
    expect(isRetryable(status.UNAUTHENTICATED)).toBe(false);
    expect(isRetryable(status.PERMISSION_DENIED)).toBe(false);
    expect(isRetryable(status.UNIMPLEMENTED)).toBe(false);
  });

  it('100 ms doubling to 5 s', () => {
    const delays: number[] = [RETRY_DELAY_MS.initial];
    while (delays.length < 10) delays.push(nextRetryDelay(delays.at(-1) ?? 0));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
  });
});

describe('history', () => {
  it('lives under XDG_STATE_HOME (absolute), else ~/.local/state', () => {
    expect(historyPath({ XDG_STATE_HOME: '/s' }, '/home/u')).toBe('/s/arbor/history');
    expect(historyPath({ XDG_STATE_HOME: 'relative' }, '/home/u')).toBe('/home/u/.local/state/arbor/history');
    expect(historyPath({}, '/home/u')).toBe('/home/u/.local/state/arbor/history');
    expect(historyPath({}, undefined)).toBeUndefined();
    expect(historyPath({}, '')).toBeUndefined();
  });

  it('keeps the last lines, and only lines worth keeping', () => {
    expect(lastLines('a\nb\n\nc\n', 2)).toEqual(['b', 'c']);
    expect(lastLines('', 2)).toEqual([]);
    expect(keepsInHistory('ping 8')).toBe(true);
    expect(keepsInHistory('   ')).toBe(false);
    expect(keepsInHistory('x'.repeat(5000))).toBe(false);
    expect(keepsInHistory('ping\t8')).toBe(false);
  });

  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('a file: appended as typed, read newest first, bounded, and never failing', () => {
    dir = mkdtempSync(join(tmpdir(), 'arbor-history-'));
    const path = join(dir, 'state', 'arbor', 'history');
    const first = new HistoryFile(path);
    expect(first.load()).toEqual([]);
    for (const line of ['create 8', 'create 8', '', 'ping 8']) first.add(line);
    first.close();
    expect(readFileSync(path, 'utf8')).toBe('create 8\nping 8\n');
    expect(new HistoryFile(path).load()).toEqual(['ping 8', 'create 8']);

    writeFileSync(path, Array.from({ length: HISTORY_LINES + 50 }, (_, i) => `ping ${i}\n`).join(''));
    const loaded = new HistoryFile(path).load();
    expect(loaded).toHaveLength(HISTORY_LINES);
    expect(loaded[0]).toBe(`ping ${HISTORY_LINES + 49}`);
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(HISTORY_LINES + 1);

    /* A directory that cannot be made (a file is in the way, which stops root too): no history, no error. */
    const locked = join(dir, 'locked');
    const blocked = new HistoryFile(join(locked, 'arbor', 'history'));
    writeFileSync(locked, 'a file where a directory should be');
    expect(() => blocked.add('ping 1')).not.toThrow();
    expect(() => blocked.close()).not.toThrow();
    expect(new HistoryFile(join(locked, 'arbor', 'history')).load()).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('a directory that can never be made (under /proc) does not hang', () => {
    /* Node's recursive mkdirSync spins forever here; HistoryFile must not use it. */
    const impossible = new HistoryFile('/proc/arbor-no-such-dir/arbor/history');
    impossible.add('ping 1');
    impossible.close();
    expect(impossible.load()).toEqual([]);
  });
});

describe("npm start: the gateway's log lines told at the prompt", () => {
  it('warn and worse as one console line; the rest only in the log', () => {
    expect(noticeOf('{"level":40,"time":1,"msg":"node hung: restarting it"}')).toBe('arbor: gateway warning: node hung: restarting it');
    expect(noticeOf('{"level":50,"msg":"cannot write","err":{"message":"ENOSPC"}}')).toBe('arbor: gateway error: cannot write (ENOSPC)');
    expect(noticeOf('{"level":30,"msg":"serving"}')).toBeUndefined();
    expect(noticeOf('arbor-gateway: cannot listen on 1.2.3.4:5: EADDRNOTAVAIL')).toBe('arbor: gateway: cannot listen on 1.2.3.4:5: EADDRNOTAVAIL');
    expect(noticeOf('{not json')).toBeUndefined();
    expect(noticeOf('{"level":"40","msg":5}')).toBeUndefined();
  });
});
