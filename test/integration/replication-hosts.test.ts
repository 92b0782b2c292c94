/**
 * `--replicas 2` across hosts (issue 29), with real processes in network namespaces
 * (test/helpers/hosts.ts: the gateway in this namespace, each agent host in one of its own, all on
 * one bridge made here). The heartbeat interval is T = 100 ms; 4T + 1 s is the bound the issue
 * sets for nodes to serve again after a host is lost.
 * - A host killed (`kill -9` of its agent and of every process on it) under six writers: every
 *   node is available again within 4T + 1 s (its leader moved to its follower's host, or its
 *   follower lost and the leader going on alone), and nothing acknowledged is lost.
 * - A follower's host cut off under writers: the leaders find their followers late, go on alone
 *   (stores resume within 4T + 1 s), new followers catch up elsewhere; after healing every node
 *   has a follower in sync again and nothing acknowledged is lost.
 * - A leader's host cut off: the control promotes the followers after the agent link's timeout
 *   and the agent's orphan grace; after healing the old leaders are gone, their logs hold nothing
 *   acknowledged after the takeover, and the followers move back to that host.
 * The fourth test of the issue (one host, a leader whose log is corrupt) is in replication.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { RECORD_HEADER_BYTES, scanLog, WAL_MAGIC } from '../../computing/wal-format.js';
import { AGENT_LINK_TIMEOUT_MS } from '../../link/agent-link.js';
import { FollowerState, type NodeInfo } from '../../proto/gen/arbor/v1/arbor.js';
import { checkRegisters, History, type Operation, registerWorkload } from '../helpers/history.js';
import { type Lab, netnsPermitted, startLab } from '../helpers/hosts.js';
import { isAlive } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';

const PERMITTED = netnsPermitted('replication-hosts tests');

/** The heartbeat interval, and the issue's bound for nodes to serve again after a host is lost. */
const T = 100;
const BOUND_MS = 4 * T + 1000;
const WRITERS = 6;
const ORPHAN_GRACE_MS = 500;

type Api = ReturnType<typeof rpc>;

/** One line per node: where its leader and its follower are (for failure messages). */
function shape(nodes: readonly NodeInfo[]): string {
  return nodes
    .map((n) => {
      const r = n.replica;
      const follower = r === undefined ? 'no chain' : `epoch ${r.epoch}, follower ${FollowerState[r.followerState]} on ${r.followerHost || '?'} pid ${r.followerPid}${r.solo ? ', solo' : ''}`;
      return `node ${n.id} on ${n.host} pid ${n.pid} ${n.available ? 'available' : `unavailable (${n.reason})`}, ${follower}`;
    })
    .join('\n');
}

/** Waits until every node of `ids` satisfies `ok` (Topology); fails with the tree's shape and the logs. */
async function waitNodes(lab: Lab, api: Api, ids: readonly number[], what: string, ok: (n: NodeInfo) => boolean, timeoutMs: number): Promise<NodeInfo[]> {
  let last: NodeInfo[] = [];
  try {
    await vi.waitFor(
      async () => {
        last = (await api.topology()).nodes;
        const bad = ids.filter((id) => {
          const n = last.find((x) => x.id === id);
          return n === undefined || !ok(n);
        });
        if (bad.length > 0) throw new Error(`nodes ${bad.join(', ')} not yet`);
      },
      { timeout: timeoutMs, interval: 50 },
    );
  } catch (error) {
    throw new Error(`${what}: not within ${timeoutMs} ms (${String(error)})\n${shape(last)}\n${lab.logs()}`);
  }
  return last;
}

const inSync = (n: NodeInfo): boolean => n.replica?.followerState === FollowerState.FOLLOWER_STATE_IN_SYNC;

/**
 * Keys for `WRITERS` writers (two each: keys 2w and 2w + 1 are writer w's), spread over `ids` in
 * turn; `byWriter`: both keys of a writer on one node (writer w on `ids[w % ids.length]`), so a
 * store held on one node never keeps its writer from the others.
 */
const keysOver = (ids: readonly number[], byWriter = false): { key: string; id: number }[] =>
  Array.from({ length: WRITERS * 2 }, (_, k) => ({ key: `w${k >> 1}k${k & 1}`, id: ids[(byWriter ? k >> 1 : k) % ids.length]! }));

/** The lab's gateway with writers and readers over `keys`, recorded in a history. */
function workload(lab: Lab, keys: { key: string; id: number }[]): { history: History; finish: () => Promise<void>; okStores: (after?: number) => Operation[] } {
  const history = new History();
  const run = registerWorkload(history, () => lab.gateway.client(), keys, { writers: WRITERS, readers: 3, readerStride: 5 });
  return {
    history,
    okStores: (after = 0) => history.operations.filter((op) => op.kind === 'store' && op.ok && op.invokedAt >= after),
    /**
     * Stops the writers, reads every key back once more, and checks the whole history: no
     * acknowledged store lost, no load back in time, every key found.
     */
    finish: async () => {
      run.stop();
      await run.done;
      const call = rpc(lab.gateway.client());
      for (const { key, id } of keys) {
        await history.load(key, async () => {
          const res = await call.exec({ id, name: key });
          return res.found ? res.value : null;
        });
      }
      const problems = checkRegisters(history.operations);
      expect(problems, `history violations:\n${problems.slice(0, 20).join('\n')}`).toEqual([]);
      const finalLoads = history.operations.slice(-keys.length);
      expect(
        finalLoads.filter((op) => !op.ok || op.value === null).map((op) => op.key),
        'keys not read back at the end',
      ).toEqual([]);
    },
  };
}

/** Waits until at least `n` more stores are acknowledged (after `after`). */
async function storesGoOn(lab: Lab, okStores: (after?: number) => Operation[], n: number, after: number, timeoutMs = 15_000): Promise<void> {
  await vi
    .waitFor(() => expect(okStores(after).length).toBeGreaterThanOrEqual(n), { timeout: timeoutMs, interval: 20 })
    .catch((error: unknown) => {
      throw new Error(`fewer than ${n} stores acknowledged: ${String(error)}\n${lab.logs()}`);
    });
}

/** Every (name, value) a log holds, record by record (each decoded by the log's own reader). */
function recordsOf(buf: Buffer): { name: string; value: bigint }[] {
  const out: { name: string; value: bigint }[] = [];
  if (buf.length < WAL_MAGIC.length || !buf.subarray(0, WAL_MAGIC.length).equals(WAL_MAGIC)) return out;
  let at = WAL_MAGIC.length;
  while (at + RECORD_HEADER_BYTES <= buf.length) {
    const end = at + RECORD_HEADER_BYTES + buf.readUInt32LE(at);
    if (end > buf.length) break;
    const one = scanLog(Buffer.concat([WAL_MAGIC, buf.subarray(at, end)]));
    if (one.problem !== undefined) break;
    for (const [name, value] of one.entries) out.push({ name, value });
    at = end;
  }
  return out;
}

/** Three hosts (`local`, agents `a` and `b`), `--replicas 2 --placement spread`, heartbeat T. */
async function threeHosts(): Promise<{ lab: Lab; api: Api }> {
  const lab = await startLab(['--replicas', '2', '--placement', 'spread']);
  await lab.startAgent('a');
  await lab.startAgent('b');
  const api = rpc(lab.gateway.client());
  await api.heartbeat({ intervalMs: T });
  return { lab, api };
}

describe.skipIf(!PERMITTED)('--replicas 2 across hosts (network namespaces)', () => {
  it('kill -9 of a host under six writers: every node serves again within 4T + 1 s, nothing acknowledged is lost', { timeout: 60_000 }, async () => {
    const { lab, api } = await threeHosts();
    const ids = [8, 4, 12, 2, 6, 10];
    for (const id of ids) await api.create({ id });
    // Two copies of each node, on two hosts.
    const before = await waitNodes(lab, api, ids, 'every follower in sync on another host than its leader', (n) => inSync(n) && n.replica?.followerHost !== n.host, 15_000);
    const led = before.filter((n) => n.host === 'a').map((n) => n.id);
    const followed = before.filter((n) => n.replica?.followerHost === 'a').map((n) => n.id);
    expect(led.length, `no leader on host a:\n${shape(before)}`).toBeGreaterThan(0);
    expect(followed.length, `no follower on host a:\n${shape(before)}`).toBeGreaterThan(0);

    const keys = keysOver(ids);
    const { okStores, finish } = workload(lab, keys);
    await storesGoOn(lab, okStores, 150, 0);

    const killedWall = Date.now();
    const killedAt = await lab.killHost('a');
    // Served again: every leader off host a (moved to its follower's host) and available.
    let recoveredAt = 0;
    let last: NodeInfo[] = [];
    await vi
      .waitFor(
        async () => {
          last = (await api.topology()).nodes;
          const now = performance.now();
          expect(last.filter((n) => ids.includes(n.id) && (!n.available || n.host === 'a')).map((n) => n.id)).toEqual([]);
          recoveredAt = now;
        },
        { timeout: 15_000, interval: 20 },
      )
      .catch((error: unknown) => {
        throw new Error(`not every node served again after host a was killed: ${String(error)} (killed at ${killedWall} ms since the epoch)\n${shape(last)}\n${lab.logs(20_000, killedWall)}`);
      });
    const tookMs = recoveredAt - killedAt;
    expect(tookMs, `every node available again ${tookMs.toFixed(0)} ms after the kill (bound 4T + 1 s = ${BOUND_MS} ms; leaders on a: ${led.join(', ')}; followers on a: ${followed.join(', ')}; killed at ${killedWall} ms since the epoch)\n${shape(last)}\n${lab.logs(20_000, killedWall)}`).toBeLessThanOrEqual(BOUND_MS);

    // Writers go on through the new leaders, then the history is checked.
    await storesGoOn(lab, okStores, 150, recoveredAt);
    await finish();
    // Two copies again, on the two hosts left.
    await waitNodes(lab, api, ids, 'every node with a follower in sync on the other host left', (n) => inSync(n) && n.replica?.followerHost !== n.host && n.replica?.followerHost !== 'a', 15_000);
    console.log(`host killed: every node available again ${tookMs.toFixed(0)} ms after the kill (leaders moved: ${led.join(', ')}; followers lost: ${followed.join(', ')})`);
  });

  it('a follower\'s host cut off under writers: stores go on within 4T + 1 s; after healing every follower is in sync again, nothing lost', { timeout: 60_000 }, async () => {
    const { lab, api } = await threeHosts();
    // Leaders on local and b only: host a keeps followers, none of the tree's routing path.
    const ids = [8, 4, 12, 2, 6, 10];
    for (const [i, id] of ids.entries()) await api.create({ id, host: i % 2 === 0 ? 'local' : 'b' });
    const before = await waitNodes(lab, api, ids, 'every follower in sync on another host than its leader', (n) => inSync(n) && n.replica?.followerHost !== n.host, 15_000);
    // The host to cut: the agent host with the most followers of nodes it does not lead, nor any node above them.
    const byId = new Map(before.map((n) => [n.id, n]));
    const pathHosts = (n: NodeInfo): string[] => {
      const out: string[] = [];
      for (let at: NodeInfo | undefined = n; at !== undefined; at = at.parent === undefined ? undefined : byId.get(at.parent)) out.push(at.host);
      return out;
    };
    const affectedBy = (h: string): number[] => before.filter((n) => n.replica?.followerHost === h && !pathHosts(n).includes(h)).map((n) => n.id);
    const cut = ['a', 'b'].reduce((x, y) => (affectedBy(y).length > affectedBy(x).length ? y : x));
    const affected = affectedBy(cut);
    expect(affected.length, `no node has its follower alone on an agent host:\n${shape(before)}`).toBeGreaterThan(0);
    const cutFollowers = before.filter((n) => affected.includes(n.id)).map((n) => n.replica?.followerPid ?? 0);
    // Writers only on nodes whose path avoids the cut host (the others stall behind their leader, not their follower).
    const reachable = ids.filter((id) => !pathHosts(byId.get(id)!).includes(cut));
    // One node per writer, the affected ones first: each has a store in flight when the cut comes.
    const keys = keysOver([...affected, ...reachable.filter((id) => !affected.includes(id))], true);
    const nodeOf = new Map(keys.map(({ key, id }) => [key, id]));
    const { history, okStores, finish } = workload(lab, keys);
    await storesGoOn(lab, okStores, 150, 0);

    const cutWall = Date.now();
    const logFrom = lab.gateway.stderr().length;
    const cutAt = lab.partition(cut);
    // Stores go on: on each affected node a store invoked after the cut is acknowledged (its writer
    // was held at most as long as the store it had in flight at the cut).
    const onAffected = (): Operation[] => history.operations.filter((op) => op.kind === 'store' && affected.includes(nodeOf.get(op.key)!) && op.returnedAt > cutAt);
    await vi
      .waitFor(() => expect(affected.filter((id) => !okStores(cutAt).some((op) => nodeOf.get(op.key) === id))).toEqual([]), { timeout: 15_000, interval: 20 })
      .catch(async (error: unknown) => {
        throw new Error(`stores did not go on after host ${cut} was cut: ${String(error)}\n${shape((await api.topology()).nodes)}\n${lab.logs(20_000, cutWall)}`);
      });
    // Within 4T + 1 s: no store on them waited longer than that past the cut (or past its invocation, when later), and none failed.
    const waited = new Map<number, number>();
    for (const op of onAffected()) {
      const id = nodeOf.get(op.key)!;
      waited.set(id, Math.max(waited.get(id) ?? 0, op.ok ? op.returnedAt - Math.max(op.invokedAt, cutAt) : Infinity));
    }
    const firstAfter = new Map(affected.map((id) => [id, Math.min(...okStores(cutAt).filter((op) => nodeOf.get(op.key) === id).map((op) => op.returnedAt - cutAt))]));
    const figures = affected.map((id) => `node ${id}: held at most ${waited.get(id)?.toFixed(0)} ms, first store invoked after the cut acknowledged ${firstAfter.get(id)?.toFixed(0)} ms after it`).join('; ');
    const timeline = affected
      .map((id) => {
        const ops = onAffected().filter((op) => nodeOf.get(op.key) === id).slice(0, 4);
        return `node ${id} stores (ms from the cut): ${ops.map((op) => `${op.key}=${String(op.value)} ${(op.invokedAt - cutAt).toFixed(0)}..${(op.returnedAt - cutAt).toFixed(0)} ${op.ok ? 'ok' : 'failed'}`).join(', ')}`;
      })
      .join('\n');
    expect(Math.max(...waited.values()), `stores on the nodes whose followers were cut off (host ${cut}): ${figures} (bound 4T + 1 s = ${BOUND_MS} ms; cut at ${cutWall} ms since the epoch)\n${timeline}\n${shape(before)}\n${lab.logs(20_000, cutWall)}`).toBeLessThanOrEqual(BOUND_MS);
    // New followers elsewhere, caught up, while the host is still cut off; and the cut lasts until
    // the control finds the host away (the agent link's timeout), as a partition that is not a blip.
    await waitNodes(lab, api, affected, `a new follower in sync off host ${cut}`, (n) => inSync(n) && n.replica?.followerHost !== cut && n.replica?.followerHost !== n.host, 15_000);
    await expect
      .poll(() => lab.gateway.stderr().slice(logFrom), { timeout: AGENT_LINK_TIMEOUT_MS + 5000, interval: 20, message: `the gateway to find host ${cut} away` })
      .toMatch(new RegExp(`"host":"${cut}"[^\n]*lost the agent of a host`));

    const healedAt = lab.heal(cut);
    // Every node has a follower in sync again (any host), the ones cut off are gone, stores go on.
    await waitNodes(lab, api, ids, 'every node with a follower in sync after healing', (n) => n.available && inSync(n), 15_000);
    await vi
      .waitFor(() => expect(cutFollowers.filter(isAlive)).toEqual([]), { timeout: 10_000, interval: 50 })
      .catch((error: unknown) => {
        throw new Error(`the followers cut off on host ${cut} still run after healing: ${String(error)}\n${lab.logs()}`);
      });
    await storesGoOn(lab, okStores, 100, healedAt);
    await finish();
    console.log(`follower's host ${cut} cut off: ${figures}`);
  });

  it('a leader\'s host cut off: its followers take over; after healing the old leaders acknowledged nothing since and are gone, and the followers move back', { timeout: 60_000 }, async () => {
    const lab = await startLab(['--replicas', '2']);
    await lab.startAgent('a', ['--orphan-grace-ms', String(ORPHAN_GRACE_MS)]);
    const api = rpc(lab.gateway.client());
    await api.heartbeat({ intervalMs: T });
    const ids = [8, 4, 12];
    for (const id of ids) await api.create({ id, host: 'a' });
    // The only other host is the gateway's: the followers are there.
    const before = await waitNodes(lab, api, ids, 'every follower in sync on host local', (n) => inSync(n) && n.host === 'a' && n.replica?.followerHost === 'local', 15_000);
    const oldLeader = new Map(before.map((n) => [n.id, n.pid]));
    const oldEpoch = new Map(before.map((n) => [n.id, n.replica?.epoch ?? 0]));

    const keys = keysOver(ids);
    const { history, okStores, finish } = workload(lab, keys);
    await storesGoOn(lab, okStores, 150, 0);

    const cutWall = Date.now();
    const cutAt = lab.partition('a');
    // Promoted: the node's leader is on local now, at a higher epoch (the first time Topology shows it).
    const takeoverAt = new Map<number, number>();
    let last: NodeInfo[] = [];
    await vi
      .waitFor(
        async () => {
          last = (await api.topology()).nodes;
          const now = performance.now();
          for (const n of last) {
            if (ids.includes(n.id) && !takeoverAt.has(n.id) && n.host === 'local' && (n.replica?.epoch ?? 0) > oldEpoch.get(n.id)!) takeoverAt.set(n.id, now);
          }
          expect(ids.filter((id) => !takeoverAt.has(id))).toEqual([]);
        },
        { timeout: 15_000, interval: 20 },
      )
      .catch((error: unknown) => {
        throw new Error(`no takeover after host a was cut: ${String(error)}\n${shape(last)}\n${lab.logs()}`);
      });
    const took = [...takeoverAt].map(([id, at]) => `node ${id}: ${(at - cutAt).toFixed(0)} ms`).join(', ');
    const cutLog = lab.logs(20_000, cutWall);
    // The link's timeout, then the agent's orphan grace, then the promotion itself.
    expect(Math.max(...takeoverAt.values()) - cutAt, `takeover after the cut: ${took} (cut at ${cutWall} ms since the epoch)\n${cutLog}`).toBeLessThanOrEqual(AGENT_LINK_TIMEOUT_MS + ORPHAN_GRACE_MS + BOUND_MS);
    await waitNodes(lab, api, ids, 'every node available on host local', (n) => n.available && n.host === 'local', 10_000);
    const servedAt = performance.now();
    await storesGoOn(lab, okStores, 100, servedAt);
    // The old leaders' logs as the cut left them (a follower placed on a later starts over that slot).
    const cutLogs = new Map(ids.map((id) => [id, readFileSync(join(lab.dataDir('a'), `${id}.wal`))]));

    const healedAt = lab.heal('a');
    // (iii) Each follower moves to host a (it shared its leader's host) and catches up there.
    await waitNodes(lab, api, ids, 'every follower in sync on host a after healing', (n) => n.available && n.host === 'local' && inSync(n) && n.replica?.followerHost === 'a', 20_000);
    // (ii) The old leaders are gone.
    await vi
      .waitFor(() => expect(ids.filter((id) => isAlive(oldLeader.get(id)!))).toEqual([]), { timeout: 10_000, interval: 50 })
      .catch((error: unknown) => {
        throw new Error(`old leaders on host a still alive after healing: ${String(error)}\n${lab.logs()}`);
      });
    await storesGoOn(lab, okStores, 100, healedAt);
    await finish();
    // (i) No value acknowledged after the takeover is in an old leader's log: the old leader never
    // took it (each key's values are unique; the log as the cut left it, and as kept aside later).
    const acked = new Map(history.operations.filter((op) => op.kind === 'store' && op.ok).map((op) => [`${op.key}=${String(op.value)}`, op]));
    const nodeOf = new Map(keys.map(({ key, id }) => [key, id]));
    const taken: string[] = [];
    let seen = 0;
    for (const id of ids) {
      const logs = [cutLogs.get(id)!, ...readdirSync(lab.dataDir('a')).filter((f) => f.startsWith(`${id}.wal.replaced-`)).map((f) => readFileSync(join(lab.dataDir('a'), f)))];
      for (const log of logs) {
        for (const { name, value } of recordsOf(log)) {
          if (nodeOf.get(name) !== id) continue;
          seen++;
          const op = acked.get(`${name}=${String(value)}`);
          if (op !== undefined && op.returnedAt > takeoverAt.get(id)!) taken.push(`node ${id}: ${name}=${value} acknowledged ${(op.returnedAt - takeoverAt.get(id)!).toFixed(0)} ms after its takeover`);
        }
      }
    }
    expect(seen, 'the old leaders logged the writers\' stores before the cut').toBeGreaterThan(0);
    expect(taken, 'values the old leaders took after the takeover').toEqual([]);
    console.log(`leader's host cut off: takeover after the cut: ${took} (link timeout ${AGENT_LINK_TIMEOUT_MS} ms + orphan grace ${ORPHAN_GRACE_MS} ms)`);
  });
});
