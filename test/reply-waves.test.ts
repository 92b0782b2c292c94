/**
 * ReplyWaves: the answers to one request frame go up together once the wave is complete, a lone
 * request is never held, and an incomplete wave is released after its hold time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encode } from '../computing/protocol/index.js';
import { ReplyWaves } from '../computing/reply-waves.js';

const request = (corr: number, node = 7): Buffer => encode({ kind: 'load', corr, node, name: 'x' });
const reply = (corr: number, node = 7): Buffer => encode({ kind: 'pong', corr, node });

function setup(holdMs = 5): { waves: ReplyWaves; released: number[][] } {
  const released: number[][] = [[]];
  const waves = new ReplyWaves((r) => (released.at(-1) as number[]).push(r.readUInt32LE(3)), holdMs);
  return { waves, released };
}

/** Marks a point in time: later releases go into a new group. */
const mark = (released: number[][]): number => released.push([]);

describe('ReplyWaves', () => {
  afterEach(() => vi.useRealTimers());

  it('passes a lone request\'s reply on at once', () => {
    const { waves, released } = setup();
    waves.begin();
    waves.forwarded(request(1));
    waves.end();
    expect(released).toEqual([[]]);
    waves.fromBelow(reply(1));
    expect(released).toEqual([[1]]);
    expect(waves.pending).toBe(0);
  });

  it('releases a frame served here at its end', () => {
    const { waves, released } = setup();
    waves.begin();
    waves.reply(reply(1));
    waves.reply(reply(2));
    expect(released).toEqual([[]]);
    waves.end();
    expect(released).toEqual([[1, 2]]);
  });

  it('holds our replies and the first child\'s until the last child answers, then releases all together', () => {
    const { waves, released } = setup();
    waves.begin();
    waves.reply(reply(1));
    waves.forwarded(request(2, 3));
    waves.forwarded(request(3, 9));
    waves.end();
    waves.fromBelow(reply(2, 3));
    expect(released).toEqual([[]]);
    mark(released);
    waves.fromBelow(reply(3, 9));
    expect(released).toEqual([[], [1, 2, 3]]);
    expect(waves.pending).toBe(0);
  });

  it('keeps waves apart: a complete later wave does not wait for an earlier one', () => {
    const { waves, released } = setup();
    waves.begin();
    waves.forwarded(request(1));
    waves.end();
    waves.begin();
    waves.forwarded(request(2));
    waves.reply(reply(3));
    waves.end();
    waves.fromBelow(reply(2));
    expect(released).toEqual([[3, 2]]);
    waves.fromBelow(reply(1));
    expect(released).toEqual([[3, 2, 1]]);
  });

  it('releases an incomplete wave after the hold time and forgets what it waited for', () => {
    vi.useFakeTimers();
    const { waves, released } = setup(5);
    waves.begin();
    waves.reply(reply(1));
    waves.forwarded(request(2));
    waves.forwarded(request(3));
    waves.end();
    waves.fromBelow(reply(2));
    vi.advanceTimersByTime(4);
    expect(released).toEqual([[]]);
    vi.advanceTimersByTime(1);
    expect(released).toEqual([[1, 2]]);
    expect(waves.pending).toBe(0);
    waves.fromBelow(reply(3)); // late: goes up on its own
    expect(released).toEqual([[1, 2, 3]]);
  });

  it('completes a wave whose refusal came back before the frame ended', () => {
    const { waves, released } = setup();
    waves.begin();
    waves.forwarded(request(1));
    waves.fromBelow(reply(1));
    waves.reply(reply(2));
    expect(released).toEqual([[]]);
    waves.end();
    expect(released).toEqual([[1, 2]]);
  });

  it('passes on a reply no wave waits for (a hello, a late answer)', () => {
    const { waves, released } = setup();
    waves.fromBelow(encode({ kind: 'hello', corr: 42, node: 5, pid: 1 }));
    expect(released).toEqual([[42]]);
  });

  it('releases what it holds when stopped', () => {
    const { waves, released } = setup();
    waves.begin();
    waves.reply(reply(1));
    waves.forwarded(request(2));
    waves.end();
    waves.stop();
    expect(released).toEqual([[1]]);
    expect(waves.pending).toBe(0);
  });
});
