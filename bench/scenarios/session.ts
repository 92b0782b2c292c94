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

export async function sessionRun(
  client: ArborServiceClient,
  gatewayPid: number,
  nodes: readonly number[],
  opts: BenchOptions,
): Promise<Row> {
  const stream = client.session();
  try {
    const command = (i: number) => asSessionCommand(scriptCommand(i, nodes));
    await pipelined(stream, command, opts.streamWindow, { count: opts.scriptWarmup });
    const cpu = cpuMeters({ gateway: [gatewayPid], nodes: childrenOf(gatewayPid), client: [process.pid] });
    const measured = await pipelined(stream, command, opts.streamWindow, { count: opts.scriptCommands });
    return throughputRow(
      'session',
      'arbor',
      measured,
      `${opts.scriptCommands} commands over ${nodes.length} nodes in ${seconds(measured.seconds)}`,
      'cmds/s',
      cpu(),
    );
  } finally {
    await endStream(stream);
  }
}
