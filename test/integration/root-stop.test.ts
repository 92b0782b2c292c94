/**
 * SIGSTOP of the root while 1,000 commands are in flight: all fail within their deadline
 * with UNAVAILABLE, commands meanwhile fail fast, and after SIGCONT everything works again
 * without a restart.
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { runScript } from '../helpers/cli.js';
import { CLI_MAIN, startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { load, ping, store, TestSession } from '../helpers/session.js';
import { EventLog } from '../helpers/watch.js';

const REQUEST_TIMEOUT_MS = 2000;

describe('root frozen under load', () => {
  it('fails 1,000 in-flight commands in time, fails fast meanwhile, recovers after SIGCONT', async () => {
    const gw = await startGateway(['--request-timeout-ms', String(REQUEST_TIMEOUT_MS)]);
    const client = gw.client();
    const api = rpc(client);
    const ids = [50, 25, 75, 10, 30, 60, 90];
    const root = await api.create({ id: 50 });
    for (const id of ids.slice(1)) await api.create({ id });
    const log = await EventLog.open(client);
    await api.heartbeat({ intervalMs: 100 });

    const session = new TestSession(gw.client());
    process.kill(root.pid, 'SIGSTOP');
    try {
      const sentAt = performance.now();
      const tags = Array.from({ length: 1000 }, (_, i) => {
        const id = ids[i % ids.length] as number;
        return session.send(i % 2 === 0 ? store(id, 'k', BigInt(i)) : load(id, 'k'));
      });
      const results = await session.all(tags, REQUEST_TIMEOUT_MS + 3000);
      expect(performance.now() - sentAt).toBeLessThan(REQUEST_TIMEOUT_MS + 1000);
      for (const r of results) expect(r).toMatchObject({ $case: 'error', value: { code: status.UNAVAILABLE } });

      // The root is known silent now: new commands fail at once instead of waiting.
      await log.next('unavailable', 50);
      const t = performance.now();
      const fast = await session.all([session.send(ping(90)), session.send(store(10, 'k', 1n)), session.send(load(50, 'k'))]);
      expect(performance.now() - t).toBeLessThan(500);
      expect(fast[0]).toEqual({ $case: 'ping', value: { id: 90, available: false } });
      // The line stays the console's; the reason says why: the root does not answer.
      expect(fast[1]).toEqual({
        $case: 'error',
        value: {
          code: status.UNAVAILABLE,
          message: 'Node 10 is unavailable',
          reason: 'node 50 above it (the root) cannot be reached: not heard from for 4 x 100 ms',
        },
      });
      // Unary calls carry the same reason in the trailing metadata, and the CLI shows it in JSON.
      const unary = await api.exec({ id: 90, name: 'k' }).catch((e: { metadata: { get: (k: string) => unknown[] } }) => e);
      expect((unary as { metadata: { get: (k: string) => unknown[] } }).metadata.get('arbor-reason')).toEqual([
        'node 50 above it (the root) cannot be reached: not heard from for 4 x 100 ms',
      ]);
      const cli = await runScript(CLI_MAIN, ['--target', gw.address, '--json'], 'exec 25 k\n');
      expect(JSON.parse(cli.lines[0]!)).toMatchObject({
        ok: false,
        code: 'UNAVAILABLE',
        message: 'Node 25 is unavailable',
        reason: 'node 50 above it (the root) cannot be reached: not heard from for 4 x 100 ms',
      });
    } finally {
      process.kill(root.pid, 'SIGCONT');
    }
    await log.next('available', 90);
    const again = await session.all(ids.map((id) => session.send(store(id, 'k', BigInt(id)))));
    again.forEach((r, i) => expect(r).toEqual({ $case: 'exec', value: { id: ids[i], name: 'k', found: true, value: BigInt(ids[i]!) } }));
    await session.end();
  });
});
