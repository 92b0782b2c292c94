/**
 * The unary RPCs against a real gateway and real computing processes: results, tree placement
 * and every error code.
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.js';
import { isAlive, processState } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';

describe('unary API', () => {
  it('ids inserted 8, 11, 6, 13, 9 form 8(6, 11(9, 13)) and every node answers', async () => {
    // The lab's plain search tree: with balancing on, inserting 10 below would rotate.
    const gw = await startGateway(['--balance', 'off']);
    const api = rpc(gw.client());
    const placed: Record<number, number | undefined> = {};
    const pids = new Set<number>();
    for (const id of [8, 11, 6, 13, 9]) {
      const created = await api.create({ id });
      expect(created.id).toBe(id);
      expect(isAlive(created.pid)).toBe(true);
      placed[id] = created.parent;
      pids.add(created.pid);
    }
    expect(placed).toEqual({ 8: undefined, 11: 8, 6: 8, 13: 11, 9: 11 });
    // Five processes of their own, each a child of the gateway.
    expect(pids.size).toBe(5);
    expect(gw.processes()).toEqual(expect.arrayContaining([...pids]));
    for (const id of [8, 11, 6, 13, 9]) expect(await api.ping({ id })).toEqual({ id, available: true });

    await expect(api.create({ id: 9, parent: 8 })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: 'Node 9 belongs under 11, not under 8',
    });
    await expect(api.create({ id: 10, parent: 8 })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: 'Node 10 belongs under 9, not under 8',
    });
    expect(await api.create({ id: 10, parent: 9 })).toMatchObject({ id: 10, parent: 9 });
    expect(await api.create({ id: 12, parent: -1 })).toMatchObject({ id: 12, parent: 13 });
  });

  it('stores and loads, with int64 extremes exact over a 3-hop path', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    for (const id of [8, 11, 9]) await api.create({ id });
    expect(await api.exec({ id: 9, name: 'X' })).toEqual({ id: 9, name: 'X', found: false, value: 0n });
    for (const value of [9223372036854775807n, -9223372036854775808n, 0n, -1n]) {
      expect(await api.exec({ id: 9, name: 'big', value })).toEqual({ id: 9, name: 'big', found: true, value });
      expect(await api.exec({ id: 9, name: 'big' })).toEqual({ id: 9, name: 'big', found: true, value });
    }
    // Dictionaries are per node.
    expect(await api.exec({ id: 8, name: 'big' })).toMatchObject({ found: false });
  });

  it('maps every failure to its status code with the seed message', async () => {
    const gw = await startGateway(['--request-timeout-ms', '300']);
    const api = rpc(gw.client());
    const fails = (p: Promise<unknown>, code: status, details: string | RegExp) =>
      expect(p).rejects.toMatchObject({ code, details: typeof details === 'string' ? details : (expect.stringMatching(details) as unknown) });

    await fails(api.exec({ id: 10, name: 'X' }), status.NOT_FOUND, "Node with id 10 doesn't exist");
    await fails(api.ping({ id: 21 }), status.NOT_FOUND, "Node with id 21 doesn't exist");
    await fails(api.create({ id: 5, parent: 3 }), status.NOT_FOUND, 'Parent with id 3 not found');
    const root = await api.create({ id: 8 });
    await fails(api.create({ id: 8 }), status.ALREADY_EXISTS, 'Node with id 8 already exists');
    await fails(api.create({ id: 5, parent: 11 }), status.NOT_FOUND, 'Parent with id 11 not found');
    await fails(api.create({ id: -4 }), status.INVALID_ARGUMENT, /^id -4 is out of range/);
    await fails(api.create({ id: 4, parent: -7 }), status.INVALID_ARGUMENT, /^parent -7 is out of range/);
    await fails(api.exec({ id: 8, name: 'a-b' }), status.INVALID_ARGUMENT, /^name 'a-b' is invalid/);
    await fails(api.exec({ id: 8, name: '' }), status.INVALID_ARGUMENT, /^name is empty/);
    await fails(api.exec({ id: 8, name: 'a'.repeat(256) }), status.INVALID_ARGUMENT, /is invalid/);
    await fails(api.ping({ id: -1 }), status.INVALID_ARGUMENT, /out of range/);

    // A node that does not answer: UNAVAILABLE for exec, available=false for ping.
    const child = await api.create({ id: 11 });
    process.kill(child.pid, 'SIGSTOP');
    try {
      await fails(api.exec({ id: 11, name: 'X', value: 1n }), status.UNAVAILABLE, 'Node 11 is unavailable');
      expect(await api.ping({ id: 11 })).toEqual({ id: 11, available: false });
    } finally {
      process.kill(child.pid, 'SIGCONT');
    }
    expect(processState(root.pid)).not.toBe('T');
    expect(await api.ping({ id: 11 })).toEqual({ id: 11, available: true });
  });
});
