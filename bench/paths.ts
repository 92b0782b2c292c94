/**
 * @module Where the built programs are. Resolved from this file, which runs from dist/bench/.
 */
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (dist/bench/paths.js → ../../). */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The gateway the scenarios drive: this build's, or another build's bundle named by
 * ARBOR_BENCH_GATEWAY (the same scenarios measure a baseline build in the same session; the
 * nodes are that build's, found beside its gateway).
 */
export const GATEWAY_MAIN = process.env.ARBOR_BENCH_GATEWAY ?? `${REPO}dist/bundle/gateway.js`;
/** The agent that runs nodes on another host: the one beside the gateway the scenarios drive. */
export const AGENT_MAIN = `${dirname(GATEWAY_MAIN)}/agent.js`;
export const CLI_MAIN = `${REPO}dist/bundle/arbor.js`;
export const START_MAIN = `${REPO}dist/bundle/start.js`;
/** Built entry points of the benchmark's own helper processes. */
export const BENCH_DIST = `${REPO}dist/bench/`;
export const RESULTS_DIR = `${REPO}bench/results/`;

/** A short, unique ipc endpoint for this benchmark process, and its socket file (to remove after). */
export function ipcEndpoint(name: string): { endpoint: string; file: string } {
  const file = `${tmpdir()}/arbor-bench-${process.pid}-${name}`;
  return { endpoint: `ipc://${file}`, file };
}
