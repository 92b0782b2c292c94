/**
 * The library's dictionary calls against a real gateway (issue 27): `keys()` over every page,
 * `keysPage()` with its revision, `delete()` on the client and on a session, and `watchKeys()`
 * seeing a store and a delete made after it is `ready`, with its own bad arguments refused
 * before anything is sent.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { ArborClient, ArborError } from '../../clients/lib/index.js';
import type { KeyEntry, KeyEvent } from '../../clients/lib/types.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';

/** A gateway with node 50, and a client of it; both end with the test. */
async function gatewayWithNode(): Promise<{ gateway: RunningGateway; client: ArborClient }> {
  const gateway = await startGateway(['--request-timeout-ms', '30000']);
  const client = new ArborClient({ target: gateway.address });
  onTestFinished(() => client.close());
  await client.waitForReady({ timeoutMs: 10_000 });
  await client.create(50);
  return { gateway, client };
}

describe('ArborClient: keys, delete, watchKeys', () => {
  it('keys() lists every name over several pages, in order, with exact values; delete() says whether the name was there', { timeout: 60_000 }, async () => {
    const { client } = await gatewayWithNode();
    const session = client.session();
    const names = Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    await Promise.all(names.map((name, i) => session.store(50, name, i === 0 ? 2n ** 63n - 1n : BigInt(-i))));
    await session.store(50, 'q1', 1n);
    await session.close();

    const listed: KeyEntry[] = [];
    for await (const entry of client.keys(50, { prefix: 'p', pageSize: 4 })) listed.push(entry);
    expect(listed.map((e) => e.name)).toEqual(names);
    expect(listed[0]?.value).toBe(2n ** 63n - 1n);
    expect(listed[24]?.value).toBe(-24n);

    const page = await client.keysPage(50, { prefix: 'p', limit: 10 });
    expect(page.entries).toHaveLength(10);
    expect(page.more).toBe(true);
    const again = await client.keysPage(50, { prefix: 'p', limit: 10, startAfter: 'p09' });
    expect(again.entries[0]?.name).toBe('p10');
    expect(again.revision).toBe(page.revision);

    await client.store(50, 'gone', 7n);
    expect(await client.delete(50, 'gone')).toBe(true);
    expect(await client.delete(50, 'gone')).toBe(false);
    expect(await client.load(50, 'gone')).toBeUndefined();
    const pipelined = client.session();
    await pipelined.store(50, 'gone2', 8n);
    expect(await pipelined.delete(50, 'gone2')).toBe(true);
    expect(await pipelined.delete(50, 'gone2')).toBe(false);
    await pipelined.close();
    await expect(client.delete(999, 'x')).rejects.toMatchObject({ code: 'not-found', nodeId: 999 });
  });

  it('watchKeys() sees the stores and deletes made after it is ready, filtered by prefix', { timeout: 60_000 }, async () => {
    const { client } = await gatewayWithNode();
    const controller = new AbortController();
    const stream = client.watchKeys({ id: 50, prefix: 'w', signal: controller.signal });
    await stream.ready;
    await client.store(50, 'other', 1n);
    await client.store(50, 'w1', 5n);
    await client.delete(50, 'w1');
    const seen: KeyEvent[] = [];
    for await (const event of stream) {
      seen.push(event);
      if (seen.length === 2) controller.abort();
    }
    expect(seen).toEqual([
      { id: 50, name: 'w1', kind: 'put', value: 5n },
      { id: 50, name: 'w1', kind: 'delete', value: 5n },
    ]);
  });

  it('refuses bad arguments before sending anything', async () => {
    /* Nothing listens there: a call that went out would fail with 'unavailable', not 'invalid-argument'. */
    const client = new ArborClient({ target: '127.0.0.1:1' });
    onTestFinished(() => client.close());
    const listing = async (): Promise<void> => {
      for await (const entry of client.keys(50, { prefix: 'a-b' })) void entry;
    };
    await expect(listing()).rejects.toBeInstanceOf(ArborError);
    await expect(listing()).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(client.delete(50, '')).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(client.watchKeys({ prefix: 'a b' }).ready).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
