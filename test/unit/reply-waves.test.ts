/**
 * ReplyWaves: the answers to one request frame go up together once the wave is complete, a lone
 * request is never held, and an incomplete wave is released after its hold time, which follows
 * how long answers from below take (short on an idle tree, longer under load, capped).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encode } from '../../link/index.js';
import { ReplyWaves, WAVE_HOLD } from '../../computing/reply-waves.js';

const request = (corr: number, node = 7): Buffer => encode({ kind: 'load', corr, node, name: 'x' });
const reply = (corr: number, node = 7): Buffer => encode({ kind: 'pong', corr, node });

function setup(): { waves: ReplyWaves; released: number[][]; clock: { now: number } } {
  const released: number[][] = [[]];
  const clock = { now: 1000 };
  const waves = new ReplyWaves((r) => (released.at(-1) as number[]).push(r.readUInt32LE(3)), () => clock.now);
  return { waves, released, clock };
}

/** One wave of two requests down, both answered after `answerMs`. */
function slowWave(waves: ReplyWaves, clock: { now: number }, corr: number, answerMs: number): void {
  waves.begin();
  waves.forwarded(request(corr));
  waves.forwarded(request(corr + 1));
  waves.end();
  clock.now += answerMs;
  waves.fromBelow(reply(corr));
  waves.fromBelow(reply(corr + 1));
}

/** Marks a point in time: later releases go into a new group. */
const mark = (released: number[][]): number => released.push([]);

describe('ReplyWaves', () => {
  afterEach(() => vi.useRealTimers());

  it('passes a lone request\'s reply on at once, holding nothing meanwhile (no timer)', () => {
    vi.useFakeTimers();
    const { waves, released } = setup();
    waves.begin();
    waves.forwarded(request(1));
    waves.end();
    expect(released).toEqual([[]]);
    expect(vi.getTimerCount()).toBe(0);
    expect(waves.pending).toBe(0);
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
    const { waves, released } = setup();
    expect(waves.holdMs).toBe(2); // an idle node: twice the 1 ms floor
    waves.begin();
    waves.reply(reply(1));
    waves.forwarded(request(2));
    waves.forwarded(request(3));
    waves.end();
    waves.fromBelow(reply(2));
    vi.advanceTimersByTime(1);
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

  it('holds a lone reply of our own until the frame ends, and a wave of it and one request down until both are in', () => {
    vi.useFakeTimers();
    const { waves, released } = setup();
    waves.begin();
    waves.reply(reply(1));
    expect(released).toEqual([[]]);
    waves.end();
    expect(released).toEqual([[1]]);
    mark(released);
    for (const order of [['own', 'down'], ['down', 'own']]) {
      waves.begin();
      for (const step of order) {
        if (step === 'own') waves.reply(reply(2));
        else waves.forwarded(request(3));
      }
      waves.end();
      expect(released.at(-1)).toEqual([]);
      expect(waves.pending).toBe(1);
      waves.fromBelow(reply(3));
      expect(released.at(-1)).toEqual([2, 3]);
      expect(waves.pending).toBe(0);
      mark(released);
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes on a reply no wave waits for (a hello, a late answer)', () => {
    const { waves, released } = setup();
    waves.fromBelow(encode({ kind: 'hello', corr: 42, node: 5, pid: 1, keys: 0 }));
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

  it('holds longer when answers from below come back slowly (load), up to the cap', () => {
    const { waves, clock } = setup();
    for (let i = 0; i < 30; i++) slowWave(waves, clock, 100 + 2 * i, 8);
    expect(waves.holdMs).toBeGreaterThan(14);
    expect(waves.holdMs).toBeLessThanOrEqual(16);
    for (let i = 0; i < 60; i++) slowWave(waves, clock, 200 + 2 * i, 40);
    expect(waves.holdMs).toBe(WAVE_HOLD.maxMs);
  });

  it('keeps the hold short while one child is frozen and its sibling answers at once', () => {
    vi.useFakeTimers();
    const { waves, released, clock } = setup();
    for (let i = 0; i < 20; i++) {
      waves.begin();
      waves.forwarded(request(300 + 2 * i, 3)); // to the frozen child: never answered
      waves.forwarded(request(301 + 2 * i, 9)); // to its sibling: answered after 0.2 ms
      waves.end();
      clock.now += 0.2;
      waves.fromBelow(reply(301 + 2 * i, 9));
      vi.advanceTimersByTime(waves.holdMs);
    }
    expect(waves.holdMs).toBe(WAVE_HOLD.minMs);
    expect(released.flat()).toHaveLength(20); // every sibling answer went up, none waited long
    expect(waves.pending).toBe(0);
  });
});
