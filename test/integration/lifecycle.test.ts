/**
 * No computing process outlives the gateway: SIGTERM drains and exits 0; SIGKILL leaves nodes
 * that notice (their stdin pipe closes) and exit by themselves.
 */
import { existsSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DEFAULT_POOL_SIZE } from '../../control/index.js';
import { allGone, GATEWAY_MAIN, startGateway } from '../helpers/gateway.js';
import { isAlive, runtimeDirOf } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';
import { ping, store, TestSession } from '../helpers/session.js';


describe('process lifecycle', () => {
  it('SIGTERM stops every computing process, removes the runtime dir and exits 0', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    const pids: number[] = [];
    for (const id of [8, 11, 6, 13, 9]) pids.push((await api.create({ id })).pid);
    // The nodes, and the spares started ahead (--pool-size, default DEFAULT_POOL_SIZE): all must go.
    const nodes = gw.processes();
    expect(nodes).toEqual(expect.arrayContaining(pids));
    expect(nodes.length - pids.length).toBeLessThanOrEqual(DEFAULT_POOL_SIZE);
    const dir = runtimeDirOf(nodes[0]!);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(await gw.stop()).toBe(0);
    await allGone(nodes);
    expect(existsSync(dir)).toBe(false);
  });

  it('SIGTERM lets commands in flight finish before the gateway exits 0', async () => {
    const gw = await startGateway(['--request-timeout-ms', '20000']);
    const api = rpc(gw.client());
    await api.create({ id: 8 });
    const { pid } = await api.create({ id: 6 });
    process.kill(pid, 'SIGSTOP');
    const session = new TestSession(gw.client());
    const stuck = session.send(store(6, 'X', 66n));
    // Commands are dispatched in order: once the ping is answered, the store is in flight.
    await session.reply(session.send(ping(8)));
    gw.proc.kill('SIGTERM');
    // Shutdown has begun once new calls are turned away; only then let the node answer.
    await expect.poll(async () => {
      try {
        await rpc(gw.client()).ping({ id: 8 });
        return false;
      } catch {
        return true;
      }
    }, { message: 'gateway refusing new calls', timeout: 5000, interval: 20 }).toBe(true);
    process.kill(pid, 'SIGCONT');
    expect(await session.reply(stuck)).toEqual({ $case: 'exec', value: { id: 6, name: 'X', found: true, value: 66n } });
    await session.ended;
    expect(await gw.stop()).toBe(0);
    await allGone([pid]);
  });

  it('SIGKILL of the gateway leaves no computing process after 2 s', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    const pids: number[] = [];
    for (const id of [5, 3, 7]) pids.push((await api.create({ id })).pid);
    const nodes = gw.processes();
    expect(nodes).toEqual(expect.arrayContaining(pids));
    gw.proc.kill('SIGKILL');
    await allGone(nodes, 2000);
  });

  it('SIGTERM still stops a gateway whose parent died (nobody reads its log any more)', async () => {
    // A launcher starts the gateway with piped stdout and stderr, prints its pid and exits.
    const launcher = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { spawn } from 'node:child_process';
         const gw = spawn(process.execPath, [${JSON.stringify(GATEWAY_MAIN)}, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
         gw.stdout.once('data', () => { console.log(gw.pid); process.exit(0); });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    launcher.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new Promise((resolve) => launcher.once('exit', resolve));
    const pid = Number(out.trim());
    expect(pid).toBeGreaterThan(0);
    onTestFinished(() => {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    });
    process.kill(pid, 'SIGTERM');
    await allGone([pid], 5000);
  });
});
