/**
 * A storm: nodes, the root among them, are killed with SIGKILL about every half second while
 * several writers and readers run, and restarted in place by the gateway. Every operation is
 * recorded and the history checked afterwards, key by key: no acknowledged store is lost, no
 * load returns a value older than one acknowledged before it began, or a value never written.
 */
import { describe, expect, it, vi } from 'vitest';
import { NodeState } from '../../proto/gen/arbor/v1/arbor.js';
import { startGateway } from '../helpers/gateway.js';
import { checkRegisters, History } from '../helpers/history.js';
import { rpc } from '../helpers/rpc.js';

const STORM_MS = 8000;
const WRITERS = 6;
const READERS = 3;
const KEYS_PER_WRITER = 3;
/** Below the restart limit (5 within 30 s), so the storm tests recovery, not giving up. */
const MAX_KILLS_PER_NODE = 3;

describe('self-healing under a storm of kills', () => {
  it('random kill -9 under load: every acknowledged store survives, no stale or invented read', { timeout: 90_000 }, async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    const ids = Array.from({ length: 15 }, (_, i) => ((i * 7) % 15) * 10 + 10); // scrambled: a bushy tree
    for (const id of ids) await api.create({ id });
    await api.heartbeat({ intervalMs: 100 });
    const keys = Array.from({ length: WRITERS * KEYS_PER_WRITER }, (_, k) => ({ key: `w${Math.floor(k / KEYS_PER_WRITER)}k${k % KEYS_PER_WRITER}`, id: ids[k % ids.length]! }));

    const history = new History();
    const end = performance.now() + STORM_MS;
    const writer = async (w: number): Promise<void> => {
      const call = rpc(gw.client());
      const mine = keys.slice(w * KEYS_PER_WRITER, (w + 1) * KEYS_PER_WRITER);
      for (let seq = 1; performance.now() < end; seq++) {
        const { key, id } = mine[seq % mine.length]!;
        await history.store(key, BigInt(seq), () => call.exec({ id, name: key, value: BigInt(seq) }));
      }
    };
    const reader = async (r: number): Promise<void> => {
      const call = rpc(gw.client());
      for (let i = r; performance.now() < end; i += 7) {
        const { key, id } = keys[i % keys.length]!;
        await history.load(key, async () => {
          const res = await call.exec({ id, name: key });
          return res.found ? res.value : null;
        });
      }
    };
    const kills = new Map<number, number>();
    const killer = async (): Promise<void> => {
      while (performance.now() < end - 500) {
        // Paced by the work done, not by the clock: a kill after every 20 to 60 more operations.
        const done = history.operations.length;
        const more = 20 + Math.floor(Math.random() * 40);
        await vi.waitFor(() => expect(history.operations.length).toBeGreaterThanOrEqual(done + more), { timeout: STORM_MS, interval: 10 });
        const candidates = ids.filter((id) => (kills.get(id) ?? 0) < MAX_KILLS_PER_NODE);
        const victim = candidates[Math.floor(Math.random() * candidates.length)]!;
        const node = (await api.topology()).nodes.find((n) => n.id === victim);
        if (node === undefined || node.pid === 0 || node.state !== NodeState.NODE_STATE_RUNNING) continue;
        process.kill(node.pid, 'SIGKILL');
        kills.set(victim, (kills.get(victim) ?? 0) + 1);
      }
    };
    await Promise.all([...Array.from({ length: WRITERS }, (_, w) => writer(w)), ...Array.from({ length: READERS }, (_, r) => reader(r)), killer()]);

    // The storm is over: every kill was answered by one restart, everything is back, nobody
    // was given up. (The last kill may not even be noticed yet: wait for its restart too.)
    expect([...kills.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(8);
    const recovered = async (): Promise<boolean> => {
      const { nodes } = await api.topology();
      const everyRestart = [...kills].every(([id, count]) => nodes.find((n) => n.id === id)?.restarts === count);
      return everyRestart && nodes.every((n) => n.available && n.state === NodeState.NODE_STATE_RUNNING);
    };
    await expect.poll(recovered, { timeout: 20_000, interval: 50 }).toBe(true);
    expect((await api.topology()).nodes.reduce((sum, n) => sum + n.restarts, 0)).toBe([...kills.values()].reduce((a, b) => a + b, 0));

    // A final read of every key, recorded like the rest, then the whole history is checked.
    const call = rpc(gw.client());
    for (const { key, id } of keys) {
      await history.load(key, async () => {
        const res = await call.exec({ id, name: key });
        return res.found ? res.value : null;
      });
    }
    const stores = history.operations.filter((op) => op.kind === 'store');
    const loads = history.operations.filter((op) => op.kind === 'load' && op.ok);
    expect(stores.filter((op) => op.ok).length).toBeGreaterThan(200);
    expect(loads.length).toBeGreaterThan(100);
    expect(checkRegisters(history.operations)).toEqual([]);
    // The final reads saw every key's last acknowledged store, or a later one in flight at a kill.
    expect(history.operations.slice(-keys.length).every((op) => op.ok && op.value !== null)).toBe(true);
  });
});
