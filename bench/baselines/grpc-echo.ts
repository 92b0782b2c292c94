/**
 * @module Baseline: the grpc-js echo service (see echo-service.ts) in its own process, driven
 * by the same load code as arbor: unary at concurrency 1 and 64, and a bidi stream with 1,024
 * messages in flight. Plus the relayed echo at concurrency 1 (see grpc-echo-server.ts): the same
 * call answered after one zeromq round trip to an echo peer, the floor of arbor's unary latency.
 */
import { rmSync } from 'node:fs';
import { credentials } from '@grpc/grpc-js';
import type { ExecResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { closedLoop } from '../closed-loop.js';
import { startHelper } from '../helper-process.js';
import type { BenchOptions } from '../options.js';
import { ipcEndpoint } from '../paths.js';
import { endStream, pipelined } from '../pipeline.js';
import type { Row } from '../rows.js';
import { cpuMeters } from '../procfs.js';
import { throughputRow } from '../row-builders.js';
import { unaryCall } from '../unary-call.js';
import { EchoClient } from './echo-service.js';

export async function grpcEchoBaselines(opts: BenchOptions): Promise<Row[]> {
  const { endpoint, file } = ipcEndpoint('relay');
  const peer = await startHelper('baselines/zmq-echo-peer.js', [endpoint]);
  const { tracked, firstLine } = await startHelper('baselines/grpc-echo-server.js', [endpoint]);
  const client = new EchoClient(`127.0.0.1:${firstLine.replace(/^listening /, '')}`, credentials.createInsecure());
  try {
    const request = { id: 1, name: 'k1', value: 42n };
    const echo = (): Promise<ExecResponse> => unaryCall<ExecResponse>((cb) => client.echo(request, cb));
    const relay = (): Promise<ExecResponse> => unaryCall<ExecResponse>((cb) => client.relay(request, cb));
    const rows: Row[] = [];
    for (const [key, call, concurrency, note] of [
      ['echoUnary1', echo, 1, undefined],
      ['echoRelay1', relay, 1, 'the echo answered after one zeromq round trip to an echo peer: the floor of a unary call to the root'],
      ['echoUnary64', echo, 64, undefined],
    ] as const) {
      await closedLoop(call, concurrency, opts.warmupMs);
      const cpu = cpuMeters({ server: [tracked.pid], client: [process.pid] });
      const measured = await closedLoop(call, concurrency, opts.measureMs);
      rows.push(throughputRow(key, 'baselines', measured, note, 'ops/s', cpu()));
    }
    const stream = client.stream();
    const command = (i: number) => ({ $case: 'exec' as const, value: { id: 1, name: `k${i % 100}`, value: BigInt(i) } });
    await pipelined(stream, command, opts.streamWindow, { durationMs: opts.warmupMs, batch: 1 });
    const cpu = cpuMeters({ server: [tracked.pid], client: [process.pid] });
    const measured = await pipelined(stream, command, opts.streamWindow, { durationMs: opts.measureMs, batch: 1 });
    const used = cpu();
    await endStream(stream);
    rows.push(throughputRow('echoStream', 'baselines', measured, 'one command per message', 'msgs/s', used));
    return rows;
  } finally {
    client.close();
    await tracked.stop('SIGTERM', 2000);
    await peer.tracked.stop('SIGTERM', 2000);
    rmSync(file, { force: true });
  }
}
