/**
 * @module arbor: unary Exec store and load at concurrency 1 and 64, to the root and to a deep
 * leaf (depth 5 in the full run's 63-node tree), each after a warm-up.
 */
import type { ArborServiceClient, ExecResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { closedLoop } from '../closed-loop.js';
import type { BenchOptions } from '../options.js';
import { childrenOf, cpuMeters } from '../procfs.js';
import { throughputRow } from '../row-builders.js';
import type { Row, RowKey } from '../rows.js';
import { unaryCall } from '../unary-call.js';

const NAMES = Array.from({ length: 1000 }, (_, i) => `k${i}`);
const WARMUP_CONCURRENCY = 16;

export interface Target {
  id: number;
  depth: number;
}

export async function unaryExec(
  client: ArborServiceClient,
  gatewayPid: number,
  root: Target,
  deep: Target,
  opts: BenchOptions,
): Promise<Row[]> {
  const plan: [RowKey, Target, 'store' | 'load', number][] = [
    ['execStoreRoot1', root, 'store', 1],
    ['execLoadRoot1', root, 'load', 1],
    ['execStoreRoot64', root, 'store', 64],
    ['execLoadRoot64', root, 'load', 64],
    ['execStoreDeep1', deep, 'store', 1],
    ['execLoadDeep1', deep, 'load', 1],
    ['execStoreDeep64', deep, 'store', 64],
    ['execLoadDeep64', deep, 'load', 64],
  ];
  const rows: Row[] = [];
  for (const [key, { id, depth }, kind, concurrency] of plan) {
    const op = (i: number): Promise<ExecResponse> => {
      const name = NAMES[i % NAMES.length] as string;
      const request = { id, name, value: kind === 'store' ? BigInt(i) : undefined };
      return unaryCall<ExecResponse>((cb) => client.exec(request, cb));
    };
    // Warm up with many calls in flight whatever the measured concurrency: every process on
    // the path (gateway, up to six nodes) must see enough calls to compile its hot path.
    await closedLoop(op, Math.max(concurrency, WARMUP_CONCURRENCY), opts.warmupMs);
    const cpu = cpuMeters({ gateway: [gatewayPid], nodes: childrenOf(gatewayPid), client: [process.pid] });
    const measured = await closedLoop(op, concurrency, opts.measureMs);
    rows.push(throughputRow(key, 'arbor', measured, `node ${id}, depth ${depth}`, 'ops/s', cpu()));
  }
  return rows;
}
