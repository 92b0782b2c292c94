/**
 * Results ready in the same turn leave in the order their commands came in (gateway/session.ts):
 * a store and a load of one node, answered by one wave of the node's replies, must not come
 * back load first, which a piped script printed as the load's line before the store's.
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { load, store, TestSession } from '../helpers/session.js';
import { runScript } from '../helpers/cli.js';
import { REPO } from '../helpers/gateway.js';

describe('Session reply order', () => {
  it('answers a store and a load of the same node, sent together, store first', async () => {
    const gw = await startGateway();
    await rpc(gw.client()).create({ id: 8 });
    const session = new TestSession(gw.client());
    const pairs: [bigint, bigint][] = [];
    for (let i = 0; i < 50; i++) {
      const [storeTag, loadTag] = session.sendBatch([store(8, 'X', BigInt(i)), load(8, 'X')]) as [bigint, bigint];
      pairs.push([storeTag, loadTag]);
      expect(await session.reply(loadTag)).toEqual({ $case: 'exec', value: { id: 8, name: 'X', found: true, value: BigInt(i) } });
      await session.reply(storeTag);
    }
    for (const [storeTag, loadTag] of pairs) expect(session.arrival.indexOf(storeTag)).toBeLessThan(session.arrival.indexOf(loadTag));
    await session.end();
  });

  it('prints a piped store before the load that follows it (no --ordered)', async () => {
    const gw = await startGateway();
    await rpc(gw.client()).create({ id: 8 });
    const { code, lines } = await runScript(`${REPO}dist/bundle/arbor.js`, ['--target', gw.address], 'exec 8 X 16\nexec 8 X\nexec 8 X 17\nexec 8 X\n');
    expect(lines).toEqual(['Ok: 8', "Ok: 8 'X' 16", 'Ok: 8', "Ok: 8 'X' 17"]);
    expect(code).toBe(0);
  });
});
