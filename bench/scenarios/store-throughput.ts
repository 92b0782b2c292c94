/**
 * @module arbor: stores only, over one Session with 1,024 in flight, spread over 15 nodes, in
 * four gateways that differ only in where the data goes: in memory (`--restart never`, no
 * log), a write-ahead log per node (`--data-dir`), a log with group commit (`--fsync`), and a
 * log kept by two processes per node (`--replicas 2`: a store is acknowledged once both logged it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway, create } from '../gateway.js';
import type { BenchOptions } from '../options.js';
import { endStream, pipelined } from '../pipeline.js';
import { childrenOf, cpuMeters } from '../procfs.js';
import { throughputRow } from '../row-builders.js';
import type { Row, RowKey } from '../rows.js';
import { balancedOrder } from '../tree.js';

const NAMES = Array.from({ length: 1000 }, (_, i) => `n${i}`);

async function storeRun(key: RowKey, args: readonly string[], what: string, opts: BenchOptions): Promise<Row> {
  const gateway = await Gateway.start({ args });
  try {
    const client = gateway.client();
    const ids = balancedOrder(4);
    for (const id of ids) await create(client, id);
    const command = (i: number) => ({ $case: 'exec' as const, value: { id: ids[i % ids.length] as number, name: NAMES[i % NAMES.length] as string, value: BigInt(i) } });
    const stream = client.session();
    try {
      await pipelined(stream, command, opts.streamWindow, { count: opts.storeWarmup });
      const cpu = cpuMeters({ gateway: [gateway.pid], nodes: childrenOf(gateway.pid), client: [process.pid] });
      const measured = await pipelined(stream, command, opts.streamWindow, { count: opts.storeCommands });
      return throughputRow(key, 'arbor', measured, `${opts.storeCommands} stores over ${ids.length} nodes, ${what}`, 'stores/s', cpu());
    } finally {
      await endStream(stream);
    }
  } finally {
    await gateway.stop();
  }
}

/**
 * Two rounds, the three gateways alternating, and the better run of each kept: one run of a
 * 17-process load on 2 cores varies a lot with whatever else the machine does, enough to move
 * the ratio across its target between two runs a minute apart.
 */
export async function storeThroughput(opts: BenchOptions, emit: (row: Row) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-bench-data-'));
  const configs = [
    { key: 'storeMemory', args: ['--restart', 'never'], what: 'in memory (--restart never: no log)' },
    { key: 'storeLog', args: ['--data-dir', join(dir, 'log')], what: 'a write-ahead log per node (--data-dir)' },
    { key: 'storeFsync', args: ['--data-dir', join(dir, 'fsync'), '--fsync'], what: 'log + group commit (--data-dir --fsync)' },
    { key: 'storeReplicas2', args: ['--data-dir', join(dir, 'replicas'), '--replicas', '2'], what: 'a log on each of two copies (--data-dir --replicas 2)' },
  ] as const;
  const best = new Map<RowKey, Row>();
  try {
    for (let round = 0; round < opts.storeRounds; round++) {
      for (const { key, args, what } of configs) {
        rmSync(join(dir, 'log'), { recursive: true, force: true });
        rmSync(join(dir, 'fsync'), { recursive: true, force: true });
        rmSync(join(dir, 'replicas'), { recursive: true, force: true });
        const row = await storeRun(key, args, `${what}, best of ${opts.storeRounds}`, opts);
        const before = best.get(key);
        if (before === undefined || (row.figures.opsPerSec ?? 0) > (before.figures.opsPerSec ?? 0)) best.set(key, row);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const row of best.values()) emit(row);
}
