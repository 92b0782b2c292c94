/**
 * @module arbor: a tree built from sorted ids (1, 2, ... 127), one create at a time, with
 * balancing on: how deep it ends (against the AVL bound for its size), how long the build took
 * (every create waits for its rotations), and p50 of unary loads to the deepest node against the
 * root. Without balancing this is a chain of depth 126.
 */
import type { ArborServiceClient, TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { alternatingLoads } from '../alternating-loads.js';
import { ms } from '../format.js';
import { create } from '../gateway.js';
import type { BenchOptions } from '../options.js';
import type { Row } from '../rows.js';
import { unaryCall } from '../unary-call.js';

export async function sortedBalanced(client: ArborServiceClient, opts: BenchOptions): Promise<Row[]> {
  const t0 = performance.now();
  for (let id = 1; id <= opts.sortedNodes; id++) await create(client, id);
  const seconds = (performance.now() - t0) / 1000;
  const topology = await unaryCall<TopologyResponse>((cb) => client.topology({}, cb));
  const deepest = topology.nodes.reduce((a, b) => (b.depth > a.depth ? b : a));
  const root = topology.root as number;
  const { near, far } = await alternatingLoads(client, root, deepest.id, opts);
  return [
    {
      key: 'sortedBuild',
      section: 'arbor',
      value: `depth ${deepest.depth}`,
      note: `${opts.sortedNodes} creates of sorted ids in ${seconds.toFixed(1)} s (${ms((seconds * 1000) / opts.sortedNodes)} each); AVL bound for ${opts.sortedNodes} nodes: ${topology.depthBound ?? '?'}; a plain search tree: ${opts.sortedNodes - 1}`,
      figures: { depth: deepest.depth, bound: topology.depthBound ?? Number.NaN, seconds, nodes: opts.sortedNodes },
    },
    {
      key: 'sortedDeep',
      section: 'arbor',
      value: ms(far.p50Ms),
      p50Ms: far.p50Ms,
      p99Ms: far.p99Ms,
      note: `node ${deepest.id} at depth ${deepest.depth}; root ${root} p50 ${ms(near.p50Ms)}; ${near.count} loads each`,
      figures: { deepP50Ms: far.p50Ms, rootP50Ms: near.p50Ms, depth: deepest.depth },
    },
  ];
}
