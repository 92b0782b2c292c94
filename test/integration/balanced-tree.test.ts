/**
 * The balanced tree with real processes: sorted inserts stay shallow while live processes are
 * rotated under load (no restart, no lost or failed command); `remove` of a leaf, an inner node,
 * the root and a failed node; the parent a create reports; `--balance off`; and a data dir that
 * restores the shape rotations and removes left.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NodeState, type TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { runScript } from '../helpers/cli.js';
import { CLI_MAIN, startGateway } from '../helpers/gateway.js';
import { isAlive, logPathOf } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';
import { EventLog } from '../helpers/watch.js';

/** Every node's subtrees differ in height by at most one, and the ids are in search order. */
function expectAvl(topology: TopologyResponse): void {
  const byId = new Map(topology.nodes.map((n) => [n.id, n]));
  const height = (id: number | undefined, low: number, high: number): number => {
    if (id === undefined) return 0;
    const n = byId.get(id)!;
    expect(id > low && id < high).toBe(true);
    const l = height(n.left, low, id);
    const r = height(n.right, id, high);
    expect(Math.abs(l - r)).toBeLessThanOrEqual(1);
    return 1 + Math.max(l, r);
  };
  height(topology.root, -Infinity, Infinity);
}

const depthOf = (t: TopologyResponse): number => Math.max(0, ...t.nodes.map((n) => n.depth));

describe('balanced tree', () => {
  it('sorted inserts of 1..127 stay within the AVL bound while store/load pairs run on the nodes being rotated', { timeout: 120_000 }, async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    const pids = new Map<number, number>();
    const created: number[] = [];
    let done = false;
    const failures: string[] = [];
    let pairs = 0;
    // Four clients, each with its own names, store a fresh value and load it back at once,
    // over the nodes created so far (the ones being rotated).
    const client = async (c: number): Promise<void> => {
      const call = rpc(gw.client());
      for (let seq = 1n; !done; seq++) {
        if (created.length === 0) {
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        const id = created[Math.floor(Math.random() * created.length)]!;
        const name = `c${c}`;
        try {
          await call.exec({ id, name, value: seq });
          const loaded = await call.exec({ id, name });
          if (loaded.value !== seq) failures.push(`node ${id}: loaded ${loaded.value} after storing ${seq}`);
          pairs++;
        } catch (error) {
          failures.push(`node ${id}: ${(error as Error).message}`);
        }
      }
    };
    // Also when the test times out (its finally below never runs then): the clients stop with it.
    onTestFinished(() => {
      done = true;
    });
    const clients = Array.from({ length: 4 }, (_, c) => client(c));
    try {
      for (let id = 1; id <= 127; id++) {
        pids.set(id, (await api.create({ id })).pid);
        created.push(id);
      }
    } finally {
      done = true;
      await Promise.all(clients);
    }
    expect(failures).toEqual([]);
    expect(pairs).toBeGreaterThan(500);
    const topology = await api.topology();
    expect(depthOf(topology)).toBeLessThanOrEqual(9);
    expect(topology.depthBound).toBe(8);
    expect(depthOf(topology)).toBeLessThanOrEqual(topology.depthBound!);
    expectAvl(topology);
    // No process was restarted or replaced: every pid is the one its create answered.
    expect(topology.nodes).toHaveLength(127);
    for (const n of topology.nodes) expect({ id: n.id, pid: n.pid, restarts: n.restarts }).toEqual({ id: n.id, pid: pids.get(n.id), restarts: 0 });
    const relinks = gw.stderr().split('\n').filter((l) => l.includes('"msg":"relinked: rebalance'));
    expect(relinks.length).toBeGreaterThan(100);
  });

  it('a create answers with its parent after the rebalancing; a given parent is checked before it', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    await api.create({ id: 1 });
    await api.create({ id: 3 });
    // 2 goes under 3, then a double rotation makes it the root.
    expect(await api.create({ id: 2, parent: 3 })).toMatchObject({ id: 2, parent: undefined });
    expect((await api.topology()).root).toBe(2);
    // The check is against where the search places the id now: under 3, not under 2.
    await expect(api.create({ id: 4, parent: 2 })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: 'Node 4 belongs under 3, not under 2' });
  });

  it('with heartbeats on, rotations and removes raise no unavailable event (moved nodes reconnect within the grace)', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    await api.heartbeat({ intervalMs: 100 });
    const log = await EventLog.open(gw.client());
    // Sorted ids: every insert after the second rotates running nodes to new parents.
    for (let id = 1; id <= 24; id++) await api.create({ id });
    for (const id of [8, 16, 1]) await api.remove({ id });
    const topology = await api.topology();
    expectAvl(topology);
    expect(topology.nodes.every((n) => n.available)).toBe(true);
    expect(log.events.filter((e) => e.kind === 'created')).toHaveLength(24);
    // With the reasons, so that a failure says which rule raised the event.
    expect(log.events.filter((e) => e.kind === 'unavailable').map((e) => [e.id, e.reason])).toEqual([]);
  });

  it('a create that comes while a rotation drains is carried by it, not lost: the rotation takes the shape as it is then', async () => {
    // A long request timeout: a request stuck in a frozen node of the rotated subtree keeps the drain waiting.
    const gw = await startGateway(['--request-timeout-ms', '3000']);
    const api = rpc(gw.client());
    // 4 (2 (1, 3), 6 (5, 8 (7, 9))): 10 under 9 makes 6 lean right, and a left rotation at 6 moves
    // its whole subtree. 5 is in it, but on no path of 10 or 11.
    for (const id of [4, 2, 6, 1, 3, 5, 8, 7, 9]) await api.create({ id });
    const frozen = (await api.topology()).nodes.find((n) => n.id === 5)?.pid as number;
    process.kill(frozen, 'SIGSTOP');
    onTestFinished(() => void process.kill(frozen, 'SIGCONT'));
    const stuck = api.exec({ id: 5, name: 'k' }).catch((e: unknown) => e);
    const ten = api.create({ id: 10 });
    // 10 is linked, and its create waits for the rotation, which waits for 5's request to end.
    await expect.poll(async () => (await api.topology()).nodes.find((n) => n.id === 10)?.state, { timeout: 10_000, interval: 20 }).toBe(NodeState.NODE_STATE_RUNNING);
    // 11 goes under 10 meanwhile (its parent is held: it waits), before the rotation is done.
    const eleven = api.create({ id: 11 });
    expect(await stuck).toMatchObject({ code: status.UNAVAILABLE });
    expect(await ten).toMatchObject({ id: 10 });
    expect(await eleven).toMatchObject({ id: 11 });
    process.kill(frozen, 'SIGCONT');
    const topology = await api.topology();
    expect(topology.nodes.map((n) => n.id).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expectAvl(topology);
    for (const id of [5, 10, 11]) expect(await api.exec({ id, name: 'k', value: BigInt(id) })).toMatchObject({ value: BigInt(id) });
  });

  it('remove: a leaf, an inner node, the root; relinked nodes keep their pids and data; a removed id is gone, then new', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    const log = await EventLog.open(gw.client());
    const ids = [8, 4, 12, 2, 6, 10, 14, 1, 3, 5, 7, 9, 11, 13, 15];
    const pids = new Map<number, number>();
    for (const id of ids) pids.set(id, (await api.create({ id })).pid);
    for (const id of ids) await api.exec({ id, name: 'own', value: BigInt(id) });
    const alive = new Set(ids);
    for (const [victim, successor] of [
      [15, undefined], // a leaf
      [4, 5], // an inner node with two children: its in-order successor takes its place
      [8, 9], // the root
    ] as const) {
      const before = (await api.topology()).nodes.find((n) => n.id === victim)!;
      expect(await api.remove({ id: victim })).toEqual({ id: victim });
      alive.delete(victim);
      await expect.poll(() => isAlive(pids.get(victim)!), { timeout: 5000 }).toBe(false);
      const topology = await api.topology();
      expect(topology.nodes.map((n) => n.id).sort((a, b) => a - b)).toEqual([...alive].sort((a, b) => a - b));
      if (successor !== undefined) {
        const took = topology.nodes.find((n) => n.id === successor)!;
        if (before.parent === undefined) expect(topology.root).toBe(successor);
        else expect(took.parent).toBe(before.parent);
      }
      expectAvl(topology);
      for (const n of topology.nodes) expect(n.pid).toBe(pids.get(n.id));
      for (const id of alive) expect(await api.exec({ id, name: 'own' })).toMatchObject({ found: true, value: BigInt(id) });
      await expect(api.exec({ id: victim, name: 'own' })).rejects.toMatchObject({ code: status.NOT_FOUND, details: `Node with id ${victim} doesn't exist` });
      await expect(api.ping({ id: victim })).rejects.toMatchObject({ code: status.NOT_FOUND });
    }
    expect(log.events.filter((e) => e.kind === 'removed').map((e) => e.id)).toEqual([15, 4, 8]);
    expect(log.of('unavailable')).toEqual([]);
    expect(log.of('exited')).toEqual([]);
    // An unknown id, and a removed id created again: it starts empty.
    await expect(api.remove({ id: 99 })).rejects.toMatchObject({ code: status.NOT_FOUND, details: "Node with id 99 doesn't exist" });
    await api.create({ id: 8 });
    expect(await api.exec({ id: 8, name: 'own' })).toMatchObject({ found: false });
  });

  it('remove of a failed node is the way out: the nodes that hung below it are back with their data', { timeout: 60_000 }, async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    const log = await EventLog.open(gw.client());
    const ids = [8, 4, 12, 2, 6, 10, 14];
    const pids = new Map<number, number>();
    for (const id of ids) pids.set(id, (await api.create({ id })).pid);
    for (const id of ids) await api.exec({ id, name: 'own', value: BigInt(id) });
    writeFileSync(logPathOf(pids.get(12)!), 'not a log at all');
    process.kill(pids.get(12)!, 'SIGKILL');
    await log.next('failed', 12, 0, 20_000);
    expect(await api.ping({ id: 14 })).toEqual({ id: 14, available: false });
    const removedAt = performance.now();
    expect(await api.remove({ id: 12 })).toEqual({ id: 12 });
    for (const id of [10, 14]) await log.next('available', id, removedAt);
    const topology = await api.topology();
    expect(topology.nodes.find((n) => n.id === 12)).toBeUndefined();
    expectAvl(topology);
    for (const id of [8, 4, 2, 6, 10, 14]) {
      expect(topology.nodes.find((n) => n.id === id)).toMatchObject({ pid: pids.get(id), available: true, state: NodeState.NODE_STATE_RUNNING });
      expect(await api.exec({ id, name: 'own' })).toMatchObject({ value: BigInt(id) });
    }
  });

  it('--balance off keeps the lab plain search tree: sorted inserts make a chain', async () => {
    const gw = await startGateway(['--balance', 'off']);
    const api = rpc(gw.client());
    for (let id = 1; id <= 8; id++) await api.create({ id });
    const topology = await api.topology();
    expect(topology).toMatchObject({ root: 1, balanced: false, depthBound: undefined });
    expect(depthOf(topology)).toBe(7);
    // remove still relinks as a search-tree deletion does, without rebalancing.
    await api.remove({ id: 1 });
    expect((await api.topology()).root).toBe(2);
  });

  it('the console: remove prints Ok: <id> removed in both formats; status shows the AVL bound', async () => {
    const gw = await startGateway();
    for (const format of ['seed', 'mai']) {
      const run = await runScript(CLI_MAIN, ['--target', gw.address, '--ordered', '--format', format], 'create 5\ncreate 3\nremove 5\nremove 5\nexec 5 x\nstatus\n');
      expect(run.lines.slice(2)).toEqual(
        format === 'seed'
          ? ['Ok: 5 removed', "Error: Node with id 5 doesn't exist", "Error: Node with id 5 doesn't exist", 'nodes 1, depth 0 (AVL bound 0), heartbeat off, unavailable 0']
          : ['Ok: 5 removed', 'Error: Not found', 'Error:5: Not found', 'nodes 1, depth 0 (AVL bound 0), heartbeat off, unavailable 0'],
      );
      expect(run.code).toBe(1);
      await rpc(gw.client()).remove({ id: 3 });
    }
  });

  it('with --data-dir, the shape after rotations and removes is what a restart restores', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-balance-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const first = await startGateway(['--data-dir', dir]);
    const api = rpc(first.client());
    for (let id = 1; id <= 10; id++) await api.create({ id });
    await api.remove({ id: 4 });
    await api.remove({ id: 7 });
    const shape = (t: TopologyResponse) => ({ root: t.root, nodes: t.nodes.map(({ id, parent, left, right }) => ({ id, parent, left, right })) });
    const before = shape(await api.topology());
    expect((JSON.parse(readFileSync(join(dir, 'tree.json'), 'utf8')) as { root: number }).root).toBe(before.root);
    expect(await first.stop()).toBe(0);
    const second = await startGateway(['--data-dir', dir]);
    expect(shape(await rpc(second.client()).topology())).toEqual(before);
  });
});
