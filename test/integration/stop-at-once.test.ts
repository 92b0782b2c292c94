/**
 * Whoever waits for `arbor-gateway listening on ...` may send SIGTERM at once: the gateway's
 * stop must already be in place then (gateway/main.ts), so it drains and exits 0, never dying by
 * Node's default SIGTERM action (which a test stopping a gateway right after its start met).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { GATEWAY_MAIN } from '../helpers/gateway.js';

describe('a SIGTERM right after the listening line', () => {
  it('stops the gateway cleanly (exit 0), 5 times out of 5, metrics on', async () => {
    for (let i = 0; i < 5; i++) {
      const gw = spawn(process.execPath, [GATEWAY_MAIN, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--pool-size', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<number | string | null>((resolve) => gw.once('exit', (code, signal) => resolve(code ?? signal)));
      onTestFinished(() => {
        if (gw.exitCode === null && gw.signalCode === null) gw.kill('SIGKILL');
      });
      let out = '';
      gw.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('arbor-gateway listening on ') && !gw.killed) gw.kill('SIGTERM');
      });
      expect(await exited).toBe(0);
    }
  });
});
