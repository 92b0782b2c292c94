/**
 * @module When to restart a crashed node, and when to give up. Pure (time is passed in).
 *
 * The shape OTP, systemd and Kubernetes share: the first restart at once, then a capped
 * exponential backoff (100 ms doubling to 5 s); more than MAX_RESTARTS restarts within WINDOW_MS
 * and the node is given up (FAILED) instead of restarted forever. Restarts older than the window
 * no longer count, so a node that ran well for 30 s starts again from an immediate restart.
 */

export interface RestartLimits {
  maxRestarts: number;
  windowMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const RESTART_LIMITS: Readonly<RestartLimits> = {
  maxRestarts: 5,
  windowMs: 30_000,
  baseDelayMs: 100,
  maxDelayMs: 5000,
};

export type RestartDecision = { restart: true; delayMs: number } | { restart: false; reason: string };

export class RestartPolicy {
  /** When each restart within the window was decided (ms, any monotonic clock). */
  private readonly recent: number[] = [];

  constructor(private readonly limits: Readonly<RestartLimits> = RESTART_LIMITS) {}

  /** The node crashed at `now`: restart it after `delayMs`, or give it up. */
  next(now: number): RestartDecision {
    while (this.recent.length > 0 && now - (this.recent[0] as number) >= this.limits.windowMs) this.recent.shift();
    const count = this.recent.length;
    if (count >= this.limits.maxRestarts) {
      return { restart: false, reason: `it crashed again after ${count} restarts within ${this.limits.windowMs / 1000} s` };
    }
    this.recent.push(now);
    const delayMs = count === 0 ? 0 : Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** (count - 1));
    return { restart: true, delayMs };
  }
}
