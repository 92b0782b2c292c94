/**
 * @module arbor at scale (`--nodes N`, default 400): building the tree one create at a time and
 * with 16 creates in flight, memory (PSS and USS from /proc/<pid>/smaps_rollup, in total and per
 * node), liveness CPU at 100 ms and 1,000 ms and with heartbeats off, and the time each switch of
 * interval takes to answer with the false events after it (heartbeat-cpu.ts),
 * SIGSTOP detection at that size, and p50 of loads to the deepest node against the root.
 *
 * Ids are inserted in level order of a full tree (each create finds its parent placed; no
 * rotation), so the build measures creates, not rebalancing (sorted-balanced.ts does that).
 */
import type { ArborServiceClient, TopologyResponse, WatchResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { NodeEventKind } from '../../proto/gen/arbor/v1/arbor.js';
import { alternatingLoads } from '../alternating-loads.js';
import { mb, ms, rate } from '../format.js';
import { create, Gateway, heartbeat } from '../gateway.js';
import type { BenchOptions } from '../options.js';
import { clockTicksPerSecond, cpuTicks, memoryShares } from '../procfs.js';
import type { Row } from '../rows.js';
import { median, summarize } from '../stats.js';
import { balancedOrder } from '../tree.js';
import { unaryCall } from '../unary-call.js';
import { heartbeatCpu, switchRow } from './heartbeat-cpu.js';
import { webFrames } from './web-frames.js';

const sleep = (msec: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msec));

/** The first `n` ids of a full tree's level order: a complete tree, every parent placed first. */
export function completeOrder(n: number): number[] {
  return balancedOrder(Math.ceil(Math.log2(n + 1))).slice(0, n);
}

/** CPU ms used so far by the gateway and every child it has now. */
function cpuMsOf(gateway: Gateway): number {
  const ticks = [gateway.pid, ...gateway.nodePids()].reduce((acc, pid) => acc + cpuTicks(pid), 0);
  return (ticks * 1000) / clockTicksPerSecond();
}

async function build(gateway: Gateway, ids: readonly number[], inFlight: number): Promise<{ seconds: number; latencies: number[]; cpuMs: number }> {
  const client = gateway.client();
  const latencies: number[] = [];
  const cpu0 = cpuMsOf(gateway);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < ids.length) {
        const id = ids[next++] as number;
        const started = performance.now();
        await create(client, id);
        latencies.push(performance.now() - started);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, latencies, cpuMs: cpuMsOf(gateway) - cpu0 };
}

function buildRow(key: 'scaleBuildSequential' | 'scaleBuildConcurrent', nodes: number, inFlight: number, run: Awaited<ReturnType<typeof build>>): Row {
  const lat = summarize(run.latencies);
  return {
    key,
    section: 'arbor',
    value: `${run.seconds.toFixed(1)} s`,
    p50Ms: lat.p50Ms,
    p99Ms: lat.p99Ms,
    note: `${nodes} creates, ${inFlight} in flight: ${rate(nodes / run.seconds, 'nodes/s')}; CPU of the gateway and its processes ${(run.cpuMs / 1000).toFixed(1)} s`,
    figures: { seconds: run.seconds, nodes, inFlight, p50Ms: lat.p50Ms, p99Ms: lat.p99Ms, cpuMs: run.cpuMs },
  };
}

function topology(client: ArborServiceClient): Promise<TopologyResponse> {
  return unaryCall<TopologyResponse>((cb) => client.topology({}, cb));
}

function memoryRow(gateway: Gateway, tree: TopologyResponse, settledMs: number): Row {
  const nodePids = tree.nodes.map((n) => n.pid);
  const shares = nodePids.map(memoryShares).filter((s) => s !== undefined);
  const all = [gateway.pid, ...gateway.nodePids()].map(memoryShares).filter((s) => s !== undefined);
  const total = all.reduce((acc, s) => acc + s.pss, 0);
  const gatewayShare = memoryShares(gateway.pid);
  const pss = median(shares.map((s) => s.pss));
  const uss = median(shares.map((s) => s.uss));
  return {
    key: 'scaleMemory',
    section: 'arbor',
    value: `PSS ${mb(pss)} per node`,
    note:
      `median of ${shares.length} nodes after ${settledMs} ms idle, USS ${mb(uss)}; total PSS ${mb(total)} ` +
      `(gateway ${mb(gatewayShare?.pss ?? Number.NaN)} + ${all.length - 1} processes, spares included)`,
    figures: { pssBytes: pss, ussBytes: uss, totalPssBytes: total, gatewayPssBytes: gatewayShare?.pss ?? Number.NaN, nodes: shares.length },
  };
}

/** SIGSTOP of a few leaves at heartbeat 100 ms: time to the `unavailable` event of each. */
async function detection(gateway: Gateway, tree: TopologyResponse, trials: number): Promise<Row> {
  const client = gateway.client();
  const stream = client.watch({ backlog: 0 });
  stream.on('error', () => undefined);
  const leaves = tree.nodes.filter((n) => n.left === undefined && n.right === undefined);
  const latencies: number[] = [];
  try {
    await heartbeat(client, 100);
    await sleep(1000);
    for (let i = 0; i < trials; i++) {
      const leaf = leaves[Math.floor((i * leaves.length) / trials)] as (typeof leaves)[number];
      const event = (kind: NodeEventKind): Promise<number> =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no ${NodeEventKind[kind]} for node ${leaf.id} within 10 s`)), 10_000);
          const onData = (res: WatchResponse): void => {
            if (res.event?.id !== leaf.id || res.event.kind !== kind) return;
            clearTimeout(timer);
            stream.off('data', onData);
            resolve(performance.now());
          };
          stream.on('data', onData);
        });
      await sleep(Math.random() * 100);
      const down = event(NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE);
      const stoppedAt = performance.now();
      process.kill(leaf.pid, 'SIGSTOP');
      try {
        latencies.push((await down) - stoppedAt);
      } finally {
        const up = event(NodeEventKind.NODE_EVENT_KIND_AVAILABLE);
        process.kill(leaf.pid, 'SIGCONT');
        await up;
      }
    }
    await heartbeat(client, 0);
  } finally {
    stream.cancel();
  }
  const s = summarize(latencies);
  return {
    key: 'scaleDetectStop',
    section: 'arbor',
    value: ms(s.p50Ms),
    p50Ms: s.p50Ms,
    p99Ms: s.p99Ms,
    note: `${latencies.length} leaves of ${tree.nodes.length} nodes, heartbeat 100 ms: expected 300-400 ms; min ${ms(Math.min(...latencies))}, max ${ms(s.maxMs)}`,
    figures: { p50Ms: s.p50Ms, maxMs: s.maxMs, minMs: Math.min(...latencies), trials: latencies.length },
  };
}

export async function scale(opts: BenchOptions, emit: (row: Row) => void): Promise<void> {
  const n = opts.scaleNodes;
  const ids = completeOrder(n);
  // The web view on too, for the frame-time row at the end (nobody opens it before).
  const args = ['--max-nodes', String(n + 16), '--http-listen', '127.0.0.1:0'];
  const gateway = await Gateway.start({ args });
  try {
    // One tree, built in two parts: the first quarter one create at a time, the rest 16 in
    // flight (each row's target is per create or per node, so its part is enough). Two full
    // builds in two gateways took 2.5 of the bench's 11 minutes.
    const sequential = Math.ceil(n / 4);
    emit(buildRow('scaleBuildSequential', sequential, 1, await build(gateway, ids.slice(0, sequential), 1)));
    emit(buildRow('scaleBuildConcurrent', n - sequential, 16, await build(gateway, ids.slice(sequential), 16)));
    await sleep(opts.idleSettleMs);
    const client = gateway.client();
    const tree = await topology(client);
    emit(memoryRow(gateway, tree, opts.idleSettleMs));
    const root = tree.root as number;
    const { rows, switches } = await heartbeatCpu(
      gateway,
      root,
      n,
      [
        { key: 'scaleCpuOff', intervalMs: 0 },
        { key: 'scaleCpu100', intervalMs: 100 },
        { key: 'scaleCpu1000', intervalMs: 1000 },
      ],
      opts,
    );
    for (const row of rows) emit(row);
    emit(switchRow('scaleSwitch', n, switches));
    emit(await detection(gateway, tree, opts.detectionTrials));
    const deepest = tree.nodes.reduce((a, b) => (b.depth > a.depth ? b : a));
    const { near, far } = await alternatingLoads(client, root, deepest.id, opts);
    emit({
      key: 'scaleDeep',
      section: 'arbor',
      value: ms(far.p50Ms),
      p50Ms: far.p50Ms,
      p99Ms: far.p99Ms,
      note: `node ${deepest.id} at depth ${deepest.depth} of ${n} nodes; root p50 ${ms(near.p50Ms)}; ${near.count} loads each`,
      figures: { deepP50Ms: far.p50Ms, rootP50Ms: near.p50Ms, depth: deepest.depth },
    });
    emit(await webFrames(gateway, n, Math.max(...tree.nodes.map((node) => node.id)), opts));
  } finally {
    await gateway.stop();
  }
}
