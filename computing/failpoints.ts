/**
 * @module Fault injection for tests, off unless the environment asks for it (the variable is on
 * the allow-list of lib/child-env.ts, so the control's value reaches every node it starts).
 *
 * `ARBOR_FAILPOINT_BLOCK_MS=<ms>`: SIGUSR2 blocks this process's event loop for that long, busy
 * rather than stopped, so libzmq's I/O thread still answers pings: the one fault that only the
 * JavaScript beat can find (see protocol/peer-watch.ts). A signal, because a blocked node must be
 * reachable without its event loop's help, and tests address nodes by pid.
 */
export function armFailpoints(env: NodeJS.ProcessEnv = process.env): void {
  const raw = env.ARBOR_FAILPOINT_BLOCK_MS;
  if (raw === undefined) return;
  const blockMs = Number(raw);
  if (!Number.isInteger(blockMs) || blockMs <= 0 || blockMs > 600_000) {
    process.stderr.write(`arbor-node: ignored ARBOR_FAILPOINT_BLOCK_MS=${raw} (expected whole ms, 1..600000)\n`);
    return;
  }
  process.on('SIGUSR2', () => {
    const until = performance.now() + blockMs;
    while (performance.now() < until) {
      // busy on purpose
    }
  });
}
