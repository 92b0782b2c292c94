/**
 * @module arbor with two copies of every node (`--replicas 2`, issue 29):
 * - `takeover`: a host lost for good. Each trial is a fresh gateway (`--cluster-listen
 *   127.0.0.1:0`) and an agent named `b` on loopback: another host as the control sees it (its
 *   own link, its own processes), without root. Nodes are created on b, their followers then on
 *   the gateway's host; with heartbeats at T = 100 ms, the agent and every process it started
 *   are killed with SIGKILL (the host's power cut), and the time runs until every node of b is
 *   available again on the gateway's host (its `available` event at a Watch subscriber). A trial
 *   counts only when every node moved, its epoch rose and every stored value reads back: a broken
 *   takeover fails the row rather than give it a number.
 * - `catchUp`: a node holding `catchUpNames` names loses its follower (SIGKILL); the time runs
 *   until Topology shows a new follower in sync (a snapshot of the whole dictionary acknowledged),
 *   polled every 5 ms. The rate is names over that time.
 */
import type { ClientReadableStream } from '@grpc/grpc-js';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  type ArborServiceClient,
  type CreateResponse,
  type ExecResponse,
  FollowerState,
  type NodeInfo,
  NodeEventKind,
  type TopologyResponse,
  type WatchResponse,
} from '../../proto/gen/arbor/v1/arbor.js';
import { spawnTracked, type Tracked } from '../children.js';
import { errorText, ms, rate } from '../format.js';
import { defaultsEnv, Gateway, heartbeat } from '../gateway.js';
import { type BenchOptions, TAKEOVER_HEARTBEAT_MS } from '../options.js';
import { AGENT_MAIN } from '../paths.js';
import { endStream, pipelined, type Command } from '../pipeline.js';
import { childrenOf } from '../procfs.js';
import type { Row } from '../rows.js';
import { median, summarize } from '../stats.js';
import { balancedOrder } from '../tree.js';
import { unaryCall } from '../unary-call.js';

/** How often Topology is read while a follower catches up. */
const POLL_MS = 5;

const sleep = (msec: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msec));
const topology = (client: ArborServiceClient): Promise<TopologyResponse> => unaryCall<TopologyResponse>((cb) => client.topology({}, cb));
const valueOf = (id: number, i: number): bigint => BigInt(id * 1_000_000 + i);

/** Polls Topology until `done` holds for it (every `everyMs`), or throws after `timeoutMs` saying `what`. */
async function topologyUntil(client: ArborServiceClient, done: (t: TopologyResponse) => boolean, what: string, timeoutMs = 30_000, everyMs = 20): Promise<TopologyResponse> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const t = await topology(client);
    if (done(t)) return t;
    if (performance.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

const inSync = (n: NodeInfo | undefined): boolean => n?.replica?.followerState === FollowerState.FOLLOWER_STATE_IN_SYNC;

/** What setting up the names cost: stores that failed (and were sent again). */
interface Stored {
  failed: number;
  firstError: string | undefined;
}

/**
 * Stores `perNode` names in each node over one Session (value: `valueOf`). A store that fails
 * (its node busy replacing its follower) is sent again with the whole round, at most 3 rounds:
 * storing the same value twice changes nothing, and what the row measures comes after.
 */
async function storeNames(client: ArborServiceClient, ids: readonly number[], perNode: number, window: number): Promise<Stored> {
  const command = (i: number): Command => {
    const id = ids[i % ids.length] as number;
    const n = Math.floor(i / ids.length);
    return { $case: 'exec', value: { id, name: `key${String(n).padStart(7, '0')}`, value: valueOf(id, n) } };
  };
  const stored: Stored = { failed: 0, firstError: undefined };
  for (let round = 1; ; round++) {
    const stream = client.session();
    try {
      const done = await pipelined(stream, command, window, { count: ids.length * perNode });
      if (done.errors === 0) return stored;
      stored.failed += done.errors;
      stored.firstError ??= done.firstError;
      if (round === 3) throw new Error(`${done.errors} of ${ids.length * perNode} stores failed in round ${round} (${stored.failed} in all; first: ${stored.firstError ?? '?'})`);
    } finally {
      await endStream(stream);
    }
  }
}

const storedNote = (s: Stored): string => (s.failed === 0 ? '' : `; ${s.failed} stores of the set-up failed and were sent again (${s.firstError ?? '?'})`);

/** The gateway's own words about hosts, takeovers and followers, for an error message (its last few). */
function gatewaySays(gateway: Gateway): string {
  const said = gateway.stderr
    .split('\n')
    .map((line) => {
      try {
        return (JSON.parse(line) as { msg?: string }).msg ?? '';
      } catch {
        return '';
      }
    })
    .filter((msg) => /host|takeover|follower/.test(msg));
  return said.length === 0 ? '' : `; the gateway said: ${said.slice(-6).join(' | ')}`;
}

/** Loads every stored name back; throws at the first one missing or different. */
async function readBack(client: ArborServiceClient, ids: readonly number[], perNode: number): Promise<void> {
  for (const id of ids) {
    for (let n = 0; n < perNode; n++) {
      const name = `key${String(n).padStart(7, '0')}`;
      const res = await unaryCall<ExecResponse>((cb) => client.exec({ id, name }, cb));
      if (!res.found || res.value !== valueOf(id, n)) throw new Error(`node ${id}: ${name} reads ${res.found ? res.value : 'nothing'} after the takeover, not ${valueOf(id, n)}`);
    }
  }
}

/** An arbor-agent named `name` on this machine, joined to the gateway's cluster endpoint. */
async function startAgent(cluster: string, secret: string, name: string, dataDir: string): Promise<Tracked> {
  const agent = spawnTracked(process.execPath, [AGENT_MAIN, '--join', cluster, '--cluster-secret', secret, '--name', name, '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: defaultsEnv(),
  });
  let err = '';
  agent.proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    if (err.length < 20_000) err += chunk;
  });
  const joined = `arbor-agent ${name} joined ${cluster}`;
  await agent.supervised
    .firstLine(agent.proc.stdout as Readable, { timeoutMs: 15_000, what: 'the agent', isReady: (line) => line === joined })
    .catch(async (error: unknown) => {
      await agent.stop('SIGKILL');
      throw new Error(`${(error as Error).message}; stderr: ${err}`);
    });
  return agent;
}

interface Seen {
  id: number;
  kind: NodeEventKind;
  at: number;
}

/** A Watch subscriber that keeps every event with its arrival time; resolves once subscribed. */
async function watchEvents(client: ArborServiceClient): Promise<{ seen: Seen[]; stream: ClientReadableStream<WatchResponse> }> {
  const stream = client.watch({ backlog: 0 });
  const seen: Seen[] = [];
  stream.on('error', () => undefined); // cancelled at the end
  stream.on('data', (res: WatchResponse) => {
    if (res.event !== undefined) seen.push({ id: res.event.id, kind: res.event.kind, at: performance.now() });
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Watch not subscribed within 10 s')), 10_000);
    stream.once('metadata', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return { seen, stream };
}

interface Trial {
  /** SIGKILL → the last node of the lost host available again. */
  ms: number;
  stored: Stored;
  /** SIGKILL → the first event (exited or unavailable) about one of its nodes: the loss noticed. */
  detectMs: number;
}

async function takeoverTrial(opts: BenchOptions): Promise<Trial> {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-bench-takeover-'));
  const secret = join(dir, 'cluster.secret');
  const gateway = await Gateway.start({
    args: ['--replicas', '2', '--data-dir', join(dir, 'gateway'), '--cluster-listen', '127.0.0.1:0', '--cluster-secret', secret],
  });
  let watch: ClientReadableStream<WatchResponse> | undefined;
  try {
    const agent = await startAgent(await gateway.clusterAddress(), secret, 'b', join(dir, 'agent-b'));
    const client = gateway.client();
    await heartbeat(client, TAKEOVER_HEARTBEAT_MS);
    const ids = balancedOrder(Math.ceil(Math.log2(opts.takeoverNodes + 1))).slice(0, opts.takeoverNodes);
    for (const id of ids) await unaryCall<CreateResponse>((cb) => client.create({ id, host: 'b' }, cb));
    const stored = await storeNames(client, ids, opts.takeoverNames, opts.streamWindow);
    const ready = (n: NodeInfo | undefined): boolean => n !== undefined && n.host === 'b' && n.available && inSync(n) && n.replica?.followerHost !== 'b';
    const before = await topologyUntil(client, (t) => ids.every((id) => ready(t.nodes.find((n) => n.id === id))), 'every node on b with a follower in sync on another host');
    const epochs = new Map(before.nodes.map((n) => [n.id, n.replica?.epoch ?? 0]));
    const events = await watchEvents(client);
    watch = events.stream;

    // The host's power cut: the agent and every process it started, at once.
    const victims = [agent.pid, ...childrenOf(agent.pid)];
    const killedAt = performance.now();
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    const since = (kinds: readonly NodeEventKind[], id: number): Seen | undefined => events.seen.find((e) => e.id === id && kinds.includes(e.kind) && e.at >= killedAt);
    const back = (id: number): Seen | undefined => since([NodeEventKind.NODE_EVENT_KIND_AVAILABLE], id);
    for (const until = killedAt + 20_000; !ids.every((id) => back(id) !== undefined); await sleep(2)) {
      if (performance.now() > until) {
        const after = events.seen.filter((e) => e.at >= killedAt).map((e) => `${NodeEventKind[e.kind].replace('NODE_EVENT_KIND_', '').toLowerCase()} ${e.id}`);
        throw new Error(
          `after the host loss, nodes ${ids.filter((id) => back(id) === undefined).join(', ')} were not available again within 20 s (events since: ${after.join(', ') || 'none'})${gatewaySays(gateway)}`,
        );
      }
    }
    const lastBack = Math.max(...ids.map((id) => (back(id) as Seen).at));
    const noticed = ids.map((id) => since([NodeEventKind.NODE_EVENT_KIND_EXITED, NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE], id)?.at ?? lastBack);

    // What the row claims: every node moved to the follower's host, under a new epoch, with every value.
    const after = await topology(client);
    for (const id of ids) {
      const n = after.nodes.find((x) => x.id === id);
      if (n === undefined || n.host === 'b' || !n.available) throw new Error(`node ${id} after the takeover: ${n === undefined ? 'gone' : `on ${n.host}, available ${n.available}`}`);
      if ((n.replica?.epoch ?? 0) <= (epochs.get(id) ?? 0)) throw new Error(`node ${id}: epoch ${n.replica?.epoch} after the takeover, not above ${epochs.get(id)}`);
    }
    await readBack(client, ids, opts.takeoverNames);
    return { ms: lastBack - killedAt, detectMs: Math.min(...noticed) - killedAt, stored };
  } finally {
    watch?.cancel();
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function takeoverRow(opts: BenchOptions): Promise<Row> {
  const trials: Trial[] = [];
  for (let i = 0; i < opts.takeoverTrials; i++) {
    trials.push(
      await takeoverTrial(opts).catch((error: unknown) => {
        throw new Error(`trial ${i + 1} of ${opts.takeoverTrials}: ${errorText(error)}`);
      }),
    );
  }
  const s = summarize(trials.map((t) => t.ms));
  const detect = median(trials.map((t) => t.detectMs));
  return {
    key: 'takeover',
    section: 'arbor',
    value: ms(s.p50Ms),
    p50Ms: s.p50Ms,
    p99Ms: s.p99Ms,
    note:
      `${trials.length} trials, each ${opts.takeoverNodes} nodes × ${opts.takeoverNames} names on an agent b (loopback), followers on the gateway's host, heartbeat ${TAKEOVER_HEARTBEAT_MS} ms; ` +
      `SIGKILL of the agent and its processes → every node available on the follower's host (${trials.map((t) => ms(t.ms)).join(', ')}); ` +
      `the loss noticed (first exited/unavailable event) after ${ms(detect)} (median); every value read back` +
      storedNote({ failed: trials.reduce((sum, t) => sum + t.stored.failed, 0), firstError: trials.find((t) => t.stored.firstError !== undefined)?.stored.firstError }),
    figures: { trials: trials.length, p50Ms: s.p50Ms, p99Ms: s.p99Ms, maxMs: s.maxMs, detectMs: detect, heartbeatMs: TAKEOVER_HEARTBEAT_MS },
  };
}

export async function catchUpRow(opts: BenchOptions): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-bench-catchup-'));
  const gateway = await Gateway.start({ args: ['--replicas', '2', '--data-dir', dir] });
  try {
    const client = gateway.client();
    const id = 1;
    await unaryCall<CreateResponse>((cb) => client.create({ id }, cb));
    const stored = await storeNames(client, [id], opts.catchUpNames, opts.streamWindow);
    const node = (t: TopologyResponse): NodeInfo | undefined => t.nodes.find((n) => n.id === id);
    const trials: { ms: number; startMs: number; snapshotMs: number; replaced: number }[] = [];
    for (let trial = 0; trial < opts.catchUpTrials; trial++) {
      const before = node(await topologyUntil(client, (t) => inSync(node(t)), `node ${id}'s follower in sync`));
      const old = before?.replica?.followerPid ?? 0;
      if (old <= 0) throw new Error(`node ${id}: no follower pid in Topology`);
      const killedAt = performance.now();
      process.kill(old, 'SIGKILL');
      // Each new follower's snapshot begins once it is claimed (catching up); it is a copy once in
      // sync. One judged late before that is replaced by another: the time runs on.
      const claimed = new Map<number, number>();
      let last = 0;
      try {
        await topologyUntil(
          client,
          (t) => {
            const r = node(t)?.replica;
            if (r === undefined || r.followerPid === 0 || r.followerPid === old || r.followerState < FollowerState.FOLLOWER_STATE_CATCHING_UP) return false;
            if (!claimed.has(r.followerPid)) claimed.set(r.followerPid, performance.now());
            last = r.followerPid;
            return r.followerState === FollowerState.FOLLOWER_STATE_IN_SYNC;
          },
          `a new follower of node ${id} in sync after SIGKILL of ${old}`,
          60_000,
          POLL_MS,
        );
      } catch (error) {
        throw new Error(`${errorText(error)} (${claimed.size} new followers claimed meanwhile, none caught up)${gatewaySays(gateway)}`);
      }
      const doneAt = performance.now();
      const first = Math.min(...claimed.values());
      trials.push({ ms: doneAt - killedAt, startMs: first - killedAt, snapshotMs: doneAt - (claimed.get(last) as number), replaced: claimed.size - 1 });
    }
    const best = median(trials.map((t) => t.ms));
    const start = median(trials.map((t) => t.startMs));
    const snapshot = median(trials.map((t) => t.snapshotMs));
    const replaced = trials.reduce((sum, t) => sum + t.replaced, 0);
    // The follower's log after its snapshot (the second slot: no takeover happened here).
    const logBytes = ((): number | undefined => {
      try {
        return statSync(join(dir, 'nodes', `${id}.copy.wal`)).size;
      } catch {
        return undefined;
      }
    })();
    const perSec = (opts.catchUpNames / best) * 1000;
    return {
      key: 'catchUp',
      section: 'arbor',
      value: rate(perSec, 'names/s'),
      note:
        `a node with ${opts.catchUpNames} names (--data-dir --replicas 2), SIGKILL of its follower → a new follower in sync, ${ms(best)}, median of ${trials.length} (${trials.map((t) => ms(t.ms)).join(', ')}); ` +
        `a new follower claimed after ${ms(start)}, the snapshot (claimed → in sync) ${ms(snapshot)} (medians)` +
        (logBytes === undefined ? '' : `; the follower's log after it ${(logBytes / 1e6).toFixed(1)} MB`) +
        (replaced === 0 ? '' : `; ${replaced} new followers judged late before they caught up, and replaced`) +
        storedNote(stored),
      figures: {
        namesPerSec: perSec,
        names: opts.catchUpNames,
        ms: best,
        startMs: start,
        snapshotMs: snapshot,
        replaced,
        trials: trials.length,
        ...(logBytes !== undefined && { logBytes }),
      },
    };
  } finally {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Both rows; a row that fails still lets the other be measured, then the phase fails with its error. */
export async function replication(opts: BenchOptions, emit: (row: Row) => void): Promise<void> {
  const failures: string[] = [];
  for (const row of [takeoverRow, catchUpRow]) {
    try {
      emit(await row(opts));
    } catch (error) {
      failures.push(errorText(error));
    }
  }
  if (failures.length > 0) throw new Error(failures.join('; '));
}
