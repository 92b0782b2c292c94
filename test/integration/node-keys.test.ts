/**
 * Topology's `keys` per node (what the web view shows): a store of a new name counts, an
 * overwrite or a load does not, a node restarted from its log reports what it replayed, and a
 * removed-and-created id starts empty.
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { EventLog } from '../helpers/watch.js';

describe('Topology keys', () => {
  it('counts the names each node holds, across a restart from the log and a remove', async () => {
    const gw = await startGateway();
    const client = gw.client();
    const api = rpc(client);
    const log = await EventLog.open(client);
    for (const id of [8, 4, 12]) await api.create({ id });
    const keys = async (): Promise<Record<number, number>> =>
      Object.fromEntries((await api.topology()).nodes.map((n) => [n.id, n.keys]));
    expect(await keys()).toEqual({ 8: 0, 4: 0, 12: 0 });

    for (const name of ['a', 'b', 'c']) await api.exec({ id: 4, name, value: 1n });
    await api.exec({ id: 4, name: 'a', value: 2n }); // an overwrite
    await api.exec({ id: 4, name: 'zz' }); // a load of an absent name
    await api.exec({ id: 12, name: 'x', value: -5n });
    expect(await keys()).toEqual({ 8: 0, 4: 3, 12: 1 });

    const { pid } = (await api.topology()).nodes.find((n) => n.id === 4)!;
    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    const restarted = await log.next('restarted', 4, killedAt);
    await log.next('available', 4, restarted.at);
    // The new process replayed its log and said so in its hello.
    expect(await keys()).toEqual({ 8: 0, 4: 3, 12: 1 });

    await api.remove({ id: 12 });
    await api.create({ id: 12 });
    expect(await keys()).toEqual({ 8: 0, 4: 3, 12: 0 });
  });
});
