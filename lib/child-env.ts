/**
 * @module The environment of computing processes (the gateway's nodes and spares, an agent's
 * nodes): the few variables they read, and nothing else. Node built-ins only (none, in fact).
 *
 * An allow-list, not a deny-list. The parent's environment holds secrets we know of (ARBOR_TOKEN,
 * the paths of the cluster secret and the TLS key) and secrets we cannot name: whatever the
 * operator's shell or service manager put there (cloud credentials, other tools' tokens). A
 * deny-list misses the second kind, and every secret variable added later; an allow-list fails
 * the other way, by a node missing a setting, which shows at once. A computing process runs no
 * code of the operator's, talks to peers of the tree, and can be read by anyone who can read its
 * /proc entry: it gets only what Node and it read.
 */

/**
 * What a computing process may see of its parent's environment:
 * - PATH, HOME, TMPDIR: where a process looks for programs, its home and temporary files
 *   (Node's os.homedir()/os.tmpdir()); not secret, and their absence surprises tools.
 * - TZ, LANG, LC_ALL: time zone and locale (dates and messages read the same as the parent's).
 * - NODE_OPTIONS: Node's own flags for every process of the run (a heap limit; the benchmark's
 *   `--import` of a CPU profiler, bench/cpu-profile-preload.ts): configuration, not a credential.
 * - ARBOR_FAILPOINT_BLOCK_MS: the node's test failpoint (computing/failpoints.ts).
 * - ARBOR_BENCH_PROFILE_DIR, ARBOR_BENCH_PROFILE_WHO: read by that profiler in each process.
 */
export const CHILD_ENV_NAMES: readonly string[] = [
  'PATH',
  'HOME',
  'TMPDIR',
  'TZ',
  'LANG',
  'LC_ALL',
  'NODE_OPTIONS',
  'ARBOR_FAILPOINT_BLOCK_MS',
  'ARBOR_BENCH_PROFILE_DIR',
  'ARBOR_BENCH_PROFILE_WHO',
];

/** The environment for a computing process started by a process with environment `env`. */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const name of CHILD_ENV_NAMES) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
