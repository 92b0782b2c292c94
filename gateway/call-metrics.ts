/**
 * @module What a handler reports per command, whether or not metrics are served. Without
 * `--metrics-listen` nobody can read them, so the gateway does not load prom-client at all (a
 * sixth of its start-up) and the hot path records nothing.
 */
export interface CallMetrics {
  /** Call when a command arrives; call the returned function with its status code when answered. */
  start(rpc: string): (code: number) => void;
}

const answered = (): void => undefined;

export const NO_METRICS: CallMetrics = { start: () => answered };
