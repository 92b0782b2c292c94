/**
 * A node's ROUTERs across a heartbeat change, with real zeromq sockets: the old ROUTER of a node
 * with no child on it closes at once, and leaves no timer behind. A quiet node runs no
 * JavaScript until something wakes it (computing/quiet.ts), so a deadline left to fire for
 * nothing woke every node of a 400-node tree 30 s after each switch, and each wake woke its
 * ancestors too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Downlinks } from '../computing/protocol/index.js';

describe('Downlinks', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('an old ROUTER with no child on it closes at once when a new one takes over, and no timer is left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-downlinks-'));
    dirs.push(dir);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const down = new Downlinks({ fromChild: () => undefined, connected: () => undefined, stranger: () => undefined, undeliverable: () => undefined, drop: () => undefined });
    const running = down.run();
    await down.open(`ipc://${join(dir, 'a')}`, 0);
    expect(vi.getTimerCount()).toBe(0);
    await down.open(`ipc://${join(dir, 'b')}`, 100);
    expect(vi.getTimerCount()).toBe(0);
    down.close();
    await running;
  });
});
