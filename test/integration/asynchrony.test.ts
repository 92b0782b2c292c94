/**
 * Asynchrony, stated in the issue and tested over a real Session: commands to different nodes
 * proceed independently, commands to one node run in the order sent, and a command that
 * depends on a creation still in flight waits for it (and only for it).
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { create, load, ping, store, TestSession } from '../helpers/session.js';

describe('asynchrony', () => {
  it('keeps per-node order over 1,000 pipelined store/load pairs', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    for (const id of [8, 4, 12]) await api.create({ id });
    const session = new TestSession(gw.client());
    const pairs: { node: number; value: bigint; loadTag: bigint }[] = [];
    for (let i = 0; i < 1000; i++) {
      const node = [8, 4, 12][i % 3] as number;
      const value = BigInt(i) * 1_000_000_007n - 3n;
      session.send(store(node, 'k', value));
      pairs.push({ node, value, loadTag: session.send(load(node, 'k')) });
    }
    const results = await session.all(pairs.map((p) => p.loadTag));
    results.forEach((result, i) => {
      expect(result).toEqual({ $case: 'exec', value: { id: pairs[i]!.node, name: 'k', found: true, value: pairs[i]!.value } });
    });
    await session.end();
  });

  it('runs a command after the creation it depends on, even when sent at once', async () => {
    const gw = await startGateway();
    const session = new TestSession(gw.client());
    const tags = [
      session.send(store(8, 'X', 1n)), // before create 8: the node does not exist yet
      session.send(create(8)),
      session.send(store(8, 'X', 16n)),
      session.send(load(8, 'X')),
      session.send(create(11)),
      session.send(create(9, 11)), // its parent 11 is still being created
      session.send(store(9, 'Y', 18n)),
      session.send(ping(9)),
      session.send(load(9, 'Y')),
    ];
    const [early, c8, s8, l8, c11, c9, s9, p9, l9] = await session.all(tags);
    expect(early).toMatchObject({ $case: 'error', value: { code: 5, message: "Node with id 8 doesn't exist" } });
    expect(c8).toMatchObject({ $case: 'create', value: { id: 8 } });
    expect(s8).toEqual({ $case: 'exec', value: { id: 8, name: 'X', found: true, value: 16n } });
    expect(l8).toEqual({ $case: 'exec', value: { id: 8, name: 'X', found: true, value: 16n } });
    expect(c11).toMatchObject({ $case: 'create', value: { id: 11, parent: 8 } });
    // Placed under 11; with balancing on (the default) 8, 11, 9 then rotate, 9 becoming the root.
    expect(c9).toMatchObject({ $case: 'create', value: { id: 9, parent: undefined } });
    expect(s9).toEqual({ $case: 'exec', value: { id: 9, name: 'Y', found: true, value: 18n } });
    expect(p9).toEqual({ $case: 'ping', value: { id: 9, available: true } });
    expect(l9).toEqual({ $case: 'exec', value: { id: 9, name: 'Y', found: true, value: 18n } });
    await session.end();
  });

  it('a SIGSTOPped node delays only its own subtree', async () => {
    const gw = await startGateway(['--request-timeout-ms', '20000']);
    const api = rpc(gw.client());
    const pids: Record<number, number> = {};
    for (const id of [8, 11, 6, 13, 9]) pids[id] = (await api.create({ id })).pid;
    const session = new TestSession(gw.client());
    process.kill(pids[11]!, 'SIGSTOP');
    try {
      // Sent first, to the frozen node and below it...
      const frozen = [session.send(store(11, 'A', 1n)), session.send(load(9, 'A'))];
      // ...then to nodes outside that subtree: these must be answered meanwhile.
      const free = [session.send(store(6, 'A', 2n)), session.send(load(8, 'A')), session.send(ping(8))];
      await session.all(free);
      expect(frozen.some((t) => session.replies.has(t))).toBe(false);
      process.kill(pids[11]!, 'SIGCONT');
      const [s11, l9] = await session.all(frozen);
      expect(s11).toEqual({ $case: 'exec', value: { id: 11, name: 'A', found: true, value: 1n } });
      expect(l9).toEqual({ $case: 'exec', value: { id: 9, name: 'A', found: false, value: 0n } });
    } finally {
      process.kill(pids[11]!, 'SIGCONT');
    }
    await session.end();
  });
});
