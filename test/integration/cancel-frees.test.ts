/**
 * A client that cancels, or whose deadline passes, leaves nothing behind: its requests stuck in
 * a frozen node are dropped at once (the gateway's own request timeout is a minute here, so only
 * the cancel and the callers' deadlines can free them), a call whose own deadline passes is
 * answered DEADLINE_EXCEEDED, and the gateway's in-flight and pending counts return to zero
 * (read from the metrics, as an operator would).
 */
import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { store, TestSession } from '../helpers/session.js';

describe('cancelled and expired calls', () => {
  it('frees everything a cancelled session and expired unary calls held', async () => {
    const gw = await startGateway(['--metrics-listen', '127.0.0.1:0', '--request-timeout-ms', '60000']);
    await expect.poll(() => gw.stdoutLines.some((l) => l.includes('metrics on')), { message: 'metrics address', timeout: 5000, interval: 20 }).toBe(true);
    const metrics = /metrics on (\S+)/.exec(gw.stdoutLines.join('\n'))?.[1] as string;
    const scrape = async () => (await fetch(`http://${metrics}/metrics`)).text();
    const gauge = (text: string, name: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(name))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);

    const api = rpc(gw.client());
    await api.create({ id: 8 });
    const { pid } = await api.create({ id: 4 });
    process.kill(pid, 'SIGSTOP');
    try {
      // 500 commands stuck in the frozen node, then the client goes away.
      const session = new TestSession(gw.client());
      for (let i = 0; i < 500; i++) session.send(store(4, 'k', BigInt(i)));
      // Unary calls whose own deadline (300 ms) is shorter than the gateway's.
      const client = gw.client();
      const expired = Array.from(
        { length: 20 },
        () =>
          new Promise<number>((resolve) =>
            client.exec({ id: 4, name: 'k' }, new Metadata(), { deadline: Date.now() + 300 }, (e) => resolve(e ? e.code : 0)),
          ),
      );
      await expect.poll(async () => gauge(await scrape(), 'arbor_pending_node_requests') >= 500, { message: 'commands pending in the tree', timeout: 5000, interval: 20 }).toBe(true);
      session.cancel();
      // The callers' own deadline, not the gateway's: DEADLINE_EXCEEDED, whichever side says it first.
      for (const code of await Promise.all(expired)) expect(code).toBe(status.DEADLINE_EXCEEDED);
      // Everything is freed long before the gateway's own deadline, with the node still frozen.
      await expect.poll(async () => {
        const text = await scrape();
        return gauge(text, 'arbor_pending_node_requests') === 0 && gauge(text, 'arbor_in_flight_commands') === 0;
      }, { message: 'nothing pending', timeout: 5000, interval: 20 }).toBe(true);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await api.exec({ id: 4, name: 'k', value: 1n })).toMatchObject({ found: true });
  });
});
