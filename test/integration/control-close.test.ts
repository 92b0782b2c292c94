/**
 * The control's own lifecycle, in process: `close()` ends every command (waiting for a node
 * being created, or in flight in a frozen node) with `unavailable` ("the gateway is stopping"),
 * leaves nothing pending, and stops every process it started.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ArborError, Control } from '../../control/index.js';
import { isAlive } from '../helpers/processes.js';

describe('control close', () => {
  it('answers every command waiting or in flight, leaves nothing pending, and stops every process', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'arbor-close-'));
    onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
    // A long request timeout: only the close can end the commands below.
    const control = await Control.start({ runtimeParent: parent, requestTimeoutMs: 60_000, poolSize: 0 });
    let closed = false;
    onTestFinished(async () => {
      if (!closed) await control.close();
    });
    const root = await control.create(8, undefined);
    const frozen = await control.create(12, undefined);
    process.kill(frozen.pid, 'SIGSTOP');
    const outcome = (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => e);
    const inFlight = Array.from({ length: 100 }, (_, i) => outcome(control.exec(12, 'k', BigInt(i))));
    // A create in progress, and a command for its node that waits for it.
    const creating = outcome(control.create(4, undefined));
    const waiting = outcome(control.exec(4, 'k', 1n));
    await expect.poll(() => control.inFlight, { timeout: 5000, interval: 10 }).toBe(100);

    await control.close();
    closed = true;
    for (const result of [...(await Promise.all(inFlight)), await waiting]) {
      expect(result).toBeInstanceOf(ArborError);
      expect(result).toMatchObject({ kind: 'unavailable', reason: 'the gateway is stopping' });
    }
    expect(await creating).toBeInstanceOf(ArborError);
    expect(control.inFlight).toBe(0);
    for (const pid of [root.pid, frozen.pid]) expect(isAlive(pid)).toBe(false);
    // The runtime directory is gone with it.
    expect(readdirSync(parent)).toEqual([]);
    // Later calls fail at once.
    await expect(control.exec(8, 'k', undefined)).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
