/**
 * @module arbor's dictionary commands (issue 25):
 * - `keysList`: one node holding `keysNames` names listed completely through Keys pages of
 *   10,000, and the node's PSS before and, sampled, while it lists (the node keeps no second
 *   copy of its map: only a sorted array of references to its names);
 * - `deleteSession`: deletes over one Session against stores over the same Session, the same
 *   names, the same gateway with a write-ahead log (a delete is a log record as a store is);
 * - `dump`: `arbor dump` of `dumpNodes` nodes × `dumpNames` names, spawn to exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import type { ArborServiceClient, KeysResponse, TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { spawnTracked } from '../children.js';
import { mb, ms, rate, seconds } from '../format.js';
import { create, defaultsEnv, Gateway } from '../gateway.js';
import type { BenchOptions } from '../options.js';
import { CLI_MAIN } from '../paths.js';
import { endStream, pipelined, type Command } from '../pipeline.js';
import { memoryShares } from '../procfs.js';
import { throughputRow, unavailableRow } from '../row-builders.js';
import type { Row } from '../rows.js';
import { balancedOrder } from '../tree.js';

const call = <T>(run: (cb: (error: ServiceError | null, res: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => run((error, res) => (error ? reject(error) : resolve(res))));

async function storeAll(client: ArborServiceClient, count: number, command: (i: number) => Command, window: number): Promise<void> {
  const stream = client.session();
  try {
    const done = await pipelined(stream, command, window, { count });
    if (done.errors > 0) throw new Error(`${done.errors} stores failed (${done.firstError ?? '?'})`);
  } finally {
    await endStream(stream);
  }
}

async function keysRow(gateway: Gateway, opts: BenchOptions): Promise<Row> {
  const client = gateway.client();
  await create(client, 1);
  const names = opts.keysNames;
  await storeAll(client, names, (i) => ({ $case: 'exec', value: { id: 1, name: `key${String(i).padStart(7, '0')}`, value: BigInt(i) } }), opts.streamWindow);
  const topology = await call<TopologyResponse>((cb) => client.topology({}, cb));
  const pid = topology.nodes[0]?.pid ?? 0;
  const before = memoryShares(pid)?.pss ?? Number.NaN;
  let during = before;
  const sampler = setInterval(() => (during = Math.max(during, memoryShares(pid)?.pss ?? 0)), 5);
  const t0 = performance.now();
  let listed = 0;
  let pages = 0;
  let startAfter = '';
  try {
    for (;;) {
      const page = await call<KeysResponse>((cb) => client.keys({ id: 1, prefix: '', limit: 10_000, startAfter }, cb));
      pages++;
      listed += page.entries.length;
      const last = page.entries.at(-1);
      if (!page.more || last === undefined) break;
      startAfter = last.name;
    }
  } finally {
    clearInterval(sampler);
  }
  const elapsed = performance.now() - t0;
  during = Math.max(during, memoryShares(pid)?.pss ?? 0);
  if (listed !== names) return unavailableRow('keysList', `listed ${listed} of ${names} names`);
  return {
    key: 'keysList',
    section: 'arbor',
    value: ms(elapsed),
    note: `${names} names in ${pages} pages of 10,000 (${rate((names / elapsed) * 1000, 'names/s')}); node PSS ${mb(before)} before, at most ${mb(during)} while listing`,
    figures: { ms: elapsed, names, pages, pssBefore: before, pssDuring: during },
  };
}

async function deleteRow(gateway: Gateway, opts: BenchOptions): Promise<Row> {
  const client = gateway.client();
  // Beside the keys row's node 1, as a balanced tree of their own under it.
  const ids = balancedOrder(4).map((id) => id + 100);
  for (const id of ids) await create(client, id);
  const count = opts.storeCommands;
  const target = (i: number) => ({ id: ids[i % ids.length] as number, name: `d${i}` });
  const stream = client.session();
  try {
    await pipelined(stream, (i) => ({ $case: 'exec', value: { ...target(i + count), value: 1n } }), opts.streamWindow, { count: opts.storeWarmup });
    const stores = await pipelined(stream, (i) => ({ $case: 'exec', value: { ...target(i), value: BigInt(i) } }), opts.streamWindow, { count });
    const deletes = await pipelined(stream, (i) => ({ $case: 'delete', value: target(i) }), opts.streamWindow, { count });
    const row = throughputRow('deleteSession', 'arbor', deletes, `${count} deletes of as many names over ${ids.length} nodes, a write-ahead log per node (--data-dir); stores of them before: ${rate(stores.opsPerSec, 'stores/s')}`, 'deletes/s');
    return { ...row, figures: { ...row.figures, storeOpsPerSec: stores.opsPerSec } };
  } finally {
    await endStream(stream);
  }
}

async function dumpRow(opts: BenchOptions): Promise<Row> {
  // Filling 100 nodes with a window of stores is set-up, not what is measured: a long request
  // timeout keeps a loaded machine's slow replies from failing it.
  const gateway = await Gateway.start({ args: ['--request-timeout-ms', '60000'] });
  try {
    const client = gateway.client();
    const ids = Array.from({ length: opts.dumpNodes }, (_, i) => i + 1);
    for (const id of ids) await create(client, id);
    const total = opts.dumpNodes * opts.dumpNames;
    await storeAll(client, total, (i) => ({ $case: 'exec', value: { id: ids[i % ids.length] as number, name: `n${Math.floor(i / ids.length)}`, value: BigInt(i) } }), opts.streamWindow);
    const t0 = performance.now();
    const child = spawnTracked(process.execPath, [CLI_MAIN, 'dump', '--target', gateway.address], { stdio: ['ignore', 'pipe', 'pipe'], env: defaultsEnv() });
    let lines = 0;
    let partial = '';
    child.proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines += parts.length;
    });
    let stderr = '';
    child.proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exit = await child.exited;
    const elapsed = (performance.now() - t0) / 1000;
    if (exit !== 0 || lines !== total) return unavailableRow('dump', `exit ${exit}, ${lines} of ${total} lines: ${stderr.split('\n')[0] ?? ''}`);
    return {
      key: 'dump',
      section: 'arbor',
      value: seconds(elapsed),
      note: `arbor dump of ${opts.dumpNodes} nodes × ${opts.dumpNames} names, spawn to exit (${rate(total / elapsed, 'names/s')})`,
      figures: { seconds: elapsed, names: total, namesPerSec: total / elapsed },
    };
  } finally {
    await gateway.stop();
  }
}

export async function dictionary(opts: BenchOptions, emit: (row: Row) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-bench-dict-'));
  try {
    const gateway = await Gateway.start({ args: ['--data-dir', join(dir, 'data')] });
    try {
      emit(await keysRow(gateway, opts));
      emit(await deleteRow(gateway, opts));
    } finally {
      await gateway.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  emit(await dumpRow(opts));
}
