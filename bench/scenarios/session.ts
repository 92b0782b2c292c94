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

/** Warm-up blocks at most (so at most 10 × scriptWarmup commands). */
const MAX_WARMUP_BLOCKS = 10;

/**
 * Runs warm-up blocks until the rate stops rising: the block after the fastest so far is not
 * 5 % faster than it (31 processes reach their steady state only after a few hundred thousand
 * commands: JIT, heap sizing). Returns what it did, in words, for the row's note.
 */
async function warmUp(block: () => Promise<{ opsPerSec: number; ops: number }>): Promise<string> {
  let best = 0;
  let commands = 0;
  for (let i = 1; i <= MAX_WARMUP_BLOCKS; i++) {
    const { opsPerSec, ops } = await block();
    commands += ops;
    if (i >= 2 && opsPerSec < best * 1.05) return `${commands} warm-up commands (steady)`;
    best = Math.max(best, opsPerSec);
  }
  return `${commands} warm-up commands (cap)`;
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
