/**
 * A script of many creates piped into the console at once: they queue for the start slots (two
 * per core) far longer than one start may take, and every one of them succeeds. Bounding the
 * whole create by the start timeout failed most of such creates ("no process could be started
 * in time", then "Parent N is unavailable" for their children).
 */
import { describe, expect, it } from 'vitest';
import { runScript } from '../helpers/cli.js';
import { CLI_MAIN, startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';

const CREATES = 120;

describe('piped creates', () => {
  it(`${CREATES} creates piped at once all succeed, in a balanced tree`, { timeout: 180_000 }, async () => {
    const gw = await startGateway();
    // A fixed shuffle: the tree rotates while the creates queue.
    const ids = Array.from({ length: CREATES }, (_, i) => i + 1).sort((a, b) => ((a * 7919) % 127) - ((b * 7919) % 127));
    const run = await runScript(CLI_MAIN, ['--target', gw.address], ids.map((id) => `create ${id}\n`).join(''));
    // Event lines (`Heartbit: ...`) are not replies.
    const replies = run.lines.filter((line) => !line.startsWith('Heartbit:'));
    expect(replies.filter((line) => !line.startsWith('Ok'))).toEqual([]);
    expect(replies).toHaveLength(CREATES);
    expect(run.code).toBe(0);
    const topology = await rpc(gw.client()).topology();
    expect(topology.nodes.map((n) => n.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(topology.nodes.every((n) => n.available)).toBe(true);
  });
});
