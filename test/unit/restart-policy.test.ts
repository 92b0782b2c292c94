/** When a crashed node is restarted, and when it is given up: pure, with time passed in. */
import { describe, expect, it } from 'vitest';
import { RESTART_LIMITS, RestartPolicy } from '../../control/restart-policy.js';

describe('restart policy', () => {
  it('restarts at once, then after 100 ms doubling, and gives up after 5 restarts within 30 s', () => {
    const policy = new RestartPolicy();
    const delays = [0, 10, 20, 30, 40].map((at) => policy.next(at));
    expect(delays).toEqual([0, 100, 200, 400, 800].map((delayMs) => ({ restart: true, delayMs })));
    const sixth = policy.next(50);
    expect(sixth.restart).toBe(false);
    expect(sixth).toMatchObject({ reason: 'it crashed again after 5 restarts within 30 s' });
  });

  it('caps the backoff at 5 s', () => {
    const policy = new RestartPolicy({ ...RESTART_LIMITS, maxRestarts: 20 });
    const delays = Array.from({ length: 10 }, (_, i) => policy.next(i)).map((d) => (d.restart ? d.delayMs : -1));
    expect(delays).toEqual([0, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  it('forgets restarts older than the window: a node that ran well starts over from an immediate restart', () => {
    const policy = new RestartPolicy();
    for (let i = 0; i < 5; i++) policy.next(i * 1000);
    // 30 s after the first restart it no longer counts; 30 s after the last, none does.
    expect(policy.next(30_000)).toEqual({ restart: true, delayMs: 800 });
    expect(policy.next(80_000)).toEqual({ restart: true, delayMs: 0 });
  });

  it('a restart storm is bounded: however fast the crashes, at most 5 restarts in any 30 s', () => {
    const policy = new RestartPolicy();
    let restarts = 0;
    for (let at = 0; at < 30_000; at += 7) if (policy.next(at).restart) restarts++;
    expect(restarts).toBe(5);
  });
});
