/**
 * Moves, creates and re-links are invisible to clients: a command for a node that is being
 * created, moved by a rotation, or re-linked waits for it (within its deadline); only a node
 * that really does not answer is unavailable. The scenario of issue 23: a piped script creates
 * ids 21..127 in sorted order (every create rotates the tree) and stores into each new node right
 * after its create, while a second client runs store/load pairs on nodes 1..20, with heartbeats
 * at 100 ms. Every command succeeds, every value comes back, and no event says unavailable.
 */
import { describe, expect, it } from 'vitest';
import { runScript } from '../helpers/cli.js';
import { CLI_MAIN, startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { EventLog } from '../helpers/watch.js';

describe('moves are invisible', () => {
  it('sorted creates with a store into each new node, beside store/load pairs: no error, every value back, no event', { timeout: 120_000 }, async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    await api.heartbeat({ intervalMs: 100 });
    for (let id = 1; id <= 20; id++) await api.create({ id });
    const log = await EventLog.open(gw.client());

    let done = false;
    const failures: string[] = [];
    let pairs = 0;
    const pairsClient = (async () => {
      const call = rpc(gw.client());
      for (let seq = 1n; !done; seq++) {
        const id = 1 + Number(seq % 20n);
        try {
          await call.exec({ id, name: 'pair', value: seq });
          const loaded = await call.exec({ id, name: 'pair' });
          if (loaded.value !== seq) failures.push(`node ${id}: loaded ${loaded.value} after storing ${seq}`);
          pairs++;
        } catch (error) {
          failures.push(`node ${id}: ${(error as Error).message}`);
        }
      }
    })();

    const ids = Array.from({ length: 107 }, (_, i) => 21 + i);
    const script = ids.map((id) => `create ${id}\nexec ${id} k ${id}\n`).join('');
    let run: Awaited<ReturnType<typeof runScript>>;
    try {
      run = await runScript(CLI_MAIN, ['--target', gw.address, '--ordered'], script);
    } finally {
      done = true;
      await pairsClient;
    }
    const replies = run.lines.filter((line) => !line.startsWith('Heartbit:'));
    expect(replies.filter((line) => !line.startsWith('Ok'))).toEqual([]);
    expect(replies).toHaveLength(2 * ids.length);
    expect(run.code).toBe(0);
    expect(failures).toEqual([]);
    // The pairs ran beside the moves (how many fit depends on how fast the creates go).
    expect(pairs).toBeGreaterThan(30);
    for (const id of ids) expect((await api.exec({ id, name: 'k' })).value).toBe(BigInt(id));
    expect(log.events.filter((e) => e.kind === 'unavailable').map((e) => [e.id, e.reason])).toEqual([]);
    const topology = await api.topology();
    expect(topology.nodes).toHaveLength(127);
    expect(topology.nodes.every((n) => n.available && n.restarts === 0)).toBe(true);
  });
});
