/**
 * A new heartbeat interval is one message to each node, applied in place: nothing on the data
 * path moves, no node is reported unavailable while it switches, the call answers once every
 * node runs with it, and the new interval is in force at once (a stop right after the switch is
 * found within its 4T). The 400-node figures are the bench's (`heartbeat switch` rows).
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { EventLog } from '../helpers/watch.js';

describe('heartbeat switch', () => {
  it('off -> 100 -> 1000 -> off -> 100 over 31 nodes raises no event and moves no process; a stop right after is found within 4T', { timeout: 60_000 }, async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    // A full tree of 31 (level order: no rotation).
    const ids: number[] = [];
    for (let level = 16; level >= 1; level /= 2) for (let id = level; id < 32; id += 2 * level) ids.push(id);
    const pids = new Map<number, number>();
    for (const id of ids) pids.set(id, (await api.create({ id })).pid);
    for (const id of ids) await api.exec({ id, name: 'k', value: BigInt(id) });
    const log = await EventLog.open(gw.client());
    for (const intervalMs of [100, 1000, 0, 100]) {
      expect(await api.heartbeat({ intervalMs })).toEqual({ intervalMs });
      // Commands keep flowing through every switch.
      for (const id of [1, 16, 31]) expect((await api.exec({ id, name: 'k' })).value).toBe(BigInt(id));
    }
    expect(log.events).toEqual([]);
    const topology = await api.topology();
    expect(topology.heartbeatIntervalMs).toBe(100);
    for (const n of topology.nodes) expect({ id: n.id, pid: n.pid, available: n.available }).toEqual({ id: n.id, pid: pids.get(n.id), available: true });

    // The switch answered once every node had moved its liveness link: a stop now is found 3T to 4T later.
    const leaf = pids.get(7) as number;
    const stoppedAt = performance.now();
    process.kill(leaf, 'SIGSTOP');
    try {
      const down = await log.next('unavailable', 7, stoppedAt, 5000);
      expect(down.at - stoppedAt).toBeGreaterThanOrEqual(300);
    } finally {
      process.kill(leaf, 'SIGCONT');
    }
    await log.next('available', 7, stoppedAt);
    expect(log.events.filter((e) => e.kind === 'unavailable').map((e) => e.id)).toEqual([7]);
  });
});
