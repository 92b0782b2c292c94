/**
 * The real CLI against a real gateway: the report's transcript prints the lab's lines in both
 * formats, exit codes, pipelined scripts, events while a script runs, and `npm start`'s
 * program leaving no process behind.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CLI_MAIN, startGateway } from '../helpers/gateway.js';
import { runScript, START_MAIN, startCli } from '../helpers/cli.js';
import { isAlive } from '../helpers/processes.js';

/** The report's transcript, plus the misplaced-parent case. */
const TRANSCRIPT = `exec 10 X
create 8
exec 8 X
exec 8 X 16
exec 8 X
create 11
create 6
create 13
create 9
exec 11 X 11
exec 6 X 6
exec 9 X 18
ping 11
ping 21
create 9 8
`;

const PID = /^\d+$/;

function matchLines(actual: string[], expected: (string | RegExp)[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((line, i) => {
    const want = expected[i] as string | RegExp;
    if (typeof want === 'string') expect(line).toBe(want);
    else expect(line).toMatch(want);
  });
}

const pidOk = new RegExp(`^Ok: ${PID.source.slice(1, -1)}$`);

describe('arbor CLI end to end', () => {
  it('replays the report transcript in the seed format', async () => {
    const gw = await startGateway();
    const { code, lines } = await runScript(CLI_MAIN, ['--target', gw.address, '--ordered'], TRANSCRIPT);
    matchLines(lines, [
      "Error: Node with id 10 doesn't exist",
      pidOk,
      "Ok: 8 'X' not found",
      'Ok: 8',
      "Ok: 8 'X' 16",
      pidOk,
      pidOk,
      pidOk,
      pidOk,
      'Ok: 11',
      'Ok: 6',
      'Ok: 9',
      'Ok: 11 is available',
      "Error: Node with id 21 doesn't exist",
      'Error: Node 9 belongs under 11, not under 8',
    ]);
    expect(code).toBe(1); // some replies were errors
  });

  it('replays it in the course (mai) format, replies as they arrive', async () => {
    const gw = await startGateway();
    const { code, lines } = await runScript(CLI_MAIN, ['--target', gw.address, '--format', 'mai'], TRANSCRIPT);
    // Without --ordered, replies may arrive in any order across nodes: compare as a multiset.
    const expected = ['Error:10: Not found', 'Ok:8', "Ok:8: 'X' not found", 'Ok:8: 16', 'Ok:11', 'Ok:6', 'Ok:9', 'Ok: 1', 'Error: Not found',
      'Error: Node 9 belongs under 11, not under 8'];
    // 'Ok: 1' is the ping's answer in this format; the five creates print their pids.
    const pids = lines.filter((l) => pidOk.test(l) && l !== 'Ok: 1');
    expect(pids).toHaveLength(5);
    expect(lines.filter((l) => !pids.includes(l)).sort()).toEqual(expected.sort());
    // Per node, order holds: the load before the store saw nothing, the one after saw 16.
    expect(lines.indexOf("Ok:8: 'X' not found")).toBeLessThan(lines.indexOf('Ok:8: 16'));
    expect(code).toBe(1);
  });

  it('exits 0 when every command succeeded, and handles int64 extremes', async () => {
    const gw = await startGateway();
    const script = 'create 5\nexec 5 max 9223372036854775807\nexec 5 min -9223372036854775808\nexec 5 max\nexec 5 min\n# a comment\n\nheartbit 0\n';
    const { code, lines } = await runScript(CLI_MAIN, ['--target', gw.address, '--ordered'], script);
    matchLines(lines, [pidOk, 'Ok: 5', 'Ok: 5', "Ok: 5 'max' 9223372036854775807", "Ok: 5 'min' -9223372036854775808", 'Ok']);
    expect(code).toBe(0);
  });

  it('pipelines a 10,000-command script through one session, in order per node', async () => {
    const gw = await startGateway();
    const ids = [50, 25, 75];
    let script = ids.map((id) => `create ${id}\n`).join('');
    for (let i = 0; i < 5000; i++) {
      const id = ids[i % 3] as number;
      script += `exec ${id} k ${i}\nexec ${id} k\n`;
    }
    const { code, lines } = await runScript(CLI_MAIN, ['--target', gw.address, '--ordered'], script);
    expect(code).toBe(0);
    expect(lines).toHaveLength(3 + 10_000);
    for (let i = 0; i < 5000; i++) {
      const id = ids[i % 3] as number;
      expect(lines[3 + 2 * i]).toBe(`Ok: ${id}`);
      expect(lines[4 + 2 * i]).toBe(`Ok: ${id} 'k' ${i}`);
    }
  });

  it('prints Heartbit lines as events happen, between replies', async () => {
    const gw = await startGateway();
    const cli = startCli(CLI_MAIN, ['--target', gw.address]);
    cli.write('create 1\ncreate 2\nheartbeat 50\n');
    await cli.waitForLines(3);
    const pids = cli.lines.filter((l) => /^Ok: \d+$/.test(l)).map((l) => Number(l.slice(4)));
    expect(pids).toHaveLength(2);
    process.kill(pids[1]!, 'SIGSTOP');
    try {
      await expect.poll(() => cli.lines.includes('Heartbit: node 2 is unavailable now'), { message: 'unavailable line', timeout: 5000, interval: 20 }).toBe(true);
      cli.write('ping 2\n');
      await expect.poll(() => cli.lines.includes('Error: 2 is unavailable'), { message: 'ping answered', timeout: 5000, interval: 20 }).toBe(true);
    } finally {
      process.kill(pids[1]!, 'SIGCONT');
    }
    await expect.poll(() => cli.lines.includes('Heartbit: node 2 is available again'), { message: 'available line', timeout: 5000, interval: 20 }).toBe(true);
    cli.endInput();
    expect(await cli.exited).toBe(1); // the ping failed
  });

  it('tree draws the search tree (with marks after a death) and status sums it up', async () => {
    const gw = await startGateway(['--restart', 'never']);
    const created = await runScript(CLI_MAIN, ['--target', gw.address, '--ordered'], 'create 8\ncreate 11\ncreate 6\ncreate 13\ncreate 9\n');
    const pid = (i: number) => created.lines[i]!.slice(4);
    process.kill(Number(pid(1)), 'SIGKILL');
    const status = async () => (await runScript(CLI_MAIN, ['--target', gw.address], 'status\n')).lines[0];
    await expect.poll(async () => (await status())?.endsWith('unavailable 3') ?? false, { message: 'node 11 and its subtree unavailable', timeout: 5000, interval: 20 }).toBe(true);
    const drawn = await runScript(CLI_MAIN, ['--target', gw.address, '--ordered'], 'tree\nstatus\n');
    expect(drawn.lines).toEqual([
      `8 (pid ${pid(0)})`,
      `├─L 6 (pid ${pid(2)})`,
      `└─R 11 (pid ${pid(1)}) ✗ exited`,
      `    ├─L 9 (pid ${pid(4)}) ✗ unavailable`,
      `    └─R 13 (pid ${pid(3)}) ✗ unavailable`,
      'nodes 5, depth 2 (AVL bound 2), heartbeat off, unavailable 3',
    ]);
  });

  it('talks TLS with --tls-ca and sends ARBOR_TOKEN; a wrong token exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-tls-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const gw = await startGateway(['--tls-cert', cert, '--tls-key', key], { ARBOR_TOKEN: 'tok3n' });
    const ok = await runScript(CLI_MAIN, ['--target', gw.address, '--tls-ca', cert], 'create 4\nping 4\n', { ARBOR_TOKEN: 'tok3n' });
    expect(ok.code).toBe(0);
    expect(ok.lines).toContain('Ok: 4 is available');
    const wrong = await runScript(CLI_MAIN, ['--target', gw.address, '--tls-ca', cert], 'ping 4\n', { ARBOR_TOKEN: 'nope' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/token/i);
  });

  it('usage errors and an unreachable gateway exit 2 with one clear line', async () => {
    const usage = await runScript(CLI_MAIN, ['--format', 'fancy'], '');
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split('\n')[0]).toMatch(/fancy/);
    const unreachable = await runScript(CLI_MAIN, ['--target', '127.0.0.1:1'], 'ping 1\n');
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('127.0.0.1:1');
  });

  it("npm start's program: runs a piped script, then stops the gateway and every node", async () => {
    const { code, lines, stderr } = await runScript(START_MAIN, ['--listen', '127.0.0.1:0', '--ordered'], 'create 3\ncreate 1\nexec 1 a 7\nexec 1 a\nquit\nexec 1 a\n');
    expect(stderr).not.toMatch(/error/i);
    matchLines(lines, [pidOk, pidOk, 'Ok: 1', "Ok: 1 'a' 7"]);
    expect(code).toBe(0);
    const pids = lines.slice(0, 2).map((l) => Number(l.slice(4)));
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});
