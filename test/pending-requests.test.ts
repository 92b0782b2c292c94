/**
 * The pending-request table: replies settle their waiter, deadlines fail it, and one timer
 * serves every deadline (fake timers and an injected clock: pure logic, no sockets).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineHeap } from '../control/deadline-heap.js';
import { PendingRequests } from '../control/pending-requests.js';

describe('DeadlineHeap', () => {
  it('pops in deadline order whatever the push order', () => {
    const heap = new DeadlineHeap();
    const deadlines = Array.from({ length: 500 }, (_, i) => ((i * 7919) % 1000) + 0.5);
    deadlines.forEach((d, i) => heap.push(d, i));
    const out: number[] = [];
    while (heap.size > 0) {
      out.push(heap.peekDeadline());
      heap.pop();
    }
    expect(out).toEqual([...deadlines].sort((a, b) => a - b));
    expect(heap.peekDeadline()).toBe(Infinity);
  });
});

describe('PendingRequests', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const timeout = () => new Error('timed out');
  const reply = (corr: number) => ({ kind: 'pong' as const, corr, node: 1 });

  it('settles by corr, fails at the deadline, and keeps nothing afterwards', async () => {
    const pending = new PendingRequests(() => Date.now());
    const a = pending.add(1, 100, timeout);
    const b = pending.add(2, 50, timeout);
    const c = pending.add(3, 200, timeout);
    expect(pending.settle(reply(a.corr))).toBe(true);
    expect(pending.settle(reply(a.corr))).toBe(false); // a late duplicate
    await expect(a.reply).resolves.toEqual(reply(a.corr));
    const bFailed = expect(b.reply).rejects.toThrow('timed out');
    await vi.advanceTimersByTimeAsync(49);
    expect(pending.size).toBe(2);
    await vi.advanceTimersByTimeAsync(2);
    await bFailed;
    expect(pending.size).toBe(1);
    const cFailed = expect(c.reply).rejects.toThrow('timed out');
    await vi.advanceTimersByTimeAsync(200);
    await cFailed;
    expect(pending.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a shorter deadline added later still fires on time', async () => {
    const pending = new PendingRequests(() => Date.now());
    const long = pending.add(1, 1000, timeout);
    const short = pending.add(2, 10, timeout);
    const failed = expect(short.reply).rejects.toThrow('timed out');
    await vi.advanceTimersByTimeAsync(11);
    await failed;
    expect(pending.size).toBe(1);
    pending.settle(reply(long.corr));
    await vi.advanceTimersByTimeAsync(1000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('failWhere ends matching requests at once with their own error', async () => {
    const pending = new PendingRequests(() => Date.now());
    const a = pending.add(7, 1000, () => new Error('node 7 down'));
    const b = pending.add(8, 1000, timeout);
    pending.failWhere((target) => target === 7);
    await expect(a.reply).rejects.toThrow('node 7 down');
    expect(pending.size).toBe(1);
    pending.fail(b.corr, new Error('explicit'));
    await expect(b.reply).rejects.toThrow('explicit');
  });
});
