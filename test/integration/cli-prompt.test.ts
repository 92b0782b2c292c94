/**
 * The console at a prompt (issue 27), in-process on a fake terminal against a real gateway: a
 * node killed with SIGKILL is told as `node 11 restarted (its process was killed by SIGKILL),
 * now pid N`, and Tab after `ping ` offers the tree's ids, after `exec 11 ` the node's names
 * (readline lists several candidates on the second Tab in a row).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runConsole } from '../../clients/run-console.js';
import { ArborClient } from '../../clients/lib/index.js';
import { startGateway } from '../helpers/gateway.js';

/** A terminal: what is typed goes in, everything printed comes out as one string. */
function fakeTerminal() {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  let out = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return { stdin, stdout, stderr, output: () => out };
}

describe('the console at a prompt', () => {
  it('tells a restart in one line, and completes ids and names with Tab', { timeout: 60_000 }, async () => {
    const gateway = await startGateway(['--request-timeout-ms', '30000']);
    const client = new ArborClient({ target: gateway.address });
    onTestFinished(() => client.close());
    await client.create(11);
    const { pid } = await client.create(12);
    await client.store(11, 'alpha', 1n);
    await client.store(11, 'beta', 2n);
    const state = mkdtempSync(join(tmpdir(), 'arbor-prompt-'));
    onTestFinished(() => rmSync(state, { recursive: true, force: true }));

    const terminal = fakeTerminal();
    const env = { XDG_STATE_HOME: state, NO_COLOR: '1', TERM: 'xterm' };
    const finished = runConsole({ target: gateway.address, format: 'seed', ordered: false, json: false }, { ...terminal, env });
    await expect.poll(terminal.output, { timeout: 15_000 }).toContain('arbor> ');

    /* The first Tab fills in what every id shares ("1"), the second lists them (readline's way). */
    terminal.stdin.write('ping \t');
    await expect.poll(terminal.output, { timeout: 10_000 }).toContain('ping 1');
    terminal.stdin.write('\t');
    await expect.poll(terminal.output, { timeout: 10_000 }).toMatch(/11\s+12/);
    terminal.stdin.write('\x15exec 11 \t');
    await expect.poll(terminal.output, { timeout: 10_000 }).toContain('exec 11 ');
    terminal.stdin.write('\t');
    await expect.poll(terminal.output, { timeout: 10_000 }).toMatch(/alpha\s+beta/);
    terminal.stdin.write('\x15');

    process.kill(pid, 'SIGKILL');
    await expect
      .poll(terminal.output, { timeout: 20_000 })
      .toMatch(/node 12 restarted \(its process was killed by SIGKILL\), now pid \d+/);

    terminal.stdin.write('quit\n');
    expect(await finished).toBe(0);
  });
});
