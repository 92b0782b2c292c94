/**
 * Two copies of each node (`--replicas 2`, control/chains.ts), on one host, with real processes:
 * - each node has a follower process beside it whose log holds what the leader's holds;
 * - `kill -9` of a leader whose restart in place is blocked (its log damaged before the tail)
 *   under six writers and three readers: the follower's copy takes over, the node serves again,
 *   and the history checker finds no acknowledged store lost and no stale or invented load;
 * - `kill -9` of a leader whose log is whole: it restarts in place (no takeover), and the same
 *   follower is in sync again after a snapshot;
 * - the follower killed: the leader goes on (the control says one copy), a new follower catches
 *   up and holds everything again.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { scanLog, WAL_MAGIC } from '../../computing/wal-format.js';
import { FollowerState, NodeState } from '../../proto/gen/arbor/v1/arbor.js';
import { startGateway } from '../helpers/gateway.js';
import { checkRegisters, History, registerWorkload } from '../helpers/history.js';
import { childrenOf } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';
import { EventLog } from '../helpers/watch.js';

function dataDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'arbor-repl-')), 'data');
  onTestFinished(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  return dir;
}

/** The dictionary a log holds. */
const entriesOf = (path: string): Map<string, bigint> => scanLog(readFileSync(path)).entries;

/** The gateway's child process that holds the log `log` open (a follower's copy), if any. */
function holderOf(gatewayPid: number, log: string): number | undefined {
  for (const pid of childrenOf(gatewayPid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === log) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

describe('--replicas 2 on one host', () => {
  it('each node has a follower whose log holds what the leader acknowledged', { timeout: 60_000 }, async () => {
    const dir = dataDir();
    const gw = await startGateway(['--data-dir', dir, '--replicas', '2']);
    const api = rpc(gw.client());
    for (const id of [8, 4, 12]) await api.create({ id });
    for (let i = 0; i < 20; i++) await api.exec({ id: 4, name: `k${i}`, value: BigInt(i) });
    await api.exec({ id: 12, name: 'gone', value: 1n });
    expect(await api.exec({ id: 12, name: 'other', value: 2n })).toMatchObject({ found: true });
    const leader = join(dir, 'nodes', '4.wal');
    const copy = join(dir, 'nodes', '4.copy.wal');
    // Acknowledged means on both copies: the follower's log has every store already.
    expect(entriesOf(copy)).toEqual(entriesOf(leader));
    expect(entriesOf(copy).size).toBe(20);
    expect(entriesOf(join(dir, 'nodes', '12.copy.wal'))).toEqual(new Map([['gone', 1n], ['other', 2n]]));
    // Topology shows where each copy is and which leads: the node's own pid leads, its follower is in sync.
    const follower = holderOf(gw.pid, copy);
    expect(follower).toBeDefined();
    await expect
      .poll(async () => (await api.topology()).nodes.find((n) => n.id === 4)?.replica, { timeout: 5000 })
      .toEqual({ epoch: 1, followerState: FollowerState.FOLLOWER_STATE_IN_SYNC, followerPid: follower, followerHost: 'local', solo: false });
    const leaderPid = (await api.topology()).nodes.find((n) => n.id === 4)?.pid;
    expect(holderOf(gw.pid, leader)).toBe(leaderPid);
  });

  it('kill -9 of a leader whose log is damaged: its follower takes over under writers, nothing acknowledged is lost', { timeout: 120_000 }, async () => {
    const dir = dataDir();
    const gw = await startGateway(['--data-dir', dir, '--replicas', '2', '--request-timeout-ms', '5000']);
    const api = rpc(gw.client());
    const events = await EventLog.open(gw.client());
    const ids = [8, 4, 12, 2, 6];
    for (const id of ids) await api.create({ id });
    const WRITERS = 6;
    const keys = Array.from({ length: WRITERS * 2 }, (_, k) => ({ key: `w${k >> 1}k${k & 1}`, id: k % 3 === 0 ? 4 : ids[k % ids.length]! }));
    const history = new History();
    const workload = registerWorkload(history, () => gw.client(), keys, { writers: WRITERS, readers: 3, readerStride: 5 });
    await vi.waitFor(() => expect(history.operations.filter((op) => op.ok).length).toBeGreaterThan(150), { timeout: 30_000, interval: 20 });

    // Node 4's log is damaged before its tail (one name byte of its first record: a checksum
    // that fails with valid records after it), so it cannot restart in place; then it is killed.
    const log = join(dir, 'nodes', '4.wal');
    const fd = openSync(log, 'r+');
    writeSync(fd, Buffer.from('#'), 0, 1, WAL_MAGIC.length + 17);
    closeSync(fd);
    const four = (await api.topology()).nodes.find((n) => n.id === 4)!;
    const killedAt = performance.now();
    process.kill(four.pid, 'SIGKILL');
    const restarted = await events.next('restarted', 4, killedAt, 30_000).catch((error: unknown) => {
      throw new Error(`no takeover: ${String(error)}\n${gw.stderr().slice(-4000)}`);
    });
    await events.next('available', 4, restarted.at, 30_000);
    const tookMs = performance.now() - killedAt;
    // Writers go on through the new leader for a while.
    const after = history.operations.length;
    await vi.waitFor(() => expect(history.operations.length).toBeGreaterThan(after + 150), { timeout: 30_000, interval: 20 });
    workload.stop();
    await workload.done;

    // The damaged log was kept aside; the leader runs on what was the follower's log.
    expect(existsSync(`${log}.replaced-2`)).toBe(true);
    const now = (await api.topology()).nodes.find((n) => n.id === 4)!;
    expect(now).toMatchObject({ state: NodeState.NODE_STATE_RUNNING, available: true });
    expect(now.pid).not.toBe(four.pid);
    expect(now.replica?.epoch).toBe(2);

    const call = rpc(gw.client());
    for (const { key, id } of keys) {
      await history.load(key, async () => {
        const res = await call.exec({ id, name: key });
        return res.found ? res.value : null;
      });
    }
    expect(checkRegisters(history.operations)).toEqual([]);
    expect(history.operations.slice(-keys.length).every((op) => op.ok && op.value !== null)).toBe(true);
    expect(history.operations.filter((op) => op.kind === 'store' && op.ok).length).toBeGreaterThan(150);
    // A new follower caught up on the slot the damaged log left: it holds node 4's names again.
    await vi.waitFor(() => expect(entriesOf(log)).toEqual(entriesOf(join(dir, 'nodes', '4.copy.wal'))), { timeout: 10_000, interval: 50 });
    console.log(`takeover: node 4 available again ${tookMs.toFixed(0)} ms after its kill`);

    // A gateway started again on the data dir brings back the same chain: node 4 leads on the
    // log it took over (its chain file says so), with every value acknowledged.
    expect(JSON.parse(readFileSync(join(dir, 'nodes', '4.wal.chain'), 'utf8'))).toEqual({ epoch: 2, leaderSlot: 1 });
    expect(await gw.stop()).toBe(0);
    const again = await startGateway(['--data-dir', dir, '--replicas', '2']);
    const call2 = rpc(again.client());
    for (const { key, id } of keys) {
      await history.load(key, async () => {
        const res = await call2.exec({ id, name: key });
        return res.found ? res.value : null;
      });
    }
    expect(checkRegisters(history.operations)).toEqual([]);
    expect(history.operations.slice(-keys.length).every((op) => op.ok && op.value !== null)).toBe(true);
  });

  it('kill -9 of a leader whose log is whole: it restarts in place from its log, as with one copy, and its follower is in sync again', { timeout: 60_000 }, async () => {
    const dir = dataDir();
    const gw = await startGateway(['--data-dir', dir, '--replicas', '2']);
    const api = rpc(gw.client());
    const events = await EventLog.open(gw.client());
    for (const id of [8, 12]) await api.create({ id });
    for (let i = 0; i < 30; i++) await api.exec({ id: 12, name: `n${i}`, value: BigInt(i) });
    const copy = join(dir, 'nodes', '12.copy.wal');
    const follower = holderOf(gw.pid, copy);
    const before = (await api.topology()).nodes.find((n) => n.id === 12)!;
    const killedAt = performance.now();
    process.kill(before.pid, 'SIGKILL');
    const restarted = await events.next('restarted', 12, killedAt, 30_000);
    await events.next('available', 12, restarted.at, 30_000);
    // Same log, same follower, same epoch: a restart in place is no takeover.
    expect(existsSync(`${join(dir, 'nodes', '12.wal')}.chain`)).toBe(false);
    await expect
      .poll(async () => (await api.topology()).nodes.find((n) => n.id === 12)?.replica, { timeout: 10_000 })
      .toEqual({ epoch: 1, followerState: FollowerState.FOLLOWER_STATE_IN_SYNC, followerPid: follower, followerHost: 'local', solo: false });
    for (let i = 0; i < 30; i++) expect(await api.exec({ id: 12, name: `n${i}` })).toMatchObject({ found: true, value: BigInt(i) });
    await api.exec({ id: 12, name: 'after', value: 7n });
    expect(entriesOf(copy)).toEqual(entriesOf(join(dir, 'nodes', '12.wal')));
  });

  it('the follower killed: stores go on (one copy, said by the control), and a new follower catches up', { timeout: 60_000 }, async () => {
    const dir = dataDir();
    const gw = await startGateway(['--data-dir', dir, '--replicas', '2']);
    const api = rpc(gw.client());
    await api.create({ id: 5 });
    for (let i = 0; i < 50; i++) await api.exec({ id: 5, name: `a${i}`, value: BigInt(i) });
    const copy = join(dir, 'nodes', '5.copy.wal');
    const first = holderOf(gw.pid, copy);
    expect(first).toBeDefined();
    process.kill(first!, 'SIGKILL');
    for (let i = 0; i < 50; i++) await api.exec({ id: 5, name: `b${i}`, value: BigInt(i) });
    await vi.waitFor(
      () => {
        const pid = holderOf(gw.pid, copy);
        expect(pid).toBeDefined();
        expect(pid).not.toBe(first);
      },
      { timeout: 10_000, interval: 50 },
    );
    await vi.waitFor(() => expect(entriesOf(copy).size).toBe(100), { timeout: 10_000, interval: 50 });
    expect(entriesOf(copy)).toEqual(entriesOf(join(dir, 'nodes', '5.wal')));
  });
});
