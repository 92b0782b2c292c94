/**
 * The failure detector of one link end, with a fake clock and fake timers (as nats.js tests its
 * heartbeat monitor): the 4 x T rule at its edges, recovery, one change per transition, late
 * timers that must not turn a deaf moment of our own into a verdict on the peer, and T = 0.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LivenessMonitor } from '../computing/protocol/index.js';

const T = 100;

function monitor() {
  const changes: [string, boolean][] = [];
  const m = new LivenessMonitor<string>((peer, up) => changes.push([peer, up]), () => Date.now());
  m.setInterval(T);
  return { m, changes };
}

/**
 * Moves time on and runs what is due. A verdict waits one setImmediate after its timer (so
 * frames already read count first), which fake timers run 1 ms later: the edges below are
 * placed 1 ms either side of where the verdict can land.
 */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('LivenessMonitor', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a peer heard every interval stays up', async () => {
    const { m, changes } = monitor();
    m.watch('a');
    for (let i = 0; i < 20; i++) {
      await advance(T);
      m.heard('a');
    }
    expect(m.isUp('a')).toBe(true);
    expect(changes).toEqual([]);
  });

  it('a beat just inside 4 x T keeps it up; silence past 4 x T takes it down, once', async () => {
    const { m, changes } = monitor();
    m.watch('a');
    await advance(4 * T - 1);
    m.heard('a'); // just inside: the window starts again from here
    await advance(4 * T - 1);
    expect(m.isUp('a')).toBe(true);
    await advance(2);
    expect(m.isUp('a')).toBe(false);
    await advance(20 * T);
    expect(changes).toEqual([['a', false]]);
  });

  it('a beat just outside 4 x T comes too late: down, then up again when heard (recovery)', async () => {
    const { m, changes } = monitor();
    m.watch('a');
    await advance(4 * T + 2);
    expect(m.isUp('a')).toBe(false);
    m.heard('a');
    expect(m.isUp('a')).toBe(true);
    // Recovered for good: the next window runs from the recovery beat.
    await advance(4 * T - 1);
    expect(m.isUp('a')).toBe(true);
    expect(changes).toEqual([
      ['a', false],
      ['a', true],
    ]);
  });

  it('a timer that fires late (our own loop was blocked) defers the verdict by that lateness', async () => {
    const { m, changes } = monitor();
    m.watch('a');
    // We are deaf for 1 s: the clock jumps, so the 4 x T timer fires 1 s late, while the
    // peer's beats wait unread in the socket.
    vi.setSystemTime(1000);
    await advance(4 * T + 2);
    expect(m.isUp('a')).toBe(true);
    // The beats that waited are read now: no verdict on the peer for our own deafness.
    m.heard('a');
    await advance(4 * T - 1);
    expect(changes).toEqual([]);
  });

  it('after a deaf moment, a peer that is really silent is still found down', async () => {
    const { m, changes } = monitor();
    m.watch('a');
    vi.setSystemTime(1000);
    await advance(4 * T + 2);
    expect(m.isUp('a')).toBe(true);
    // Nothing arrives: the deferral runs out, and the peer is down.
    await advance(1000 + 2);
    expect(changes).toEqual([['a', false]]);
  });

  it('peers are judged apart', async () => {
    const { m, changes } = monitor();
    m.watch('a');
    m.watch('b');
    for (let i = 0; i < 6; i++) {
      await advance(T);
      m.heard('b');
    }
    expect(m.isUp('a')).toBe(false);
    expect(m.isUp('b')).toBe(true);
    expect(changes).toEqual([['a', false]]);
  });

  it('interval 0 turns judging off: a down peer counts as up, and silence says nothing', async () => {
    const { m, changes } = monitor();
    m.watch('a');
    await advance(5 * T);
    expect(m.isUp('a')).toBe(false);
    m.setInterval(0);
    expect(m.isUp('a')).toBe(true);
    await advance(100 * T);
    expect(m.isUp('a')).toBe(true);
    expect(changes).toEqual([
      ['a', false],
      ['a', true],
    ]);
  });

  it('an unwatched peer is forgotten: no verdict after unwatch', async () => {
    const { m, changes } = monitor();
    m.watch('a');
    m.unwatch('a');
    await advance(10 * T);
    expect(changes).toEqual([]);
    expect(m.isUp('a')).toBe(false);
  });
});
