/**
 * The failure detector of one ROUTER, with a fake clock and fake timers (as nats.js tests its
 * heartbeat monitor): connects and disconnects as ROUTER_NOTIFY reports them, the blocked-loop
 * rule (silent for 2 beat periods, judged every period) at its edges, recovery, one change per
 * transition, a late check that must not turn a deaf moment of our own into a verdict, the grace
 * for a move to a new endpoint, and T = 0.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BLOCKED_FLOOR_MS, beatPeriod, MOVE_GRACE_MS, PeerWatch, reconnectGrace, zmtpHeartbeat } from '../computing/protocol/index.js';

const T = 100;
/** The JavaScript beat period at T = 100 ms: max(4T, 10 s) / 3. */
const B = beatPeriod(T);

function watcher() {
  const changes: [string, boolean, string][] = [];
  const w = new PeerWatch<string>((peer, up, why) => changes.push([peer, up, why]), () => Date.now());
  w.setInterval(T);
  return { w, changes };
}

/** A verdict waits one setImmediate after its timer, which fake timers run 1 ms later. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('beat period and ZMTP settings', () => {
  it('a blocked loop is found within max(4T, 10 s); libzmq cuts a stopped peer 3T after a ping', () => {
    expect(3 * beatPeriod(100)).toBe(BLOCKED_FLOOR_MS);
    expect(3 * beatPeriod(5000)).toBe(4 * 5000);
    expect(beatPeriod(0)).toBe(0);
    // The cut comes 3T - grace after an unanswered ping, the verdict a grace later: 3T to 4T after the stop.
    expect(zmtpHeartbeat(100)).toEqual({ heartbeatInterval: 100, heartbeatTimeout: 300 - reconnectGrace(100) });
    expect(reconnectGrace(100)).toBe(50);
    expect(reconnectGrace(10)).toBe(5);
    expect(zmtpHeartbeat(1000)).toEqual({ heartbeatInterval: 1000, heartbeatTimeout: 2500 });
    expect(zmtpHeartbeat(0)).toEqual({ heartbeatInterval: 0, heartbeatTimeout: 0 });
  });
});

describe('PeerWatch', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('follows ROUTER_NOTIFY: a disconnect is down once the reconnect grace passed, a reconnect is up, one change each', async () => {
    const { w, changes } = watcher();
    w.watch('a', true);
    expect(w.isUp('a')).toBe(true);
    w.connected('a', false);
    w.connected('a', false);
    await advance(reconnectGrace(T) - 1);
    expect(w.isUp('a')).toBe(true);
    await advance(2);
    expect(w.isUp('a')).toBe(false);
    w.connected('a', true);
    expect(w.isUp('a')).toBe(true);
    expect(changes).toEqual([
      ['a', false, 'disconnected'],
      ['a', true, 'connected'],
    ]);
  });

  it('a peer cut and back within the reconnect grace (we were the frozen ones) raises nothing', async () => {
    const { w, changes } = watcher();
    w.watch('a', true);
    w.connected('a', false);
    await advance(reconnectGrace(T) / 2);
    w.connected('a', true);
    await advance(10 * reconnectGrace(T));
    expect(changes).toEqual([]);
  });

  it('a peer watched before it connected is on its way: up for the grace, no change when it connects in time', async () => {
    const { w, changes } = watcher();
    w.watch('a', false);
    expect(w.isUp('a')).toBe(true);
    await advance(MOVE_GRACE_MS - 10);
    w.connected('a', true);
    await advance(MOVE_GRACE_MS);
    expect(w.isUp('a')).toBe(true);
    expect(changes).toEqual([]);
  });

  it('a peer watched before it connected, that does not connect within the grace, is down; up once it connects', async () => {
    const { w, changes } = watcher();
    w.watch('a', false);
    await advance(MOVE_GRACE_MS - 10);
    expect(changes).toEqual([]);
    await advance(20);
    expect(w.isUp('a')).toBe(false);
    expect(changes).toEqual([['a', false, 'disconnected']]);
    w.connected('a', true);
    expect(changes).toEqual([
      ['a', false, 'disconnected'],
      ['a', true, 'connected'],
    ]);
  });

  it('a peer heard every beat period stays up for good', async () => {
    const { w, changes } = watcher();
    w.watch('a', true);
    for (let i = 0; i < 30; i++) {
      await advance(B);
      w.heard('a');
    }
    expect(w.isUp('a')).toBe(true);
    expect(changes).toEqual([]);
  });

  it('connected but silent (a blocked event loop) for 2 periods is down at the next check, then up when heard', async () => {
    const { w, changes } = watcher();
    w.watch('a', true);
    // Checks at B and 2B: at 2B it has been silent exactly 2B, which is the verdict.
    await advance(2 * B - 2);
    expect(w.isUp('a')).toBe(true);
    await advance(4);
    expect(w.isUp('a')).toBe(false);
    expect(changes).toEqual([['a', false, 'silent']]);
    await advance(10 * B);
    expect(changes).toHaveLength(1);
    w.heard('a');
    expect(w.isUp('a')).toBe(true);
    expect(changes).toEqual([
      ['a', false, 'silent'],
      ['a', true, 'heard'],
    ]);
  });

  it('driven by its owner (a node, from its beat timer): no timer of its own, and tick() judges as its timer would', async () => {
    const changes: [string, boolean, string][] = [];
    const w = new PeerWatch<string>((peer, up, why) => changes.push([peer, up, why]), () => Date.now(), false);
    w.setInterval(T);
    w.watch('a', true);
    expect(vi.getTimerCount()).toBe(0);
    await advance(3 * B);
    expect(changes).toEqual([]); // nobody ticked: nothing judged
    const ownerTick = async (): Promise<void> => {
      await advance(B);
      w.tick();
      await advance(1); // the check's setImmediate
    };
    // This first tick is long overdue (due at B): it only starts the owner's rhythm.
    w.heard('a');
    w.tick();
    await advance(1);
    await ownerTick();
    expect(w.isUp('a')).toBe(true); // silent for one period
    await ownerTick();
    expect(changes).toEqual([['a', false, 'silent']]); // for two
    // A tick that comes late (the owner's loop was blocked) judges nobody.
    w.heard('a');
    vi.setSystemTime(Date.now() + 3 * B);
    w.tick();
    await advance(1);
    expect(changes).toEqual([
      ['a', false, 'silent'],
      ['a', true, 'heard'],
    ]);
  });

  it('never judges silence before 2 periods nor later than 3 (the bound the README states)', async () => {
    const { w } = watcher();
    w.watch('a', true);
    await advance(B + 2);
    w.heard('a'); // the worst phase: heard just after a check
    await advance(2 * B);
    expect(w.isUp('a')).toBe(true);
    // Each check is re-armed one fake setImmediate (1 ms) late: a few ms of slack.
    await advance(B + 10);
    expect(w.isUp('a')).toBe(false);
  });

  it('a check that runs late judges nobody that round (we were deaf, not the peer)', async () => {
    const { w, changes } = watcher();
    w.watch('a', true);
    await advance(B);
    // Our own loop is blocked past the next check: the clock jumps, the timer fires late.
    vi.setSystemTime(Date.now() + 3 * B);
    await advance(B);
    expect(w.isUp('a')).toBe(true);
    // The next, timely check does judge.
    await advance(B + 2);
    expect(changes).toEqual([['a', false, 'silent']]);
  });

  it('leaving a ROUTER we retire is no verdict if it shows up again within the grace; staying away is', async () => {
    const { w, changes } = watcher();
    w.watch('a', true);
    w.watch('b', true);
    w.connected('a', false, true);
    w.connected('b', false, true);
    await advance(MOVE_GRACE_MS / 2);
    w.connected('a', true);
    expect(changes).toEqual([]);
    await advance(MOVE_GRACE_MS / 2 + 1);
    expect(changes).toEqual([['b', false, 'disconnected']]);
    // A disconnect from the current ROUTER counts after the reconnect grace only.
    w.connected('a', false);
    await advance(reconnectGrace(T) + 1);
    expect(changes).toEqual([
      ['b', false, 'disconnected'],
      ['a', false, 'disconnected'],
    ]);
  });

  it('T = 0: no silence verdicts, connects and disconnects still count', async () => {
    const { w, changes } = watcher();
    w.setInterval(0);
    w.watch('a', true);
    await advance(100 * B);
    expect(w.isUp('a')).toBe(true);
    // No ZMTP heartbeats, so no cut of ours to forgive: a disconnect is the peer's end.
    w.connected('a', false);
    expect(changes).toEqual([['a', false, 'disconnected']]);
  });

  it('a new interval gives every peer a fresh window and clears a silence verdict', async () => {
    const { w, changes } = watcher();
    w.watch('a', true);
    await advance(2 * B + 2);
    expect(w.isUp('a')).toBe(false);
    w.setInterval(2 * T);
    expect(w.isUp('a')).toBe(true);
    expect(changes).toEqual([
      ['a', false, 'silent'],
      ['a', true, 'heard'],
    ]);
  });

  it('after a new interval a peer is not judged until it is heard (it takes the interval later, top-down), then as usual', async () => {
    const { w, changes } = watcher();
    w.watch('a', true);
    w.setInterval(2 * T);
    await advance(10 * B);
    expect(w.isUp('a')).toBe(true);
    w.heard('a');
    await advance(3 * B + 2);
    expect(w.isUp('a')).toBe(false);
    expect(changes).toEqual([['a', false, 'silent']]);
  });

  it('an unwatched peer is no longer judged or reported', async () => {
    const { w, changes } = watcher();
    w.watch('a', true);
    w.unwatch('a');
    await advance(10 * B);
    w.connected('a', false);
    expect(w.watches('a')).toBe(false);
    expect(changes).toEqual([]);
  });

  it('a quiet peer is not judged while it stays quiet (however long), is judged again from the frame that wakes it, and keeps its quiet across a reconnect', async () => {
    const { w, changes } = watcher();
    w.watch('a', true);
    w.watch('b', true);
    expect(w.allQuiet).toBe(false);
    w.heard('a');
    w.rest('a');
    expect(w.allQuiet).toBe(false);
    w.rest('b');
    expect(w.allQuiet).toBe(true);
    // libzmq reconnected it (we were deaf a moment): no JavaScript of it ran, so still quiet.
    w.connected('a', false);
    w.connected('a', true);
    await advance(10 * B);
    expect(w.isUp('a')).toBe(true);
    expect(changes).toEqual([]);
    // Woken: its wake beat arrives, then nothing (its loop blocked right after).
    w.heard('a');
    expect(w.allQuiet).toBe(false);
    await advance(2 * B - 2);
    expect(w.isUp('a')).toBe(true);
    await advance(B + 2);
    expect(w.isUp('a')).toBe(false);
    expect(w.isUp('b')).toBe(true);
    // A peer found down needs no check either.
    expect(w.allQuiet).toBe(true);
    expect(changes).toEqual([['a', false, 'silent']]);
  });
});
