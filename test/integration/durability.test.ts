/**
 * `--data-dir`: the tree and every acknowledged value survive the gateway, a clean stop and a
 * `kill -9` under load alike; a directory in use is refused; a corrupt tree file is reported,
 * never read as an empty tree; `--fsync` serves the same way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { GATEWAY_MAIN, startGateway } from '../helpers/gateway.js';
import { isAlive } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';

function dataDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'arbor-data-')), 'data');
  onTestFinished(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  return dir;
}

const shape = (t: { root?: number; nodes: { id: number; parent?: number; left?: number; right?: number }[] }) => ({
  root: t.root,
  nodes: t.nodes.map(({ id, parent, left, right }) => ({ id, parent, left, right })),
});

describe('durability with --data-dir', () => {
  it('a gateway started again on the same dir has the same tree, places, interval and values before it listens', async () => {
    const dir = dataDir();
    const first = await startGateway(['--data-dir', dir]);
    const api = rpc(first.client());
    for (const id of [8, 11, 6, 13, 9]) await api.create({ id });
    await api.heartbeat({ intervalMs: 200 });
    for (const id of [8, 11, 6, 13, 9]) await api.exec({ id, name: 'X', value: BigInt(id) * -7n });
    const before = await api.topology();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(await first.stop()).toBe(0);

    const second = await startGateway(['--data-dir', dir]);
    const again = rpc(second.client());
    // Right after the listening line: no waiting, the tree is back.
    const after = await again.topology();
    expect(shape(after)).toEqual(shape(before));
    expect(after.heartbeatIntervalMs).toBe(200);
    expect(after.nodes.every((n) => n.available)).toBe(true);
    for (const id of [8, 11, 6, 13, 9]) expect(await again.exec({ id, name: 'X' })).toMatchObject({ found: true, value: BigInt(id) * -7n });
    // And the restored tree grows as before: 10 goes under 9, and a rotation makes 9 the root.
    expect(await again.create({ id: 10 })).toMatchObject({ parent: 11 });
    expect((await again.topology()).root).toBe(9);
  });

  it('kill -9 of the gateway under load, then a restart on the dir: the tree and every acknowledged store are back', { timeout: 60_000 }, async () => {
    const dir = dataDir();
    const first = await startGateway(['--data-dir', dir]);
    const api = rpc(first.client());
    const ids = [40, 20, 60, 10, 30, 50, 70];
    for (const id of ids) await api.create({ id });
    // One writer per key, values increasing: the last acknowledged value of each key is known.
    const acked = new Map<string, bigint>();
    const sent = new Map<string, bigint>();
    let stop = false;
    const writer = async (w: number): Promise<void> => {
      const client = first.client();
      const call = rpc(client);
      for (let seq = 1n; !stop; seq++) {
        const id = ids[(w + Number(seq)) % ids.length]!;
        const key = `w${w}n${id}`;
        sent.set(key, seq);
        try {
          await call.exec({ id, name: key, value: seq });
          acked.set(key, seq);
        } catch {
          return; // the gateway is gone
        }
      }
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    await expect.poll(() => acked.size, { timeout: 10_000 }).toBeGreaterThanOrEqual(20);
    const nodes = first.processes();
    first.proc.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    expect(acked.size).toBeGreaterThanOrEqual(20);

    const second = await startGateway(['--data-dir', dir]);
    const again = rpc(second.client());
    expect((await again.topology()).nodes.map((n) => n.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    for (const [key, value] of acked) {
      const id = Number(/n(\d+)$/.exec(key)![1]);
      const read = await again.exec({ id, name: key });
      expect(read.found).toBe(true);
      // Acknowledged is kept; a store in flight at the kill may or may not have been applied.
      expect(read.value).toBeGreaterThanOrEqual(value);
      expect(read.value).toBeLessThanOrEqual(sent.get(key)!);
    }
    // The nodes of the killed gateway are gone (they end when it does), none serves twice.
    for (const pid of nodes) expect(isAlive(pid)).toBe(false);
  });

  it('a second gateway on a dir in use refuses with a clear error; the first keeps serving', async () => {
    const dir = dataDir();
    const first = await startGateway(['--data-dir', dir]);
    await rpc(first.client()).create({ id: 1 });
    const second = spawnSync(process.execPath, [GATEWAY_MAIN, '--listen', '127.0.0.1:0', '--data-dir', dir], { encoding: 'utf8', timeout: 15_000 });
    expect(second.status).toBe(2);
    expect(second.stdout).toBe('');
    expect(second.stderr).toContain(`arbor-gateway: --data-dir: ${dir} is in use by another gateway (pid ${first.pid})`);
    expect(await rpc(first.client()).ping({ id: 1 })).toEqual({ id: 1, available: true });
  });

  it('a lock left by a killed gateway is taken over', async () => {
    const dir = dataDir();
    const first = await startGateway(['--data-dir', dir]);
    await rpc(first.client()).create({ id: 1 });
    first.proc.kill('SIGKILL');
    await expect.poll(() => isAlive(first.pid), { timeout: 5000 }).toBe(false);
    const second = await startGateway(['--data-dir', dir]);
    expect(await rpc(second.client()).ping({ id: 1 })).toEqual({ id: 1, available: true });
  });

  it('a corrupt tree file is reported, never read as an empty tree', async () => {
    const dir = dataDir();
    const first = await startGateway(['--data-dir', dir]);
    await rpc(first.client()).create({ id: 1 });
    expect(await first.stop()).toBe(0);
    for (const [garbage, why] of [
      ['{"version":1,"heartbeatMs":0,"root":5,"nodes":[', 'not JSON'],
      ['{"version":1,"heartbeatMs":0,"root":5,"nodes":[{"id":5,"parent":null,"left":9,"right":null,"pid":null}]}', 'node 5 has a left child 9 that is not in the tree'],
    ] as const) {
      writeFileSync(join(dir, 'tree.json'), garbage);
      const run = spawnSync(process.execPath, [GATEWAY_MAIN, '--listen', '127.0.0.1:0', '--data-dir', dir], { encoding: 'utf8', timeout: 15_000 });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`tree.json is corrupt (${why}); refusing to start rather than lose the tree`);
    }
    // The logs are untouched.
    expect(readdirSync(join(dir, 'nodes'))).toEqual(['1.wal']);
  });

  it('--fsync: stores and loads work, and survive a gateway restart', async () => {
    const dir = dataDir();
    const first = await startGateway(['--data-dir', dir, '--fsync']);
    const api = rpc(first.client());
    await api.create({ id: 5 });
    await api.create({ id: 3 });
    const stores = Array.from({ length: 200 }, (_, i) => api.exec({ id: i % 2 ? 5 : 3, name: `k${i}`, value: BigInt(i) }));
    expect((await Promise.all(stores)).every((r) => r.found)).toBe(true);
    expect(await first.stop()).toBe(0);
    const second = await startGateway(['--data-dir', dir, '--fsync']);
    const again = rpc(second.client());
    for (let i = 0; i < 200; i += 37) expect(await again.exec({ id: i % 2 ? 5 : 3, name: `k${i}` })).toMatchObject({ value: BigInt(i) });
  });
});
