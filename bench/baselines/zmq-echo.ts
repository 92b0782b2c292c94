/**
 * @module Baseline: zeromq DEALER (here) ↔ ROUTER echo (another Node process) over ipc, as
 * arbor's links are, with 1 and with 1,000 messages in flight. Messages are 20 bytes, the size
 * of an arbor store record.
 */
import { rmSync } from 'node:fs';
import { Dealer } from 'zeromq';
import { startHelper } from '../helper-process.js';
import { ipcEndpoint } from '../paths.js';
import type { BenchOptions } from '../options.js';
import { throughputRow } from '../row-builders.js';
import type { Row } from '../rows.js';
import { LatencyRecorder, type Throughput, throughput } from '../stats.js';

const RING = 1 << 16;
const MESSAGE_BYTES = 20;

/**
 * Keeps `window` messages in flight for `durationMs`: one loop receives a reply and sends the
 * next, so the socket has exactly one reader and one writer (zeromq.js allows no more).
 */
async function echoLoad(dealer: Dealer, window: number, durationMs: number): Promise<Throughput> {
  const sentAt = new Float64Array(RING);
  const latencies = new LatencyRecorder();
  let sent = 0;
  let received = 0;
  const send = (): Promise<void> => {
    const msg = Buffer.alloc(MESSAGE_BYTES);
    msg.writeUInt32LE(sent, 3);
    sentAt[sent & (RING - 1)] = performance.now();
    sent++;
    return dealer.send(msg);
  };
  const start = performance.now();
  const end = start + durationMs;
  let last = start;
  while (sent < window) await send();
  while (received < sent) {
    const [msg] = await dealer.receive();
    last = performance.now();
    received++;
    if (msg !== undefined) latencies.add(last - (sentAt[msg.readUInt32LE(3) & (RING - 1)] as number));
    if (last < end) await send();
  }
  return throughput(received, 0, (last - start) / 1000, latencies.summary());
}

export async function zmqEchoBaselines(opts: BenchOptions): Promise<Row[]> {
  const { endpoint, file } = ipcEndpoint('echo');
  const { tracked } = await startHelper('baselines/zmq-echo-peer.js', [endpoint]);
  const dealer = new Dealer({ linger: 0, sendHighWaterMark: 100_000, receiveHighWaterMark: 100_000 });
  try {
    dealer.connect(endpoint);
    const rows: Row[] = [];
    for (const [key, window, unit] of [
      ['zmqEcho1', 1, 'round trips/s'],
      ['zmqEchoWindow', opts.zmqWindow, 'round trips/s'],
    ] as const) {
      await echoLoad(dealer, window, opts.warmupMs);
      rows.push(throughputRow(key, 'baselines', await echoLoad(dealer, window, opts.measureMs), undefined, unit));
    }
    return rows;
  } finally {
    dealer.close();
    await tracked.stop('SIGTERM', 2000);
    rmSync(file, { force: true });
  }
}
