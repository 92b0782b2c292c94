/**
 * Self-healing with real processes and real signals (`--restart always`, the default): a
 * killed node comes back in place with its data while its children keep their processes; a
 * restarting node makes commands wait and ping answer at once; a node that cannot start (a
 * corrupt log) is given up after the restart limit; a torn log tail is cut; a hung node is
 * killed and restarted.
 */
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { type ServiceError, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { NodeState } from '../../proto/gen/arbor/v1/arbor.js';
import { startGateway } from '../helpers/gateway.js';
import { isAlive, logPathOf } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';
import { EventLog } from '../helpers/watch.js';

async function tree(ids: number[], extraArgs: string[] = []) {
  const gw = await startGateway(extraArgs);
  const client = gw.client();
  const api = rpc(client);
  const log = await EventLog.open(client);
  const pids: Record<number, number> = {};
  for (const id of ids) pids[id] = (await api.create({ id })).pid;
  for (const id of ids) await api.exec({ id, name: 'own', value: BigInt(id * 1000) });
  return { gw, api, log, pids };
}

const reasonOf = (error: unknown): string => String((error as ServiceError).metadata?.get('arbor-reason')[0] ?? '');

describe('self-healing', () => {
  it('kill -9 of an inner node: back in place with its data; its children keep their pids and data', async () => {
    const ids = [8, 11, 6, 13, 9];
    const { api, log, pids } = await tree(ids);
    const killedAt = performance.now();
    process.kill(pids[11]!, 'SIGKILL');
    const restarted = await log.next('restarted', 11, killedAt);
    for (const id of [11, 9, 13]) await log.next('available', id, restarted.at);

    expect(restarted.pid).not.toBe(pids[11]);
    expect(isAlive(restarted.pid!)).toBe(true);
    const seen = (id: number) => log.events.filter((e) => e.id === id && e.at >= killedAt).map((e) => e.kind);
    expect(seen(11)).toEqual(['exited', 'unavailable', 'restarted', 'available']);
    expect(seen(9)).toEqual(['unavailable', 'available']);
    expect(seen(13)).toEqual(['unavailable', 'available']);
    expect(seen(6)).toEqual([]);

    const topology = await api.topology();
    const node = (id: number) => topology.nodes.find((n) => n.id === id)!;
    expect(node(11)).toMatchObject({ parent: 8, left: 9, right: 13, pid: restarted.pid, restarts: 1, state: NodeState.NODE_STATE_RUNNING, available: true });
    for (const id of [8, 6, 9, 13]) expect(node(id)).toMatchObject({ pid: pids[id], restarts: 0, available: true });
    for (const id of ids) expect(await api.exec({ id, name: 'own' })).toMatchObject({ found: true, value: BigInt(id * 1000) });
    // Ids routed through it can be created again (10 below 9, rotated under 11 as the tree rebalances).
    expect(await api.create({ id: 10 })).toMatchObject({ parent: 11 });
    expect(await api.create({ id: 12 })).toMatchObject({ parent: 13 });
  });

  it('kill -9 of the root: the whole tree comes back, every pid below it unchanged', async () => {
    const ids = [8, 4, 12, 2, 6, 10, 14];
    const { api, log, pids } = await tree(ids);
    const killedAt = performance.now();
    process.kill(pids[8]!, 'SIGKILL');
    const restarted = await log.next('restarted', 8, killedAt);
    for (const id of ids) await log.next('available', id, killedAt);
    const topology = await api.topology();
    expect(topology.root).toBe(8);
    for (const id of ids.slice(1)) expect(topology.nodes.find((n) => n.id === id)?.pid).toBe(pids[id]);
    expect(topology.nodes.find((n) => n.id === 8)?.pid).toBe(restarted.pid);
    for (const id of ids) expect(await api.exec({ id, name: 'own' })).toMatchObject({ value: BigInt(id * 1000) });
  });

  it('while a node restarts, commands to it and through it wait for it; ping answers at once', async () => {
    const { api, log, pids } = await tree([8, 11, 6, 13, 9]);
    // Crash it three times: the restarts come at once, then after 100 and 200 ms. The fourth
    // crash is restarted only after 400 ms: a window in which it is known to be restarting.
    let pid = pids[11]!;
    for (let crash = 1; crash <= 3; crash++) {
      const at = performance.now();
      process.kill(pid, 'SIGKILL');
      pid = (await log.next('restarted', 11, at)).pid!;
    }
    const crashAt = performance.now();
    process.kill(pid, 'SIGKILL');
    await log.next('exited', 11, crashAt);

    const pingAt = performance.now();
    expect(await api.ping({ id: 11 })).toEqual({ id: 11, available: false });
    expect(performance.now() - pingAt).toBeLessThan(200);
    const answeredAt: Record<string, number> = {};
    const waiting = [
      api.exec({ id: 11, name: 'own' }).then((r) => ((answeredAt.own11 = performance.now()), r)),
      api.exec({ id: 9, name: 'own' }).then((r) => ((answeredAt.own9 = performance.now()), r)),
      api.exec({ id: 11, name: 'late', value: 7n }).then((r) => ((answeredAt.late = performance.now()), r)),
    ];
    const results = await Promise.all(waiting);
    const back = await log.next('restarted', 11, crashAt);
    expect(results.map((r) => r.value)).toEqual([11_000n, 9000n, 7n]);
    // They were answered by the new process, not failed or answered by the old one.
    for (const at of Object.values(answeredAt)) expect(at).toBeGreaterThanOrEqual(back.at - 50);
    expect(back.at - crashAt).toBeGreaterThanOrEqual(400);
    expect(await api.exec({ id: 11, name: 'late' })).toMatchObject({ value: 7n });
  });

  it('a node that crashes at every start (its log corrupt) is given up after 5 restarts: FAILED, fast errors with a reason', async () => {
    const { gw, api, log, pids } = await tree([8, 11, 6, 13, 9]);
    const path = logPathOf(pids[11]!);
    for (let i = 0; i < 40; i++) await api.exec({ id: 11, name: `k${i}`, value: BigInt(i) });
    const bytes = readFileSync(path);
    bytes[20] = (bytes[20] as number) ^ 0xff; // inside the first record, with many after it
    writeFileSync(path, bytes);
    const killedAt = performance.now();
    process.kill(pids[11]!, 'SIGKILL');
    const failed = await log.next('failed', 11, killedAt, 20_000);
    expect(failed.reason).toMatch(/given up: it crashed again after 5 restarts within 30 s; last: log .*11\.wal is corrupt/);
    // No restart storm: exactly five attempts, each refused by the node itself.
    expect(gw.stderr().split('\n').filter((l) => l.includes('restart attempt failed') && l.includes('"node":11,'))).toHaveLength(5);
    expect(log.events.filter((e) => e.id === 11 && e.kind === 'restarted')).toHaveLength(0);

    const topology = await api.topology();
    expect(topology.nodes.find((n) => n.id === 11)).toMatchObject({ state: NodeState.NODE_STATE_FAILED, available: false });
    expect(topology.nodes.find((n) => n.id === 11)?.reason).toMatch(/corrupt/);
    const t = performance.now();
    expect(await api.ping({ id: 11 })).toEqual({ id: 11, available: false });
    const direct = await api.exec({ id: 11, name: 'k1' }).catch((e: unknown) => e);
    expect(direct).toMatchObject({ code: status.UNAVAILABLE, details: 'Node 11 is unavailable' });
    expect(reasonOf(direct)).toMatch(/given up.*corrupt/);
    const below = await api.exec({ id: 9, name: 'own' }).catch((e: unknown) => e);
    expect(below).toMatchObject({ code: status.UNAVAILABLE, details: 'Node 9 is unavailable' });
    expect(reasonOf(below)).toMatch(/node 11 above it cannot be reached: given up/);
    expect(performance.now() - t).toBeLessThan(500);
    // The rest of the tree is untouched, and the corrupt log is left for someone to look at.
    expect(await api.exec({ id: 6, name: 'own' })).toMatchObject({ value: 6000n });
    expect(readFileSync(path)).toEqual(bytes);
  });

  it('a torn tail (the log cut mid-record) is cut off, and the node serves what came before', async () => {
    const { gw, api, log, pids } = await tree([8, 11]);
    const path = logPathOf(pids[11]!);
    await api.exec({ id: 11, name: 'kept', value: 1n });
    await api.exec({ id: 11, name: 'torn', value: 2n });
    truncateSync(path, statSync(path).size - 3);
    const killedAt = performance.now();
    process.kill(pids[11]!, 'SIGKILL');
    await log.next('available', 11, killedAt);
    expect(await api.exec({ id: 11, name: 'kept' })).toMatchObject({ found: true, value: 1n });
    expect(await api.exec({ id: 11, name: 'own' })).toMatchObject({ found: true, value: 11_000n });
    expect(await api.exec({ id: 11, name: 'torn' })).toMatchObject({ found: false });
    expect(gw.stderr()).toMatch(/"node":11,"cutBytes":\d+,"msg":"cut a torn tail off the log"/);
  });

  it('a node frozen for --hang-restart-ms is killed and restarted; the nodes behind it are not', async () => {
    const { api, log, pids } = await tree([8, 11, 6, 13, 9], ['--hang-restart-ms', '600']);
    await api.heartbeat({ intervalMs: 50 });
    const stoppedAt = performance.now();
    process.kill(pids[11]!, 'SIGSTOP');
    const down = await log.next('unavailable', 11, stoppedAt);
    const exited = await log.next('exited', 11, stoppedAt);
    expect(exited.reason).toBe('killed by the control: silent for 600 ms (hung)');
    expect(exited.at - down.at).toBeGreaterThanOrEqual(600 - 50);
    const restarted = await log.next('restarted', 11, stoppedAt);
    for (const id of [11, 9, 13]) await log.next('available', id, restarted.at);
    // 9 and 13 were unreachable behind it, never silent themselves: never killed.
    for (const id of [9, 13, 6, 8]) expect(isAlive(pids[id]!)).toBe(true);
    expect(log.events.filter((e) => e.kind === 'exited').map((e) => e.id)).toEqual([11]);
    for (const id of [11, 9, 13]) expect(await api.exec({ id, name: 'own' })).toMatchObject({ value: BigInt(id * 1000) });
  });
});
