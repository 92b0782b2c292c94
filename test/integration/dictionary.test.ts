/**
 * The dictionary as a key-value store's users expect it: Keys pages through a node's names in
 * byte order, Delete removes one (logged like a store: it stays deleted through a kill -9, a
 * gateway restart on --data-dir and a compaction), WatchKeys follows stores and deletes in each
 * node's order and ends a subscriber that falls behind, and the console's keys/del/watch print
 * the lines. Real gateway and node processes throughout.
 */
import { readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, type ClientReadableStream, type ServiceError, status } from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  ArborServiceClient,
  type DeleteRequest,
  type DeleteResponse,
  type KeyEvent,
  KeyEventKind,
  type KeysRequest,
  type KeysResponse,
} from '../../proto/gen/arbor/v1/arbor.js';
import { CLI_MAIN, startGateway } from '../helpers/gateway.js';
import { runScript } from '../helpers/cli.js';
import { rpc } from '../helpers/rpc.js';
import { type Command, store, TestSession } from '../helpers/session.js';

function dict(client: ArborServiceClient) {
  return {
    keys: (req: Partial<KeysRequest> & { id: number }) =>
      new Promise<KeysResponse>((resolve, reject) =>
        client.keys({ prefix: '', limit: 0, startAfter: '', ...req }, (e: ServiceError | null, r: KeysResponse) => (e ? reject(e) : resolve(r))),
      ),
    del: (req: DeleteRequest) => new Promise<DeleteResponse>((resolve, reject) => client.delete(req, (e: ServiceError | null, r: DeleteResponse) => (e ? reject(e) : resolve(r)))),
  };
}

/** Every name of node `id`, page by page (`limit` each); the pages' sizes and revisions too. */
async function listAll(client: ArborServiceClient, id: number, limit: number, prefix = '') {
  const names: string[] = [];
  const values: bigint[] = [];
  const pages: { size: number; revision: bigint }[] = [];
  let startAfter = '';
  for (;;) {
    const page = await dict(client).keys({ id, limit, prefix, startAfter });
    pages.push({ size: page.entries.length, revision: page.revision });
    for (const e of page.entries) {
      names.push(e.name);
      values.push(e.value);
    }
    if (!page.more) return { names, values, pages };
    startAfter = page.entries.at(-1)!.name;
  }
}

/** Runs `commands` on a Session in batches of 1000 and expects every one answered without error. */
async function pipeline(client: ArborServiceClient, commands: Command[]): Promise<void> {
  const session = new TestSession(client);
  for (let at = 0; at < commands.length; at += 1000) {
    const results = await session.all(session.sendBatch(commands.slice(at, at + 1000)), 60_000);
    for (const r of results) expect(r.$case).not.toBe('error');
  }
  await session.end();
}

const code = (promise: Promise<unknown>): Promise<number> => promise.then(() => -1, (e: ServiceError) => e.code);

function dataDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'arbor-dict-')), 'data');
  onTestFinished(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  return dir;
}

describe('Keys and Delete', () => {
  it('Keys pages in byte order with limit, start_after and prefix; Delete says found; bad input and unknown nodes are refused', { timeout: 60_000 }, async () => {
    const gw = await startGateway();
    const client = gw.client();
    const api = rpc(client);
    const { keys, del } = dict(client);
    await api.create({ id: 1 });
    const names = ['a', 'B', 'b', 'ab', 'abc', 'Z', 'z0', '10', '9', ...Array.from({ length: 20 }, (_, i) => `p${String(i).padStart(2, '0')}`)];
    await pipeline(client, names.map((name, i) => store(1, name, BigInt(i) - 5n)));
    const sorted = [...names].sort();
    expect(sorted.slice(0, 4)).toEqual(['10', '9', 'B', 'Z']); // digits, then upper case, then lower case: byte order

    const all = await keys({ id: 1 });
    expect(all.entries.map((e) => e.name)).toEqual(sorted);
    expect(all.entries.find((e) => e.name === 'abc')?.value).toBe(BigInt(names.indexOf('abc')) - 5n);
    expect(all.more).toBe(false);

    const first = await keys({ id: 1, limit: 5 });
    expect(first.entries.map((e) => e.name)).toEqual(sorted.slice(0, 5));
    expect(first.more).toBe(true);
    const paged = await listAll(client, 1, 5);
    expect(paged.names).toEqual(sorted);
    expect(paged.pages.map((p) => p.size)).toEqual([5, 5, 5, 5, 5, 4]);
    expect(new Set(paged.pages.map((p) => p.revision)).size).toBe(1);

    expect((await keys({ id: 1, prefix: 'p1' })).entries.map((e) => e.name)).toEqual(sorted.filter((n) => n.startsWith('p1')));
    expect((await keys({ id: 1, prefix: 'p', startAfter: 'p15' })).entries.map((e) => e.name)).toEqual(['p16', 'p17', 'p18', 'p19']);
    expect((await keys({ id: 1, prefix: 'ab', startAfter: 'a' })).entries.map((e) => e.name)).toEqual(['ab', 'abc']);
    expect(await keys({ id: 1, startAfter: 'zz' })).toMatchObject({ entries: [], more: false });

    expect(await code(keys({ id: 1, limit: 10_001 }))).toBe(status.INVALID_ARGUMENT);
    expect(await code(keys({ id: 1, prefix: 'a-b' }))).toBe(status.INVALID_ARGUMENT);
    expect(await code(keys({ id: 1, startAfter: 'x'.repeat(256) }))).toBe(status.INVALID_ARGUMENT);
    expect(await code(keys({ id: 2 }))).toBe(status.NOT_FOUND);
    expect(await code(del({ id: 2, name: 'a' }))).toBe(status.NOT_FOUND);
    expect(await code(del({ id: 1, name: 'a b' }))).toBe(status.INVALID_ARGUMENT);
    expect(await code(del({ id: 1, name: '' }))).toBe(status.INVALID_ARGUMENT);

    const before = (await api.topology()).nodes[0]!.keys;
    expect(await del({ id: 1, name: 'abc' })).toEqual({ id: 1, name: 'abc', found: true });
    expect(await del({ id: 1, name: 'abc' })).toEqual({ id: 1, name: 'abc', found: false });
    expect(await api.exec({ id: 1, name: 'abc' })).toMatchObject({ found: false });
    expect((await keys({ id: 1, prefix: 'ab' })).entries.map((e) => e.name)).toEqual(['ab']);
    expect((await api.topology()).nodes[0]!.keys).toBe(before - 1);
    // A page's revision changes with the dictionary.
    expect((await keys({ id: 1 })).revision).not.toBe(all.revision);

    // The same commands in a Session.
    const session = new TestSession(client);
    const [k, d, missing] = await session.all(
      session.sendBatch([
        { $case: 'keys', value: { id: 1, prefix: 'p0', limit: 3, startAfter: '' } },
        { $case: 'delete', value: { id: 1, name: 'p00' } },
        { $case: 'keys', value: { id: 7, prefix: '', limit: 0, startAfter: '' } },
      ]),
    );
    expect(k).toMatchObject({ $case: 'keys', value: { more: true } });
    expect(k?.$case === 'keys' && k.value.entries.map((e) => e.name)).toEqual(['p00', 'p01', 'p02']);
    expect(d).toEqual({ $case: 'delete', value: { id: 1, name: 'p00', found: true } });
    expect(missing).toMatchObject({ $case: 'error', value: { code: status.NOT_FOUND } });
    await session.end();
  });

  it('a node with 20,000 names lists completely in pages of 10,000, each more than one 64 KiB node record', { timeout: 120_000 }, async () => {
    const gw = await startGateway();
    const client = gw.client();
    await rpc(client).create({ id: 3 });
    // 70 bytes a name: one node record holds under 900 of them, so a page takes a dozen.
    const name = (i: number): string => `${'n'.repeat(65)}${String(i).padStart(5, '0')}`;
    await pipeline(client, Array.from({ length: 20_000 }, (_, i) => store(3, name(19_999 - i), BigInt(i))));
    const listed = await listAll(client, 3, 10_000);
    expect(listed.pages.map((p) => p.size)).toEqual([10_000, 10_000]);
    expect(listed.names).toEqual(Array.from({ length: 20_000 }, (_, i) => name(i)));
    expect(listed.values[0]).toBe(19_999n);
    expect(listed.pages[0]!.revision).toBe(listed.pages[1]!.revision);

    // Pages of megabytes in one Session: each goes in a message of its own, under the client's 4 MiB.
    await rpc(client).create({ id: 4 });
    const big = (i: number): string => `${'b'.repeat(245)}${String(i).padStart(5, '0')}`;
    await pipeline(client, Array.from({ length: 8000 }, (_, i) => store(4, big(i), BigInt(i))));
    const session = new TestSession(client);
    const pages = await session.all(session.sendBatch([0, 1, 2].map(() => ({ $case: 'keys', value: { id: 4, prefix: '', limit: 10_000, startAfter: '' } }))));
    for (const page of pages) expect(page.$case === 'keys' && page.value.entries.length).toBe(8000);
    await session.end();
  });
});

describe('a delete is durable', () => {
  it('stays deleted after kill -9 of the node, a gateway restart on --data-dir, and a compaction', { timeout: 120_000 }, async () => {
    const dir = dataDir();
    const gw = await startGateway(['--data-dir', dir]);
    let client = gw.client();
    const api = rpc(client);
    await api.create({ id: 1 });
    for (const [n, v] of [['a', 1n], ['b', 2n], ['c', 3n]] as const) await api.exec({ id: 1, name: n, value: v });
    expect((await dict(client).del({ id: 1, name: 'b' })).found).toBe(true);

    const killNode = async (c: ArborServiceClient, restartsBefore: number): Promise<void> => {
      const node = (await rpc(c).topology()).nodes[0]!;
      process.kill(node.pid, 'SIGKILL');
      await expect
        .poll(async () => (await rpc(c).topology()).nodes[0]!, { timeout: 20_000, interval: 50 })
        .toMatchObject({ restarts: restartsBefore + 1, available: true });
    };
    const names = async (c: ArborServiceClient): Promise<string[]> => (await dict(c).keys({ id: 1 })).entries.map((e) => e.name).filter((n) => n.length < 10);

    await killNode(client, 0);
    expect(await names(client)).toEqual(['a', 'c']);
    expect(await api.exec({ id: 1, name: 'b' })).toMatchObject({ found: false });

    expect(await gw.stop()).toBe(0);
    const again = await startGateway(['--data-dir', dir]);
    client = again.client();
    expect(await names(client)).toEqual(['a', 'c']);

    // Compaction: over 1 MiB of log that is mostly overwritten values (COMPACT_MIN_BYTES, COMPACT_RATIO).
    const long = 'w'.repeat(200);
    const log = join(dir, 'nodes', '1.wal');
    await pipeline(client, Array.from({ length: 6000 }, (_, i) => store(1, long, BigInt(i))));
    // 6000 records of 217 bytes were written: a file under 1 MiB was compacted on the way.
    expect(statSync(log).size).toBeLessThan(1024 * 1024);
    expect(readFileSync(log).includes(Buffer.from('ARBORWL1'))).toBe(true);
    expect((await dict(client).del({ id: 1, name: 'a' })).found).toBe(true);
    await killNode(client, 0);
    expect(await names(client)).toEqual(['c']);
    expect((await rpc(client).exec({ id: 1, name: long })).value).toBe(5999n);
  });
});

describe('WatchKeys', () => {
  function watchKeys(client: ArborServiceClient, id: number | undefined, prefix: string) {
    const events: string[] = [];
    const stream: ClientReadableStream<KeyEvent> = client.watchKeys({ id, prefix });
    let error: number | undefined;
    stream.on('data', (e: KeyEvent) => events.push(e.kind === KeyEventKind.KEY_EVENT_KIND_DELETE ? `${e.id} ${e.name} deleted (was ${e.value})` : `${e.id} ${e.name}=${e.value}`));
    stream.on('error', (e: ServiceError) => (error = e.code));
    const inPlace = new Promise<void>((resolve) => stream.once('metadata', () => resolve()));
    onTestFinished(() => stream.cancel());
    return { events, stream, inPlace, error: () => error };
  }

  it('sees every acknowledged store and delete, filtered by node and prefix, in the order each node applied them', { timeout: 60_000 }, async () => {
    const gw = await startGateway();
    const client = gw.client();
    const api = rpc(client);
    // 2 at the root, 1 and 3 below: node 2's own replies share request frames with its children's.
    for (const id of [2, 1, 3]) await api.create({ id });
    const all = watchKeys(client, undefined, '');
    const one = watchKeys(client, 1, 'a');
    await Promise.all([all.inPlace, one.inPlace]);
    const session = new TestSession(client);
    await session.all(
      session.sendBatch([
        store(1, 'a', 1n),
        store(1, 'b', 2n),
        store(2, 'a', 3n),
        { $case: 'delete', value: { id: 1, name: 'a' } },
        { $case: 'delete', value: { id: 1, name: 'zz' } },
        store(1, 'ab', 4n),
      ]),
    );
    await expect.poll(() => one.events, { timeout: 5000, interval: 20 }).toEqual(['1 a=1', '1 a deleted (was 1)', '1 ab=4']);
    await expect.poll(() => all.events.length, { timeout: 5000, interval: 20 }).toBe(5);
    expect(all.events.filter((e) => e.startsWith('1 '))).toEqual(['1 a=1', '1 b=2', '1 a deleted (was 1)', '1 ab=4']);
    expect(all.events).toContain('2 a=3');

    // Many frames, each mixing the root's own stores with its children's: per node, in order.
    const rounds = 200;
    for (let r = 0; r < rounds; r++) session.sendBatch([store(2, 'x', BigInt(r)), store(1, 'x', BigInt(r)), store(3, 'x', BigInt(r)), store(2, 'y', BigInt(r))]);
    const expected = (id: number, name: string): string[] => Array.from({ length: rounds }, (_, r) => `${id} ${name}=${r}`);
    await expect.poll(() => all.events.length, { timeout: 20_000, interval: 50 }).toBe(5 + 4 * rounds);
    for (const [id, name] of [[2, 'x'], [1, 'x'], [3, 'x'], [2, 'y']] as const) {
      expect(all.events.filter((e) => e.startsWith(`${id} ${name}=`))).toEqual(expected(id, name));
    }
    expect(all.error()).toBeUndefined();
    await session.end();

    const bad = client.watchKeys({ prefix: 'a b' });
    expect(await new Promise<number>((resolve) => bad.on('error', (e: ServiceError) => resolve(e.code)))).toBe(status.INVALID_ARGUMENT);
  });

  it('ends a subscriber that falls --watch-buffer events behind with RESOURCE_EXHAUSTED; the others get everything', { timeout: 60_000 }, async () => {
    // Room for 6,000 of the 10,000 events: far more than a subscriber that reads falls behind on
    // a loaded machine (Session batches are 1,000), less than the paused one does.
    const gw = await startGateway(['--watch-buffer', '6000']);
    const client = gw.client();
    await rpc(client).create({ id: 1 });
    const fast = watchKeys(client, undefined, '');
    // A tiny HTTP/2 window, so a paused client really stops the server's writes.
    const slowClient = new ArborServiceClient(gw.address, credentials.createInsecure(), { 'grpc-node.flow_control_window': 1024 });
    onTestFinished(() => slowClient.close());
    const slow = watchKeys(slowClient, 1, '');
    await Promise.all([fast.inPlace, slow.inPlace]);
    slow.stream.pause();
    const count = 10_000;
    await pipeline(client, Array.from({ length: count }, (_, i) => store(1, `k${i}`, BigInt(i))));
    await expect.poll(() => fast.events.length, { timeout: 30_000, interval: 50 }).toBe(count);
    slow.stream.resume();
    await expect.poll(() => slow.error(), { timeout: 20_000, interval: 50 }).toBe(status.RESOURCE_EXHAUSTED);
    expect(slow.events.length).toBeLessThan(count);
    expect(fast.error()).toBeUndefined();
  });
});

describe('the console: keys, del, watch', () => {
  it('prints the lines of the issue, and --json one object per line', { timeout: 60_000 }, async () => {
    const gw = await startGateway();
    const target = ['--target', gw.address, '--ordered'];
    const setup = await runScript(CLI_MAIN, target, 'create 5\nexec 5 b 2\nexec 5 a -1\nexec 5 c 3\n');
    expect(setup.code).toBe(0);

    const listed = await runScript(CLI_MAIN, target, 'keys 5\nkeys 5 b\ndel 5 a\ndel 5 a\nkeys 5 q\nkeys 9\n');
    expect(listed.lines).toEqual([
      "Ok: 5 'a' -1",
      "Ok: 5 'b' 2",
      "Ok: 5 'c' 3",
      'Ok: 5 3 names',
      "Ok: 5 'b' 2",
      'Ok: 5 1 names',
      "Ok: 5 'a' deleted",
      "Ok: 5 'a' not found",
      'Ok: 5 0 names',
      "Error: Node with id 9 doesn't exist",
    ]);
    expect(listed.code).toBe(1);

    // Piped: the watch is in place before the lines after it are sent, and lasts until their events are in.
    const watched = await runScript(CLI_MAIN, target, 'watch 5\nexec 5 z 9\ndel 5 z\nexec 5 y -4\nexec 6 y 1\n');
    expect(watched.lines.filter((l) => l.startsWith('Watch: '))).toEqual(["Watch: 5 'z' = 9", "Watch: 5 'z' deleted", "Watch: 5 'y' = -4"]);
    expect(watched.lines.filter((l) => !l.startsWith('Watch: '))).toEqual(['Ok: 5', "Ok: 5 'z' deleted", 'Ok: 5', "Error: Node with id 6 doesn't exist"]);

    const json = await runScript(CLI_MAIN, [...target, '--json'], 'watch * y\nkeys 5\ndel 5 y\n');
    const objects = json.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objects.filter((o) => o['command'] === 'keys')).toEqual([
      { line: 2, command: 'keys', id: 5, prefix: '', name: 'b', value: '2' },
      { line: 2, command: 'keys', id: 5, prefix: '', name: 'c', value: '3' },
      { line: 2, command: 'keys', id: 5, prefix: '', name: 'y', value: '-4' },
      { line: 2, command: 'keys', id: 5, prefix: '', ok: true, names: 3 },
    ]);
    expect(objects.filter((o) => o['command'] !== 'keys')).toEqual(
      expect.arrayContaining([
        { line: 3, command: 'delete', id: 5, name: 'y', ok: true, found: true },
        { line: 1, command: 'watch', id: 5, name: 'y', kind: 'delete' },
      ]),
    );
    expect(json.code).toBe(0);
  });
});

describe('arbor dump and restore', () => {
  it('dump, restore into a fresh gateway, dump again: byte-identical; restore creates only the missing nodes', { timeout: 120_000 }, async () => {
    const first = await startGateway();
    const client = first.client();
    const ids = [40, 20, 60, 10, 30, 7];
    for (const id of ids) await rpc(client).create({ id });
    const commands: Command[] = [];
    for (const id of ids.slice(0, -1)) for (let i = 0; i < 300; i++) commands.push(store(id, `k${(i * 7919) % 300}n${id}`, BigInt(i * id) - 1000n));
    commands.push(store(10, 'max', 2n ** 63n - 1n), store(10, 'min', -(2n ** 63n)));
    await pipeline(client, commands);

    const dump1 = await runScript(CLI_MAIN, ['dump', '--target', first.address], '');
    expect(dump1.code).toBe(0);
    expect(dump1.stderr).toContain('arbor: dumped 1502 names of 6 nodes');
    expect(dump1.lines).toHaveLength(1503);
    expect(dump1.lines[0]).toBe('{"id":7}');
    expect(dump1.lines).toContain('{"id":10,"name":"max","value":"9223372036854775807"}');
    expect(dump1.lines).toContain('{"id":10,"name":"min","value":"-9223372036854775808"}');
    const text = `${dump1.lines.join('\n')}\n`;

    const second = await startGateway();
    await rpc(second.client()).create({ id: 20 });
    const restored = await runScript(CLI_MAIN, ['restore', '--target', second.address], text);
    expect(restored.stderr).toBe('');
    expect(restored.lines).toEqual(['Ok: created 5 nodes, stored 1502 values in 5 nodes']);
    expect(restored.code).toBe(0);
    const dump2 = await runScript(CLI_MAIN, ['dump', '--target', second.address], '');
    expect(`${dump2.lines.join('\n')}\n`).toBe(text);

    const bad = await runScript(CLI_MAIN, ['restore', '--target', second.address], '{"id":1,"name":"a","value":"1"}\n{"id":1,"name":"a b","value":"1"}\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('arbor: restore: line 2: name');
    expect((await rpc(second.client()).topology()).nodes.some((n) => n.id === 1)).toBe(false);
  });
});
