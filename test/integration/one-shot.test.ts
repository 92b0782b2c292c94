/**
 * The console for one-shot use (issue 27): `arbor [options] <command> [args...]` runs that one
 * command against a real gateway, prints its reply as a script would and exits 0, 1 or 2,
 * without reading stdin; `-t` is `--target`; `--version` on the three programs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startCli, type CliRun } from '../helpers/cli.js';
import { CLI_MAIN, REPO, startGateway } from '../helpers/gateway.js';

const VERSION = (JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { version: string }).version;

/** Runs the console with `args` and stdin left open (one-shot must not wait for it); resolves when it exits. */
async function oneShot(args: string[]): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  const run: CliRun = startCli(CLI_MAIN, args);
  const code = await run.exited;
  await new Promise((resolve) => run.proc.stdout!.once('close', resolve).readableEnded && resolve(undefined));
  return { code, lines: run.lines, stderr: run.stderr() };
}

describe('arbor one-shot', () => {
  it('runs one command per invocation, as a script prints it, with -t for --target', async () => {
    const gw = await startGateway();
    const t = ['-t', gw.address];

    const created = await oneShot([...t, 'create', '50']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.lines).toHaveLength(1);
    expect(created.lines[0]).toMatch(/^Ok: \d+$/);

    expect(await oneShot([...t, 'exec', '50', 'a', '-9223372036854775808'])).toEqual({ code: 0, lines: ['Ok: 50'], stderr: '' });
    expect(await oneShot([...t, 'exec', '50', 'a'])).toEqual({ code: 0, lines: ["Ok: 50 'a' -9223372036854775808"], stderr: '' });
    expect(await oneShot(['--format', 'mai', ...t, 'exec', '50', 'a'])).toEqual({ code: 0, lines: ['Ok:50: -9223372036854775808'], stderr: '' });

    /* A failed reply: its line, exit 1 (as in a script). */
    expect(await oneShot([...t, 'exec', '99', 'a'])).toEqual({ code: 1, lines: ["Error: Node with id 99 doesn't exist"], stderr: '' });

    /* The command's own options come after it. */
    const tree = await oneShot([...t, 'tree', '--json']);
    expect(tree.code).toBe(0);
    expect(tree.lines).toHaveLength(1);
    expect(JSON.parse(tree.lines[0] as string)).toMatchObject({ root: 50 });
    const status = await oneShot([...t, 'status']);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.lines).toHaveLength(1);

    /* --json applies to the reply as in a script. */
    const json = await oneShot(['--json', ...t, 'ping', '50']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.lines[0] as string)).toMatchObject({ ok: true });
  });

  it('exits 2 for a gateway it cannot reach, and for a usage error', async () => {
    const unreachable = await oneShot(['-t', '127.0.0.1:1', 'status']);
    expect(unreachable.code).toBe(2);
    expect(unreachable.lines).toEqual([]);
    expect(unreachable.stderr).toMatch(/^arbor: cannot reach the gateway at 127\.0\.0\.1:1/);
    expect(await oneShot(['-t'])).toEqual({ code: 2, lines: [], stderr: 'arbor: option -t needs a value (see arbor --help)\n' });
  });

  it('--version on arbor, arbor-gateway and arbor-agent: the package version and Node\'s', async () => {
    for (const program of ['arbor', 'arbor-gateway', 'arbor-agent']) {
      const run = startCli(`${REPO}bin/${program}.js`, ['--version']);
      expect(await run.exited).toBe(0);
      await new Promise((resolve) => run.proc.stdout!.once('close', resolve).readableEnded && resolve(undefined));
      expect(run.lines).toEqual([`${program} ${VERSION} (Node.js ${process.version})`]);
    }
  });
});
