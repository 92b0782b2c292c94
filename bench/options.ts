/**
 * @module How much the benchmark does: the full run (under 3 minutes on 2 cores) or `--quick`
 * (a smoke run for the test suite: the same rows, small trees and tiny counts, so it stays
 * light next to other tests; its figures mean nothing).
 */

export interface BenchOptions {
  quick: boolean;
  /** Warm-up before each timed load run. */
  warmupMs: number;
  /** Length of each timed load run. */
  measureMs: number;
  /** Commands of the Session run and lines of the CLI script (the same commands). */
  scriptCommands: number;
  /**
   * One block of warm-up commands sent over the Session before the timed run; blocks repeat
   * until the rate levels off (see scenarios/session.ts). A fresh tree doubles its rate over
   * the first few hundred thousand commands, so a short warm-up measures start-up, not the
   * steady state.
   */
  scriptWarmup: number;
  /** In flight on the Session and the echo stream. */
  streamWindow: number;
  /** In flight on the pipelined zeromq echo. */
  zmqWindow: number;
  /** Levels of the balanced tree: 6 gives 63 nodes, depths 0 to 5. */
  treeLevels: number;
  /** Length of the sorted-insert chain for the per-hop latency. */
  chainLength: number;
  /** Requests per end of the chain (root, deepest) for the per-hop latency. */
  hopSamples: number;
  /** Bare node + zeromq processes started (the first is a warm-up). */
  bareStarts: number;
  /** Timed runs of each start-up row (after one warm-up run). */
  startupRuns: number;
  /**
   * How long processes sit idle after their start before their memory or CPU is read; the same
   * for arbor and the floor. A fresh Node process keeps using CPU after it goes idle: V8's memory
   * reducer runs up to three GCs seconds apart. Nodes read after a build keep falling in CPU
   * for tens of seconds and are idle by 30 s, which lets the youngest node settle.
   */
  idleSettleMs: number;
  /**
   * How long after a heartbeat change CPU is measured, for arbor and the floor alike: the new
   * settings in force everywhere, and an idle arbor tree quiet again (a node goes quiet at its
   * first beat, every 10 s / 3, at least 1 s after its last work: the root Pings of the first
   * 2 s are its last work, so 2 s + 1 s + 3.33 s and a margin).
   */
  switchSettleMs: number;
  /** The first part of `switchSettleMs`, in which the root is pinged every 200 ms. */
  switchPingMs: number;
  /** Nodes of the `scale` phase (`--nodes N`). */
  scaleNodes: number;
  /** The window over which heartbeat CPU is measured. */
  cpuWindowMs: number;
  /** Failures injected to measure detection latency (each: one SIGSTOP, one SIGKILL). */
  detectionTrials: number;
  /** Nodes killed to measure the restart in place. */
  restartTrials: number;
  /** Stores measured in each store-throughput gateway, after a warm-up of `storeWarmup`. */
  storeCommands: number;
  storeWarmup: number;
  /** Rounds of the three store gateways (the best run of each is kept). */
  storeRounds: number;
  /** Host losses of the takeover row (a fresh gateway and agent each), and nodes and names per node on the lost host. */
  takeoverTrials: number;
  takeoverNodes: number;
  takeoverNames: number;
  /** Names of the node whose follower is replaced, and how many times it is (the median kept). */
  catchUpNames: number;
  catchUpTrials: number;
  /** Nodes created from sorted ids into the balanced tree. */
  sortedNodes: number;
  /** Names of the node that Keys lists completely. */
  keysNames: number;
  /** Nodes and names per node that `arbor dump` writes out. */
  dumpNodes: number;
  dumpNames: number;
}

/** The heartbeat of the takeover trials, in every mode: the bound is 4T + 1 s at this T. */
export const TAKEOVER_HEARTBEAT_MS = 100;

export const FULL: BenchOptions = {
  quick: false,
  warmupMs: 500,
  measureMs: 2000,
  scriptCommands: 100_000,
  scriptWarmup: 100_000,
  streamWindow: 1024,
  zmqWindow: 1000,
  treeLevels: 6,
  chainLength: 32,
  hopSamples: 500,
  bareStarts: 6,
  startupRuns: 5,
  idleSettleMs: 30_000,
  switchSettleMs: 7000,
  switchPingMs: 2000,
  scaleNodes: 400,
  cpuWindowMs: 5000,
  detectionTrials: 10,
  restartTrials: 10,
  storeCommands: 60_000,
  storeWarmup: 40_000,
  storeRounds: 2,
  takeoverTrials: 5,
  takeoverNodes: 4,
  takeoverNames: 100,
  catchUpNames: 100_000,
  catchUpTrials: 3,
  sortedNodes: 127,
  keysNames: 100_000,
  dumpNodes: 100,
  dumpNames: 1000,
};

export const QUICK: BenchOptions = {
  quick: true,
  warmupMs: 50,
  measureMs: 150,
  scriptCommands: 2000,
  scriptWarmup: 500,
  streamWindow: 1024,
  zmqWindow: 1000,
  treeLevels: 4,
  chainLength: 8,
  hopSamples: 100,
  bareStarts: 2,
  startupRuns: 1,
  idleSettleMs: 200,
  switchSettleMs: 200,
  switchPingMs: 200,
  scaleNodes: 12,
  cpuWindowMs: 500,
  detectionTrials: 1,
  restartTrials: 1,
  storeCommands: 1000,
  storeWarmup: 500,
  storeRounds: 1,
  takeoverTrials: 1,
  takeoverNodes: 2,
  takeoverNames: 10,
  catchUpNames: 2000,
  catchUpTrials: 1,
  sortedNodes: 15,
  keysNames: 2000,
  dumpNodes: 4,
  dumpNames: 100,
};
