/**
 * Liveness: the rules both sides derive from one configuration (link/liveness.ts), and the
 * control's judge (control/liveness.ts) driven with fake timers, as nats.js tests its heartbeat
 * monitor: links connecting and disconnecting as ROUTER_NOTIFY reports them, the grace, the
 * blocked-loop rule at its edges, quiet nodes, a late check, an interval switch, and T = 0.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIVENESS, livenessTimings, MISSED_INTERVALS } from '../../link/index.js';
import { LivenessJudge } from '../../control/liveness.js';

describe('liveness rules', () => {
  it('a stopped node is cut by the control\'s pings and judged after the grace: 3T to 4T after it stopped, for any T', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 3_600_000 }), fc.integer({ min: 1000, max: 60_000 }), (t, blockedLoopMs) => {
        const timings = livenessTimings({ ...DEFAULT_LIVENESS, intervalMs: t, blockedLoopMs });
        const { heartbeatInterval, heartbeatTimeout } = timings.router;
        expect(heartbeatInterval).toBe(t);
        // It answered a ping 0 to T before the stop; the next one goes unanswered and the cut comes
        // `heartbeatTimeout` after it, the verdict a grace later: after 3T, and within 4T (to the ms).
        expect(Math.abs(heartbeatTimeout + timings.graceMs - 3 * t)).toBeLessThanOrEqual(0.5);
        expect(Math.abs(t + heartbeatTimeout + timings.graceMs - MISSED_INTERVALS * t)).toBeLessThanOrEqual(0.5);
        // Room for a cut node to reconnect (the control was the one frozen).
        expect(timings.graceMs).toBe(t / 2);
        // A blocked loop: not heard for 2B, judged every B: found within 3B = max(4T, the floor).
        expect(3 * timings.beatMs).toBe(Math.max(MISSED_INTERVALS * t, blockedLoopMs));
        expect(timings.silentAfterMs).toBe(2 * timings.beatMs);
        // A node on another host pings too, never more often than once a second, and gives up after 3 unanswered.
        expect(timings.tcpNode.heartbeatInterval).toBe(Math.max(t, 1000));
        expect(timings.tcpNode.heartbeatTimeout).toBe(3 * timings.tcpNode.heartbeatInterval);
      }),
    );
  });

  it('off is all zeros', () => {
    const off = livenessTimings({ ...DEFAULT_LIVENESS, intervalMs: 0 });
    expect(off).toEqual({
      router: { heartbeatInterval: 0, heartbeatTimeout: 0 },
      tcpNode: { heartbeatInterval: 0, heartbeatTimeout: 0 },
      graceMs: 0,
      beatMs: 0,
      silentAfterMs: 0,
      connectGraceMs: 0,
    });
  });
});

const T = 100;
const timings = livenessTimings({ ...DEFAULT_LIVENESS, intervalMs: T });

describe('the control judge', () => {
  let judge: LivenessJudge;
  let changes: number[];
  const pid = 4242;
  const rid = (gen: number, id = 11, p = pid): string => `${id}:${p}:${gen}`;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    changes = [];
    judge = new LivenessJudge({ ...DEFAULT_LIVENESS, intervalMs: T }, (id) => changes.push(id), () => Date.now());
  });
  afterEach(() => {
    judge.stop();
    vi.useRealTimers();
  });

  it('a link that stays away past the grace is a cut; back within it is nothing; back later is up again: one change each', async () => {
    judge.linkNotified(rid(0));
    judge.watch(11, pid);
    judge.linkNotified(rid(0)); // disconnect
    await vi.advanceTimersByTimeAsync(timings.graceMs - 1);
    judge.linkNotified(rid(0)); // back in time (the same id reconnecting)
    await vi.advanceTimersByTimeAsync(10 * timings.graceMs);
    expect(judge.verdict(11)).toBeUndefined();
    expect(changes).toEqual([]);
    judge.linkNotified(rid(0));
    await vi.advanceTimersByTimeAsync(timings.graceMs);
    expect(judge.verdict(11)).toBe(`not heard from for 4 x ${T} ms`);
    judge.linkNotified(rid(0));
    expect(judge.verdict(11)).toBeUndefined();
    expect(changes).toEqual([11, 11]);
  });

  it('judges only the process it watches: links of another process of the node, or of nobody, change nothing', async () => {
    judge.watch(11, pid);
    judge.linkNotified(rid(0));
    judge.linkNotified(rid(0, 11, pid + 1));
    judge.linkNotified(rid(0, 11, pid + 1));
    expect(judge.linkNotified('intruder')).toBe(false);
    await vi.advanceTimersByTimeAsync(10 * timings.graceMs);
    expect(judge.verdict(11)).toBeUndefined();
    expect(changes).toEqual([]);
  });

  it('a process watched before its link connected has the connect grace; one that never connects is cut', async () => {
    judge.watch(11, pid);
    await vi.advanceTimersByTimeAsync(timings.connectGraceMs - 1);
    expect(judge.verdict(11)).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2);
    expect(judge.verdict(11)).toBeDefined();
  });

  it('connected but not heard for 2 beat periods (a blocked event loop) is found 2 to 3 periods after the last beat, and a beat clears it', async () => {
    judge.linkNotified(rid(0));
    judge.watch(11, pid);
    const B = timings.beatMs;
    await vi.advanceTimersByTimeAsync(2 * B - 10);
    expect(judge.verdict(11)).toBeUndefined();
    await vi.advanceTimersByTimeAsync(B + 20);
    expect(judge.verdict(11)).toMatch(/event loop did not run/);
    judge.beat(11, pid, false);
    expect(judge.verdict(11)).toBeUndefined();
    expect(changes).toEqual([11, 11]);
  });

  it('a quiet node is not judged, however long, until it is heard again', async () => {
    judge.linkNotified(rid(0));
    judge.watch(11, pid);
    judge.beat(11, pid, true);
    await vi.advanceTimersByTimeAsync(20 * timings.beatMs);
    expect(judge.verdict(11)).toBeUndefined();
    judge.beat(11, pid, false);
    await vi.advanceTimersByTimeAsync(3 * timings.beatMs + 10);
    expect(judge.verdict(11)).toBeDefined();
  });

  it('a check that runs late judges nobody that round (this process was deaf, not the node)', async () => {
    judge.linkNotified(rid(0));
    judge.watch(11, pid);
    // Everything stalls for long: the clock jumps, the timers fire late.
    vi.setSystemTime(Date.now() + 5 * timings.beatMs);
    await vi.advanceTimersByTimeAsync(timings.beatMs);
    expect(judge.verdict(11)).toBeUndefined();
  });

  it('a new interval: the old link leaves and the new one connects (either order), no verdict; resolves once every node switched', async () => {
    judge.linkNotified(rid(0));
    judge.watch(11, pid);
    judge.linkNotified(rid(0, 12, 7));
    judge.watch(12, 7);
    let done = false;
    const switched = judge.switchTo(1000).then(() => (done = true));
    judge.linkNotified(rid(0)); // 11's old link first
    await vi.advanceTimersByTimeAsync(500);
    judge.linkNotified(rid(1));
    judge.linkNotified(rid(1, 12, 7)); // 12's new link first
    judge.linkNotified(rid(0, 12, 7));
    await switched;
    expect(done).toBe(true);
    // Beating as nodes do (every B), long after the switch: no verdict of any kind.
    const B = livenessTimings({ ...DEFAULT_LIVENESS, intervalMs: 1000 }).beatMs;
    for (let i = 0; i < 10; i++) {
      judge.beat(11, pid, false);
      judge.beat(12, 7, false);
      await vi.advanceTimersByTimeAsync(B);
    }
    expect(changes).toEqual([]);
    expect(judge.config.intervalMs).toBe(1000);
  });

  it('a node that does not switch in time, and has no link, is cut then; the switch resolves at its deadline', async () => {
    judge.linkNotified(rid(0));
    judge.watch(11, pid);
    let done = false;
    void judge.switchTo(200).then(() => (done = true));
    judge.linkNotified(rid(0));
    const grace = livenessTimings({ ...DEFAULT_LIVENESS, intervalMs: 200 }).connectGraceMs;
    await vi.advanceTimersByTimeAsync(grace - 1);
    expect(judge.verdict(11)).toBeUndefined();
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(done).toBe(true);
    expect(judge.verdict(11)).toBeDefined();
  });

  it('T = 0: nothing is judged, and switching it off clears a verdict', async () => {
    judge.linkNotified(rid(0));
    judge.watch(11, pid);
    judge.linkNotified(rid(0));
    await vi.advanceTimersByTimeAsync(timings.graceMs + 1);
    expect(judge.verdict(11)).toBeDefined();
    await judge.switchTo(0);
    expect(judge.verdict(11)).toBeUndefined();
    judge.linkNotified(rid(0));
    judge.linkNotified(rid(0));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(judge.verdict(11)).toBeUndefined();
  });

  it('an unwatched process is no longer judged', async () => {
    judge.linkNotified(rid(0));
    judge.watch(11, pid);
    judge.unwatch(11);
    judge.linkNotified(rid(0));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(judge.verdict(11)).toBeUndefined();
    expect(changes).toEqual([]);
  });
});
