/**
 * @module Baseline: the floor of a tree hop at the depth arbor's chain has. A chain of bare
 * JavaScript relays (bare-relay.ts: ROUTER up, DEALER down) ending in the zeromq echo peer, one
 * message in flight; p50 through every relay minus p50 straight to the echo, per relay. It
 * differs from one zeromq round trip: each relay's message crosses libzmq's I/O thread four
 * times, and 31 processes that take turns on two cores wake cold.
 */
import { rmSync } from 'node:fs';
import { Dealer } from 'zeromq';
import { us } from '../format.js';
import { startHelper } from '../helper-process.js';
import type { Tracked } from '../children.js';
import type { BenchOptions } from '../options.js';
import { ipcEndpoint } from '../paths.js';
import type { Row } from '../rows.js';
import { LatencyRecorder } from '../stats.js';

const BLOCK = 50;
const MESSAGE = Buffer.alloc(20);

async function roundTrip(dealer: Dealer): Promise<number> {
  const t0 = performance.now();
  await dealer.send(MESSAGE);
  await dealer.receive();
  return performance.now() - t0;
}

export async function relayChainBaseline(opts: BenchOptions): Promise<Row> {
  const relays = opts.chainLength - 1;
  const endpoints = Array.from({ length: relays + 1 }, (_, i) => ipcEndpoint(`relay-${i}`));
  const helpers: Tracked[] = [];
  const direct = new Dealer({ linger: 0 });
  const through = new Dealer({ linger: 0 });
  try {
    helpers.push((await startHelper('baselines/zmq-echo-peer.js', [endpoints[0]!.endpoint])).tracked);
    for (let i = 1; i <= relays; i++) {
      helpers.push((await startHelper('baselines/bare-relay.js', [endpoints[i]!.endpoint, endpoints[i - 1]!.endpoint])).tracked);
    }
    direct.connect(endpoints[0]!.endpoint);
    through.connect(endpoints[relays]!.endpoint);
    const near = new LatencyRecorder();
    const far = new LatencyRecorder();
    const warmupEnd = performance.now() + opts.warmupMs;
    while (performance.now() < warmupEnd) {
      await roundTrip(through);
      await roundTrip(direct);
    }
    // Alternating blocks, as the arbor hop row does, so drift hits both alike.
    while (near.count < opts.hopSamples) {
      for (let i = 0; i < BLOCK; i++) near.add(await roundTrip(direct));
      for (let i = 0; i < BLOCK; i++) far.add(await roundTrip(through));
    }
    const n = near.summary();
    const f = far.summary();
    const perHop = (f.p50Ms - n.p50Ms) / relays;
    return {
      key: 'relayHop',
      section: 'baselines',
      value: us(perHop),
      note: `p50 through ${relays} bare relays ${us(f.p50Ms)} vs straight to the echo ${us(n.p50Ms)}, ${n.count} round trips each`,
      figures: { perHopMs: perHop, directP50Ms: n.p50Ms, throughP50Ms: f.p50Ms, relays },
    };
  } finally {
    direct.close();
    through.close();
    await Promise.all(helpers.map((h) => h.stop('SIGTERM', 2000)));
    for (const { file } of endpoints) rmSync(file, { force: true });
  }
}
