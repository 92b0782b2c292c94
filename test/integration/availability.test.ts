/**
 * Availability with real processes: process death (known at once through the OS), silence
 * (the 4 x interval heartbeat rule), subtree events node by node, fail-fast afterwards, and
 * recovery after SIGCONT. Deaths are tested with `--restart never`, where a dead node stays
 * down; what `--restart always` (the default) does after a death is in self-healing.test.ts.
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.js';
import { isAlive, mainThreadRuns, processState } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';
import { EventLog } from '../helpers/watch.js';

/** Generous slack for a loaded 2-core CI machine; the lower bound is exact. */
const SLACK_MS = 250;
/** The blocked-loop rule's floor in these tests (`--blocked-loop-ms`; 10 s by default). */
const BLOCKED_LOOP_MS = 2000;

async function tree(ids: number[], extraArgs: string[] = [], env: Record<string, string> = {}) {
  const gw = await startGateway(extraArgs, env);
  const client = gw.client();
  const api = rpc(client);
  const log = await EventLog.open(client);
  const pids: Record<number, number> = {};
  for (const id of ids) pids[id] = (await api.create({ id })).pid;
  return { gw, api, log, pids };
}

describe('availability', () => {
  it('validates the heartbeat interval', async () => {
    const { api } = await tree([]);
    for (const intervalMs of [1, 9, 3_600_001]) {
      await expect(api.heartbeat({ intervalMs })).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: `heartbeat interval ${intervalMs} ms is out of range: expected 0 (off) or 10 to 3600000`,
      });
    }
    for (const intervalMs of [0, 10, 3_600_000, 100]) expect(await api.heartbeat({ intervalMs })).toEqual({ intervalMs });
  });

  it('kill -9 of a leaf: exited + unavailable at once, in-flight and later requests fail fast', async () => {
    const { api, log, pids } = await tree([8, 11, 6], ['--request-timeout-ms', '20000', '--restart', 'never']);
    // A request stuck in the frozen leaf must fail as soon as the process dies, not at its deadline.
    process.kill(pids[6]!, 'SIGSTOP');
    const stuck = api.exec({ id: 6, name: 'X', value: 1n });
    const killedAt = performance.now();
    process.kill(pids[6]!, 'SIGKILL');
    await expect(stuck).rejects.toMatchObject({ code: status.UNAVAILABLE, details: 'Node 6 is unavailable' });
    expect(performance.now() - killedAt).toBeLessThan(2000);

    const exited = await log.next('exited', 6);
    expect(exited.signal).toBe('SIGKILL');
    await log.next('unavailable', 6);
    expect(log.of('unavailable')).toEqual([6]);
    // Reaped, not a zombie.
    await expect.poll(() => processState(pids[6]!) === undefined, { message: 'node 6 reaped', timeout: 5000, interval: 20 }).toBe(true);

    const t = performance.now();
    expect(await api.ping({ id: 6 })).toEqual({ id: 6, available: false });
    await expect(api.exec({ id: 6, name: 'X' })).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(performance.now() - t).toBeLessThan(1000);
    // Every other node keeps working.
    expect(await api.exec({ id: 11, name: 'X', value: 2n })).toMatchObject({ found: true, value: 2n });
    expect(await api.ping({ id: 8 })).toEqual({ id: 8, available: true });
  });

  it('kill -9 of an inner node makes its subtree unavailable, node by node; the rest keeps working', async () => {
    // The lab's plain search tree: balanced, 12 below 13 would rotate 11 up to the root.
    const { api, log, pids } = await tree([8, 11, 6, 13, 9, 12], ['--restart', 'never', '--balance', 'off']);
    process.kill(pids[11]!, 'SIGKILL');
    await log.next('unavailable', 12);
    expect(log.of('exited')).toEqual([11]);
    expect(new Set(log.of('unavailable'))).toEqual(new Set([11, 9, 13, 12]));
    expect(log.of('unavailable')[0]).toBe(11); // the cause first, then what hangs below it
    for (const id of [9, 13, 12]) {
      expect(await api.ping({ id })).toEqual({ id, available: false });
      expect(isAlive(pids[id]!)).toBe(true); // alive, but unreachable
    }
    await expect(api.create({ id: 10 })).rejects.toMatchObject({ code: status.UNAVAILABLE, details: 'Parent 9 is unavailable' });
    expect(await api.exec({ id: 6, name: 'A', value: 6n })).toMatchObject({ value: 6n });
    expect(await api.create({ id: 7 })).toMatchObject({ parent: 6 });
  });

  it('SIGSTOP with time = 100 ms: unavailable 300-400 ms after the stop, available again after SIGCONT', async () => {
    const { api, log, pids } = await tree([8, 11, 6, 13]);
    // No warm-up needed: the parent's window starts when it learns the interval (before this
    // call returns) and restarts at every beat, so a stop now is seen 3 to 4 x 100 ms later.
    await api.heartbeat({ intervalMs: 100 });
    const stoppedAt = performance.now();
    process.kill(pids[11]!, 'SIGSTOP');
    try {
      const down = await log.next('unavailable', 11, stoppedAt);
      const latency = down.at - stoppedAt;
      expect(latency).toBeGreaterThanOrEqual(300);
      expect(latency).toBeLessThanOrEqual(400 + SLACK_MS);
      await log.next('unavailable', 13, stoppedAt);
      expect(await api.ping({ id: 11 })).toEqual({ id: 11, available: false });
      await expect(api.exec({ id: 13, name: 'X' })).rejects.toMatchObject({ code: status.UNAVAILABLE });
      expect(await api.ping({ id: 6 })).toEqual({ id: 6, available: true });
    } finally {
      process.kill(pids[11]!, 'SIGCONT');
    }
    const contAt = performance.now();
    await log.next('available', 11, contAt);
    await log.next('available', 13, contAt);
    expect(await api.exec({ id: 13, name: 'X', value: 13n })).toMatchObject({ value: 13n });
    // One event per outage.
    expect(log.of('unavailable').filter((id) => id === 11)).toHaveLength(1);
  });

  it('a node whose event loop is blocked (busy, not stopped) is reported within max(4T, --blocked-loop-ms), and only its subtree', async () => {
    const blockMs = 4000;
    const { api, log, pids } = await tree([8, 11, 6, 13], ['--blocked-loop-ms', String(BLOCKED_LOOP_MS)], { ARBOR_FAILPOINT_BLOCK_MS: String(blockMs) });
    await api.heartbeat({ intervalMs: 100 });
    const blockedAt = performance.now();
    process.kill(pids[11]!, 'SIGUSR2');
    const down = await log.next('unavailable', 11, blockedAt);
    const latency = down.at - blockedAt;
    // libzmq's I/O thread still answers pings, so the 3T-4T cut of a stopped node must not happen;
    // the JavaScript beat finds it: not heard for 2 beat periods (B = max(4T, 2 s) / 3), judged every period.
    // Its last beat may precede the block by up to one beat period (a busy node beats every B), so the
    // earliest verdict is B after the block: still later than the cut of a stopped node (4T = 400 ms).
    expect(latency).toBeGreaterThan(BLOCKED_LOOP_MS / 3 - 100);
    expect(latency).toBeLessThanOrEqual(BLOCKED_LOOP_MS + SLACK_MS);
    await log.next('unavailable', 13, blockedAt);
    const t = performance.now();
    expect(await api.ping({ id: 6 })).toEqual({ id: 6, available: true });
    expect(performance.now() - t).toBeLessThan(1000);
    await log.next('available', 11, blockedAt + blockMs);
    await log.next('available', 13, blockedAt + blockMs);
    expect(new Set(log.of('unavailable'))).toEqual(new Set([11, 13]));
    expect(log.of('unavailable').filter((id) => id === 11)).toHaveLength(1);
    expect(await api.exec({ id: 13, name: 'X', value: 13n })).toMatchObject({ value: 13n });
    expect(log.of('exited')).toEqual([]);
  });

  it('an idle tree goes quiet (no node runs any JavaScript), and a quiet node whose event loop blocks is still reported', async () => {
    const blockMs = 4000;
    const { api, log, pids } = await tree([8, 11, 6, 13], ['--blocked-loop-ms', String(BLOCKED_LOOP_MS)], { ARBOR_FAILPOINT_BLOCK_MS: String(blockMs) });
    await api.heartbeat({ intervalMs: 100 });
    // Quiet: over an observation window longer than a beat period (2 s / 3), no node's main thread ran at all.
    const windowMs = 1000;
    await expect
      .poll(
        async () => {
          const before = Object.values(pids).map(mainThreadRuns);
          await new Promise((resolve) => setTimeout(resolve, windowMs));
          const after = Object.values(pids).map(mainThreadRuns);
          return after.every((runs, i) => runs !== undefined && runs === before[i]);
        },
        { message: 'every node quiet for a whole window', timeout: 20_000, interval: 0 },
      )
      .toBe(true);
    expect(log.of('unavailable')).toEqual([]);
    // Quiet nodes are still watched: libzmq answers pings, and the loop blocked by the signal
    // handler is found by its missing beats, because the handler woke the node first.
    const blockedAt = performance.now();
    process.kill(pids[11]!, 'SIGUSR2');
    const down = await log.next('unavailable', 11, blockedAt);
    expect(down.at - blockedAt).toBeGreaterThan((2 * BLOCKED_LOOP_MS) / 3 - 100);
    expect(down.at - blockedAt).toBeLessThanOrEqual(BLOCKED_LOOP_MS + SLACK_MS);
    await log.next('unavailable', 13, blockedAt);
    expect(await api.ping({ id: 6 })).toEqual({ id: 6, available: true });
    await log.next('available', 11, blockedAt + blockMs);
    expect(new Set(log.of('unavailable'))).toEqual(new Set([11, 13]));
    expect(await api.exec({ id: 13, name: 'X', value: 13n })).toMatchObject({ value: 13n });
  });

  it('a node created after the heartbeat was set uses it too', async () => {
    const { api, log } = await tree([8]);
    await api.heartbeat({ intervalMs: 50 });
    const late = await api.create({ id: 4 });
    const stoppedAt = performance.now();
    process.kill(late.pid, 'SIGSTOP');
    try {
      const down = await log.next('unavailable', 4, stoppedAt);
      expect(down.at - stoppedAt).toBeLessThanOrEqual(200 + SLACK_MS);
    } finally {
      process.kill(late.pid, 'SIGCONT');
    }
    await log.next('available', 4);
  });

  it('heartbeat 0 turns detection off: a frozen node raises no event', async () => {
    // A short request timeout: a ping of the frozen node answers when it runs out.
    const { api, log, pids } = await tree([8, 9], ['--request-timeout-ms', '500']);
    const intervalMs = 20;
    await api.heartbeat({ intervalMs });
    await api.heartbeat({ intervalMs: 0 });
    process.kill(pids[9]!, 'SIGSTOP');
    try {
      // The ping goes into the tree (nothing says the node is down) and is not answered: after
      // 500 ms, six 4 x interval verdicts would have come by then, had detection stayed on.
      expect(await api.ping({ id: 9 })).toEqual({ id: 9, available: false });
      expect(log.of('unavailable')).toEqual([]);
    } finally {
      process.kill(pids[9]!, 'SIGCONT');
    }
    expect(await api.ping({ id: 9 })).toEqual({ id: 9, available: true });
  });

  it('a gateway whose event loop stalls (SIGSTOP for 1 s at time = 50 ms) raises no false event', async () => {
    const { gw, api, log, pids } = await tree([8, 4, 12, 2, 6]);
    const intervalMs = 50;
    await api.heartbeat({ intervalMs });
    // Heartbeats keep coming while the gateway is frozen; its timers, late, must not count that
    // time as silence of a node. The stall is the scenario (five 4 x interval windows), so it is
    // timed; nothing waits on it.
    const stallMs = 5 * 4 * intervalMs;
    process.kill(gw.pid, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, stallMs));
    process.kill(gw.pid, 'SIGCONT');
    // A witness, stopped as the gateway thaws: its own `unavailable` comes 3 to 4 intervals
    // later, after any false one (which would come within a grace of the thaw); events arrive in order.
    const thawedAt = performance.now();
    process.kill(pids[2]!, 'SIGSTOP');
    try {
      await log.next('unavailable', 2, thawedAt);
      expect(log.of('unavailable')).toEqual([2]);
    } finally {
      process.kill(pids[2]!, 'SIGCONT');
    }
    await log.next('available', 2, thawedAt);
    expect(await api.ping({ id: 6 })).toEqual({ id: 6, available: true });
    expect(log.of('unavailable')).toEqual([2]);
  });

  it('restarting on the same port right after a gateway crash works', async () => {
    const first = await startGateway();
    const port = first.address.split(':')[1] as string;
    await rpc(first.client()).create({ id: 1 });
    first.proc.kill('SIGKILL');
    await expect.poll(() => !isAlive(first.pid), { message: 'first gateway gone', timeout: 5000, interval: 20 }).toBe(true);
    const second = await startGateway(['--listen', `127.0.0.1:${port}`]);
    expect(second.address).toBe(`127.0.0.1:${port}`);
    expect(await rpc(second.client()).create({ id: 1 })).toMatchObject({ id: 1 });
  });
});
