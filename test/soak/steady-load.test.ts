/**
 * No false alarms: 30 s of steady load with heartbeats every 50 ms must not produce a single
 * "unavailable" event, and every command must succeed.
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { load, store, TestSession } from '../helpers/session.js';
import { EventLog } from '../helpers/watch.js';

const DURATION_MS = 30_000;
const IN_FLIGHT = 64;

describe('steady load', () => {
  it('gives no false unavailable events over 30 s at time = 50 ms', { timeout: 90_000 }, async () => {
    const gw = await startGateway();
    const client = gw.client();
    const api = rpc(client);
    const ids = [40, 20, 60, 10, 30, 50, 70];
    for (const id of ids) await api.create({ id });
    const log = await EventLog.open(client);
    await api.heartbeat({ intervalMs: 50 });

    const session = new TestSession(gw.client());
    const end = performance.now() + DURATION_MS;
    let sent = 0;
    let window: bigint[] = [];
    while (performance.now() < end) {
      for (let i = window.length; i < IN_FLIGHT; i++) {
        const id = ids[sent % ids.length] as number;
        window.push(session.send(sent % 2 === 0 ? store(id, `k${sent % 100}`, BigInt(sent)) : load(id, `k${(sent - 1) % 100}`)));
        sent++;
      }
      const results = await session.all(window);
      for (const r of results) expect(r.$case).toBe('exec');
      window = [];
    }
    await session.end();
    expect(sent).toBeGreaterThan(1000);
    expect(log.of('unavailable')).toEqual([]);
  });
});
