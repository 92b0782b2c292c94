/**
 * @module arbor: one Session stream with 1,024 commands in flight, spread over the given nodes
 * (31 in the full run); the commands are those of the CLI script, so the CLI's time compares
 * with this one.
 */
import type { ArborServiceClient } from '../../proto/gen/arbor/v1/arbor.js';
import { seconds } from '../format.js';
import type { BenchOptions } from '../options.js';
import { endStream, pipelined } from '../pipeline.js';
import { childrenOf, cpuMeters } from '../procfs.js';
import { throughputRow } from '../row-builders.js';
import type { Row } from '../rows.js';
import { asSessionCommand, scriptCommand } from '../script.js';
import { mean } from '../stats.js';

/** Warm-up blocks: at least, at most, and how many the plateau test compares. */
const WARMUP_BLOCKS = { min: 6, max: 10, window: 3 };

/**
 * Runs warm-up blocks until the rate has levelled off: the mean of the last three blocks is
 * within 5 % of the mean of the three before (at least 6 blocks, at most 10). A fresh tree
 * roughly doubles its rate over its first several hundred thousand commands (JIT and heap
 * sizing in every process), and varies from block to block after that. Returns what it did, in words, for the row's note.
 */
async function warmUp(block: () => Promise<{ opsPerSec: number; ops: number }>): Promise<string> {
  const rates: number[] = [];
  let commands = 0;
  while (rates.length < WARMUP_BLOCKS.max) {
    const { opsPerSec, ops } = await block();
    rates.push(opsPerSec);
    commands += ops;
    if (rates.length < WARMUP_BLOCKS.min) continue;
    const last = mean(rates.slice(-WARMUP_BLOCKS.window));
    const before = mean(rates.slice(-2 * WARMUP_BLOCKS.window, -WARMUP_BLOCKS.window));
    if (last < before * 1.05) return `${commands} warm-up commands (levelled off)`;
  }
  return `${commands} warm-up commands (the cap; still rising)`;
}

export async function sessionRun(
  client: ArborServiceClient,
  gatewayPid: number,
  nodes: readonly number[],
  opts: BenchOptions,
): Promise<Row> {
  const stream = client.session();
  try {
    const command = (i: number) => asSessionCommand(scriptCommand(i, nodes));
    const warmed = await warmUp(() => pipelined(stream, command, opts.streamWindow, { count: opts.scriptWarmup }));
    const cpu = cpuMeters({ gateway: [gatewayPid], nodes: childrenOf(gatewayPid), client: [process.pid] });
    const measured = await pipelined(stream, command, opts.streamWindow, { count: opts.scriptCommands });
    return throughputRow(
      'session',
      'arbor',
      measured,
      `${opts.scriptCommands} commands over ${nodes.length} nodes in ${seconds(measured.seconds)}, after ${warmed}`,
      'cmds/s',
      cpu(),
    );
  } finally {
    await endStream(stream);
  }
}
