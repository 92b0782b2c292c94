/**
 * Liveness: the rules both sides derive from one configuration (link/liveness.ts), and the
 * control's judge (control/liveness.ts) driven with fake timers, as nats.js tests its heartbeat
 * monitor: links connecting and disconnecting as ROUTER_NOTIFY reports them, the grace, the
 * blocked-loop rule at its edges, quiet nodes, a late check, an interval switch, and T = 0.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIVENESS, livenessTimings, MISSED_INTERVALS } from '../../link/index.js';
import { LivenessJudge, type ProcessState, processStateOf, WAKE_MS_PER_NODE } from '../../control/liveness.js';

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
      }),
    );
  });

  it('off is all zeros: no pings, nothing judged', () => {
    const off = livenessTimings({ ...DEFAULT_LIVENESS, intervalMs: 0 });
    expect(off).toEqual({
      router: { heartbeatInterval: 0, heartbeatTimeout: 0 },
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
  /** What the OS says of each pid (a pid not listed is gone). */
  let states: Map<number, ProcessState>;
  const pid = 4242;
  const rid = (gen: number, id = 11, p = pid): string => `${id}:${p}:${gen}`;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    changes = [];
    states = new Map();
    judge = new LivenessJudge({ ...DEFAULT_LIVENESS, intervalMs: T }, (id) => changes.push(id), () => Date.now(), (p) => states.get(p) ?? 'gone');
  });
  afterEach(() => {
    judge.stop();
    vi.useRealTimers();
  });

  it('a link that stays away past the grace is a cut; back within it is nothing; back later is up again: one change each', async () => {
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid);
    judge.linkSeen(rid(0), 0, false);
    await vi.advanceTimersByTimeAsync(timings.graceMs - 1);
    judge.linkSeen(rid(0), 0, true); // back in time (the same id reconnecting)
    await vi.advanceTimersByTimeAsync(10 * timings.graceMs);
    expect(judge.verdict(11)).toBeUndefined();
    expect(changes).toEqual([]);
    judge.linkSeen(rid(0), 0, false);
    await vi.advanceTimersByTimeAsync(timings.graceMs);
    expect(judge.verdict(11)).toBe(`not heard from for 4 x ${T} ms`);
    judge.linkSeen(rid(0), 0, true);
    expect(judge.verdict(11)).toBeUndefined();
    expect(changes).toEqual([11, 11]);
  });

  it('a connect seen again (a handover: the node reconnected before its old link was dropped) leaves it connected', async () => {
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid);
    judge.linkSeen(rid(0), 0, true);
    await vi.advanceTimersByTimeAsync(10 * timings.graceMs);
    expect(judge.verdict(11)).toBeUndefined();
    judge.linkSeen(rid(0), 0, false);
    judge.linkSeen(rid(0), 0, false);
    await vi.advanceTimersByTimeAsync(timings.graceMs + 1);
    expect(judge.verdict(11)).toBeDefined();
    expect(changes).toEqual([11]);
  });

  it('judges only the process it watches: links of another process of the node, or of nobody, change nothing', async () => {
    judge.watch(11, pid);
    judge.linkSeen(rid(0), 0, true);
    judge.linkSeen(rid(0, 11, pid + 1), 0, true);
    judge.linkSeen(rid(0, 11, pid + 1), 0, false);
    expect(judge.linkSeen('intruder', 0, true)).toBe(false);
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
    judge.linkSeen(rid(0), 0, true);
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
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid);
    judge.beat(11, pid, true);
    await vi.advanceTimersByTimeAsync(20 * timings.beatMs);
    expect(judge.verdict(11)).toBeUndefined();
    judge.beat(11, pid, false);
    await vi.advanceTimersByTimeAsync(3 * timings.beatMs + 10);
    expect(judge.verdict(11)).toBeDefined();
  });

  it('a check that runs late judges nobody that round (this process was deaf, not the node)', async () => {
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid);
    // Everything stalls for long: the clock jumps, the timers fire late.
    vi.setSystemTime(Date.now() + 5 * timings.beatMs);
    await vi.advanceTimersByTimeAsync(timings.beatMs);
    expect(judge.verdict(11)).toBeUndefined();
  });

  it('a new interval: each link leaves the old listener and connects to the new one (either order), no verdict; resolves once every node is on the new one', async () => {
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid);
    judge.linkSeen(rid(0, 12, 7), 0, true);
    judge.watch(12, 7);
    let done = false;
    const switched = judge.switchTo(1000, 1).then(() => (done = true));
    judge.linkSeen(rid(0), 0, false); // 11 leaves first...
    await vi.advanceTimersByTimeAsync(500);
    judge.linkSeen(rid(0), 1, true); // ...and comes back on the new listener 500 ms later
    judge.linkSeen(rid(0, 12, 7), 1, true); // 12 is on the new one before the old one lets it go
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
    judge.linkSeen(rid(0, 12, 7), 0, false);
    await switched;
    // Beating as nodes do, long after the switch: no verdict of any kind.
    const B = livenessTimings({ ...DEFAULT_LIVENESS, intervalMs: 1000 }).beatMs;
    for (let i = 0; i < 10; i++) {
      judge.beat(11, pid, false);
      judge.beat(12, 7, false);
      await vi.advanceTimersByTimeAsync(B);
    }
    expect(changes).toEqual([]);
    expect(judge.config.intervalMs).toBe(1000);
  });

  it('a node that does not reach the new listener is cut once the switch may be over (its time, then 8 graces): the switch resolves at its time', async () => {
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid);
    let done = false;
    void judge.switchTo(200, 1).then(() => (done = true));
    judge.linkSeen(rid(0), 0, false);
    const next = livenessTimings({ ...DEFAULT_LIVENESS, intervalMs: 200 });
    // Its time: the connect grace, and a wake allowance for each node of the switch.
    await vi.advanceTimersByTimeAsync(next.connectGraceMs + WAKE_MS_PER_NODE - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(done).toBe(true);
    await vi.advanceTimersByTimeAsync(8 * next.graceMs - 10);
    expect(judge.verdict(11)).toBeUndefined();
    await vi.advanceTimersByTimeAsync(20);
    expect(judge.verdict(11)).toBe('not heard from for 4 x 200 ms');
    expect(changes).toEqual([11]);
  });

  it('nodes that keep arriving keep the switch going (idle nodes wake slowly on a busy host): no verdict while they do', async () => {
    const ids = [11, 12, 13, 14];
    for (const id of ids) {
      judge.linkSeen(rid(0, id), 0, true);
      judge.watch(id, pid);
      judge.beat(id, pid, true); // idle: quiet, so only the links are judged
    }
    let done = false;
    void judge.switchTo(T, 1).then(() => (done = true));
    for (const id of ids) judge.linkSeen(rid(0, id), 0, false);
    // One arrives every 0.9 × the connect grace: four of them take far longer than one grace.
    for (const id of ids) {
      await vi.advanceTimersByTimeAsync(0.9 * timings.connectGraceMs);
      expect(done).toBe(false);
      judge.linkSeen(rid(0, id), 1, true);
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
    await vi.advanceTimersByTimeAsync(10 * timings.connectGraceMs);
    expect(changes).toEqual([]);
  });

  it('once every node moved, a cut is forgiven for 8 graces more (a burst of reconnects can starve a link), then judged as usual', async () => {
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid);
    const switched = judge.switchTo(T, 1);
    judge.linkSeen(rid(0), 0, false);
    judge.linkSeen(rid(0), 1, true);
    await switched;
    judge.linkSeen(rid(0), 1, false); // cut again at once...
    await vi.advanceTimersByTimeAsync(6 * timings.graceMs);
    expect(judge.verdict(11)).toBeUndefined();
    judge.linkSeen(rid(0), 1, true); // ...and back within the window: nothing
    await vi.advanceTimersByTimeAsync(10 * timings.graceMs);
    judge.linkSeen(rid(0), 1, false); // after it: the usual grace
    await vi.advanceTimersByTimeAsync(timings.graceMs + 1);
    expect(judge.verdict(11)).toBeDefined();
    expect(changes).toEqual([11]);
  });

  it('a new interval with the same pings moves nothing: it resolves at once and judges by the new interval', async () => {
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid);
    await judge.switchTo(150, undefined);
    expect(judge.config.intervalMs).toBe(150);
    judge.linkSeen(rid(0), 0, false);
    await vi.advanceTimersByTimeAsync(75 + 1);
    expect(judge.verdict(11)).toBe('not heard from for 4 x 150 ms');
  });

  it('T = 0: nothing is judged, and switching it off clears a verdict', async () => {
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid);
    judge.linkSeen(rid(0), 0, false);
    await vi.advanceTimersByTimeAsync(timings.graceMs + 1);
    expect(judge.verdict(11)).toBeDefined();
    await judge.switchTo(0, 1);
    expect(judge.verdict(11)).toBeUndefined();
    judge.linkSeen(rid(0), 0, true);
    judge.linkSeen(rid(0), 0, false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(judge.verdict(11)).toBeUndefined();
  });

  it('a cut node whose process runs (the host is too busy to run it) is judged only after 2B; stopped, at the grace', async () => {
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid);
    judge.beat(11, pid, true);
    states.set(pid, 'running');
    judge.linkSeen(rid(0), 0, false);
    await vi.advanceTimersByTimeAsync(timings.silentAfterMs - timings.graceMs);
    expect(judge.verdict(11)).toBeUndefined();
    judge.linkSeen(rid(0), 0, true); // it got the CPU and reconnected: nothing happened
    expect(changes).toEqual([]);
    judge.linkSeen(rid(0), 0, false);
    await vi.advanceTimersByTimeAsync(timings.silentAfterMs + timings.graceMs);
    expect(judge.verdict(11)).toBe(`not heard from for 4 x ${T} ms`); // never back: judged all the same
    judge.linkSeen(rid(0), 0, true);
    judge.linkSeen(rid(0), 0, false);
    states.set(pid, 'stopped'); // SIGSTOP: at the grace
    changes = [];
    await vi.advanceTimersByTimeAsync(timings.graceMs + 1);
    expect(judge.verdict(11)).toBeDefined();
    expect(changes).toEqual([11]);
  });

  it('a node on another host is judged by time alone (its process state cannot be read here)', async () => {
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid, false);
    states.set(pid, 'running');
    judge.linkSeen(rid(0), 0, false);
    await vi.advanceTimersByTimeAsync(timings.graceMs + 1);
    expect(judge.verdict(11)).toBeDefined();
  });

  it('reads the state letter after the command, whatever the command holds', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom(['R', 'running'], ['S', 'running'], ['D', 'running'], ['T', 'stopped'], ['t', 'stopped'], ['Z', 'gone'], ['I', 'unknown']), (command, [letter, state]) => {
        expect(processStateOf(`4242 (${command}) ${letter} 1 4242 4242 0 -1`)).toBe(state);
      }),
    );
  });

  it('an unwatched process is no longer judged', async () => {
    judge.linkSeen(rid(0), 0, true);
    judge.watch(11, pid);
    judge.unwatch(11);
    judge.linkSeen(rid(0), 0, false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(judge.verdict(11)).toBeUndefined();
    expect(changes).toEqual([]);
  });
});
