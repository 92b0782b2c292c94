/**
 * A node's log when the disk misbehaves, on real processes with `--data-dir` (the log is changed
 * under a running node, which is then killed: its restart reads the log):
 * - damage before the log's tail (one length byte of the second-to-last record changed) makes the
 *   node refuse to start: it ends FAILED with the reason, and the file is left as it was;
 * - a genuinely torn last record is cut, everything before it is served, and the cut bytes are
 *   kept in `<id>.wal.torn`;
 * - a full disk (a small tmpfs) makes the node read-only: stores fail RESOURCE_EXHAUSTED with
 *   `disk full`, loads of the node and below it go on, the process is not restarted, and stores
 *   work again once there is room; the log is left whole (no half record from the failed append).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServiceError, status } from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { putRecord, scanLog, WAL_MAGIC } from '../../computing/wal-format.js';
import { NodeState } from '../../proto/gen/arbor/v1/arbor.js';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { EventLog } from '../helpers/watch.js';

function dataDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'arbor-logfaults-')), 'data');
  onTestFinished(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  return dir;
}

const reasonOf = (error: unknown): string => String((error as ServiceError).metadata?.get('arbor-reason')[0] ?? '');

/** The failure of `call`, which must fail. */
async function failure(call: Promise<unknown>): Promise<ServiceError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error as ServiceError,
  );
  if (outcome === undefined) throw new Error('expected the call to fail');
  return outcome;
}

/**
 * A tree 8 ← 4 ← 2 (and 12) with five names stored in leaf 2 (records of 19 bytes each): the
 * gateway, a Watch of it, node 2's log and the log's bytes.
 */
async function treeOnDisk(): Promise<{ api: ReturnType<typeof rpc>; events: EventLog; pid: number; log: string; bytes: Buffer }> {
  const dir = dataDir();
  const gw = await startGateway(['--data-dir', dir]);
  const api = rpc(gw.client());
  const events = await EventLog.open(gw.client());
  let pid = 0;
  for (const id of [8, 4, 12, 2]) pid = (await api.create({ id })).pid;
  for (let i = 0; i < 5; i++) await api.exec({ id: 2, name: `k${i}`, value: BigInt(100 + i) });
  await api.exec({ id: 4, name: 'above', value: 4n });
  const log = join(dir, 'nodes', '2.wal');
  const bytes = readFileSync(log);
  expect(bytes).toEqual(Buffer.concat([WAL_MAGIC, ...Array.from({ length: 5 }, (_, i) => putRecord(`k${i}`, BigInt(100 + i)))]));
  return { api, events, pid, log, bytes };
}

describe('a node log that is damaged, torn, or on a full disk', () => {
  it('one length byte of the second-to-last record changed: the node does not start again and is FAILED with the reason; the log is untouched', { timeout: 90_000 }, async () => {
    const { api, events, pid, log, bytes } = await treeOnDisk();
    const damaged = Buffer.from(bytes);
    const secondToLast = WAL_MAGIC.length + 3 * 19;
    damaged[secondToLast] = 40; // 19 → 40: it would seem to run past the end of the file
    writeFileSync(log, damaged);
    // Its process dies; the new one reads the log, refuses it, and so does every retry.
    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    const failed = await events.next('failed', 2, killedAt, 60_000);
    const why = `log ${log} is corrupt: a record of 48 bytes with 38 left in the file at byte ${secondToLast}, not what an interrupted write leaves; refusing to start rather than lose what follows it`;
    expect(failed.reason).toContain(why);
    const two = (await api.topology()).nodes.find((n) => n.id === 2);
    expect(two).toMatchObject({ state: NodeState.NODE_STATE_FAILED, available: false });
    expect(two?.reason).toContain(why);
    const load = await failure(api.exec({ id: 2, name: 'k0' }));
    expect(load.code).toBe(status.UNAVAILABLE);
    expect(reasonOf(load)).toContain('is corrupt');
    // The others serve; the file is left as it was, for someone to look at, and nothing was cut.
    expect(await api.exec({ id: 4, name: 'above' })).toMatchObject({ found: true, value: 4n });
    expect(readFileSync(log)).toEqual(damaged);
    expect(existsSync(`${log}.torn`)).toBe(false);
  });

  it('a gateway started again on its data dir with a node whose log is damaged: it listens once that node is FAILED, not after waiting for the nodes below it', { timeout: 90_000 }, async () => {
    const dir = dataDir();
    const first = await startGateway(['--data-dir', dir]);
    const api = rpc(first.client());
    for (const id of [8, 4, 12, 2]) await api.create({ id });
    await api.exec({ id: 2, name: 'below', value: 2n });
    expect(await first.stop()).toBe(0);
    // Node 4 (above 2) cannot come back: its log is not a log.
    writeFileSync(join(dir, 'nodes', '4.wal'), 'hello, world\n');
    const began = performance.now();
    const again = await startGateway(['--data-dir', dir]);
    const took = performance.now() - began;
    // 2 cannot be linked below a FAILED node: waiting for it would take 2 x the start timeout (20 s).
    expect(took, `listening took ${Math.round(took)} ms`).toBeLessThan(10_000);
    const nodes = new Map((await rpc(again.client()).topology()).nodes.map((n) => [n.id, n]));
    expect(nodes.get(4)).toMatchObject({ state: NodeState.NODE_STATE_FAILED, available: false });
    expect(nodes.get(2)).toMatchObject({ state: NodeState.NODE_STATE_RUNNING, available: false });
    expect(nodes.get(12)).toMatchObject({ state: NodeState.NODE_STATE_RUNNING, available: true });
  });

  it('a torn last record: the node starts again with everything before it, and <id>.wal.torn holds the cut bytes', { timeout: 90_000 }, async () => {
    const { api, events, pid, log, bytes } = await treeOnDisk();
    truncateSync(log, bytes.length - 5); // the last write was only partly done
    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    const restarted = await events.next('restarted', 2, killedAt, 30_000);
    await events.next('available', 2, restarted.at, 30_000);
    const two = (await api.topology()).nodes.find((n) => n.id === 2);
    expect(two).toMatchObject({ state: NodeState.NODE_STATE_RUNNING, available: true, keys: 4, restarts: 1 });
    for (let i = 0; i < 4; i++) expect(await api.exec({ id: 2, name: `k${i}` })).toMatchObject({ found: true, value: BigInt(100 + i) });
    expect(await api.exec({ id: 2, name: 'k4' })).toMatchObject({ found: false });
    expect(readFileSync(`${log}.torn`)).toEqual(bytes.subarray(bytes.length - 19, bytes.length - 5));
    expect(readFileSync(log)).toEqual(bytes.subarray(0, bytes.length - 19));
    // The log goes on from its last whole record.
    await api.exec({ id: 2, name: 'k4', value: 7n });
    expect(scanLog(readFileSync(log))).toEqual({ entries: new Map([...Array.from({ length: 4 }, (_, i) => [`k${i}`, BigInt(100 + i)] as const), ['k4', 7n]]), validBytes: bytes.length });
  });

  it('a full disk: stores fail RESOURCE_EXHAUSTED (disk full), loads of the node and below go on, no restart, and stores work again once there is room', { timeout: 60_000 }, async (ctx) => {
    const root = mkdtempSync(join(tmpdir(), 'arbor-diskfull-'));
    const mnt = join(root, 'mnt');
    mkdirSync(mnt);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { encoding: 'utf8' });
    onTestFinished(() => {
      // Lazy: detached at once even while a process still holds a file open there.
      if (mounted.status === 0) spawnSync('umount', ['-l', mnt]);
      rmSync(root, { recursive: true, force: true });
    });
    if (mounted.status !== 0) ctx.skip(`cannot mount a tmpfs to fill (needs root or CAP_SYS_ADMIN): ${(mounted.stderr || mounted.error?.message || '').trim()}`);

    const dir = join(mnt, 'data');
    const gw = await startGateway(['--data-dir', dir]);
    const api = rpc(gw.client());
    for (const id of [8, 4, 12, 2]) await api.create({ id });
    await api.exec({ id: 4, name: 'before', value: 1n });
    await api.exec({ id: 2, name: 'below', value: 2n });
    const pid = (await api.topology()).nodes.find((n) => n.id === 4)?.pid;

    // The tree is built (its file written); now the disk fills up.
    const filler = join(mnt, 'filler');
    const fd = openSync(filler, 'w');
    try {
      const chunk = Buffer.alloc(4096, 1);
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
    // The log's last page may still have room: stores succeed until it is full.
    const acked: number[] = [];
    let refused: ServiceError | undefined;
    for (let i = 0; i < 2000 && refused === undefined; i++) {
      refused = await api.exec({ id: 4, name: `f${i}`, value: BigInt(i) }).then(
        () => void acked.push(i),
        (error: unknown) => error as ServiceError,
      );
    }
    expect(refused, 'a store failed once the disk was full').toBeDefined();
    expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused?.details).toBe('Node 4 is read-only');
    expect(reasonOf(refused)).toBe('disk full');
    // Read-only, not down: stores keep failing fast, loads and forwarding go on.
    const again = await failure(api.exec({ id: 4, name: 'again', value: 3n }));
    expect([again.code, reasonOf(again)]).toEqual([status.RESOURCE_EXHAUSTED, 'disk full']);
    const refusedName = `f${acked.length}`;
    expect(await api.exec({ id: 4, name: refusedName })).toMatchObject({ found: false });
    expect(await api.exec({ id: 4, name: 'before' })).toMatchObject({ found: true, value: 1n });
    for (const i of acked) expect(await api.exec({ id: 4, name: `f${i}` })).toMatchObject({ found: true, value: BigInt(i) });
    expect(await api.exec({ id: 2, name: 'below' })).toMatchObject({ found: true, value: 2n });
    const four = (await api.topology()).nodes.find((n) => n.id === 4);
    expect(four).toMatchObject({ pid, restarts: 0, state: NodeState.NODE_STATE_RUNNING, available: true, readOnly: 'disk full' });

    // Room again: the next store is the probe, and it succeeds.
    rmSync(filler);
    expect(await api.exec({ id: 4, name: 'after', value: 4n })).toMatchObject({ found: true, value: 4n });
    expect(await api.exec({ id: 4, name: 'after' })).toMatchObject({ found: true, value: 4n });
    expect((await api.topology()).nodes.find((n) => n.id === 4)).toMatchObject({ pid, restarts: 0, readOnly: '' });

    // The failed appends left no half record: the log reads back whole, with exactly the acknowledged stores.
    expect(await gw.stop()).toBe(0);
    const scanned = scanLog(readFileSync(join(dir, 'nodes', '4.wal')));
    expect(scanned.problem).toBeUndefined();
    expect(scanned.entries).toEqual(new Map([['before', 1n], ...acked.map((i) => [`f${i}`, BigInt(i)] as const), ['after', 4n]]));
  });
});
