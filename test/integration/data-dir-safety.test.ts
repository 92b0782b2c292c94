/**
 * `--data-dir` when things go wrong, with real gateways: a link planted where the tree file is
 * written is never followed; a directory that others can write is refused; a read-only file
 * system is named as such (exit 2); on a full disk a create, remove or heartbeat change fails
 * and is not kept (nor forgotten) across a restart; of many gateways started together on one
 * directory exactly one takes it, a dead holder's lock or not. The file-system cases mount small
 * tmpfs instances (root); where mounting is not permitted they are skipped, saying so.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SupervisedProcess } from '../../lib/supervised-process.js';
import { ArborServiceClient } from '../../proto/gen/arbor/v1/arbor.js';
import { GATEWAY_MAIN, REPO, startGateway } from '../helpers/gateway.js';
import { isAlive } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';

const BARRIER = `${REPO}test/helpers/lock-barrier.js`;

/** A fresh directory, removed after the test (after the mounts in it are gone: cleanups run last-registered first). */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-dd-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function run(command: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stderr: r.stderr };
}

/** Mounts a tmpfs at `dir` (made if missing) with `options`; unmounted when the test ends, failed or not. */
function mountTmpfs(dir: string, options: string): void {
  mkdirSync(dir, { recursive: true });
  const mounted = run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  if (mounted.status !== 0) throw new Error(`mount -t tmpfs -o ${options} tmpfs ${dir}: ${mounted.stderr}`);
  onTestFinished(() => {
    // A lazy unmount as the fallback: a process still using it must not leave the mount behind.
    if (run('umount', [dir]).status !== 0) run('umount', ['-l', dir]);
  });
}

/** Can this process mount a tmpfs? (root, outside a restricted container) */
function mountPermitted(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'arbor-mount-probe-'));
  try {
    if (run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status !== 0) return false;
    run('umount', [probe]);
    return true;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const MOUNT = mountPermitted();
if (!MOUNT) console.warn('data-dir-safety: the read-only and full-disk tests are skipped: mounting a tmpfs is not permitted here (they need root)');

/** A gateway that must refuse to start: its exit code and stderr. */
function refused(dir: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [GATEWAY_MAIN, '--listen', '127.0.0.1:0', '--pool-size', '0', '--data-dir', dir], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes zeros into `path` until the file system is full. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

async function failure(call: Promise<unknown>): Promise<{ code: status; details: string; reason: string }> {
  const error = (await call.then(
    () => {
      throw new Error('the call succeeded');
    },
    (e: unknown) => e,
  )) as ServiceError;
  return { code: error.code, details: error.details, reason: String(error.metadata?.get('arbor-reason')[0] ?? '') };
}

describe('a planted link and a directory others can write', () => {
  it('a tree.json.tmp link planted in the data dir is never followed: its target is untouched, the tree is saved and read back', async () => {
    const base = scratch();
    const dir = join(base, 'data');
    mkdirSync(dir, { mode: 0o700 });
    const victim = join(base, 'victim');
    writeFileSync(victim, 'precious\n');
    // Planted while the directory was open to others; its owner has made it private since.
    symlinkSync(victim, join(dir, 'tree.json.tmp'));
    const first = await startGateway(['--data-dir', dir, '--pool-size', '0']);
    const api = rpc(first.client());
    for (const id of [5, 3, 8]) await api.create({ id });
    await api.heartbeat({ intervalMs: 300 });
    await api.remove({ id: 3 });
    expect(await first.stop()).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readlinkSync(join(dir, 'tree.json.tmp'))).toBe(victim);
    expect(readdirSync(dir).sort()).toEqual(['nodes', 'tree.json', 'tree.json.tmp']);

    const second = await startGateway(['--data-dir', dir, '--pool-size', '0']);
    const topology = await rpc(second.client()).topology();
    expect(topology.nodes.map((n) => n.id).sort()).toEqual([5, 8]);
    expect(topology.heartbeatIntervalMs).toBe(300);
  });

  it('a data dir that others can write (0777) is refused with how to fix it, exit 2, and nothing is written in it', () => {
    const base = scratch();
    const dir = join(base, 'data');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const victim = join(base, 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, join(dir, 'tree.json.tmp'));
    const r = refused(dir);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`arbor-gateway: --data-dir: ${dir} is not a private directory: found owner`);
    expect(r.stderr).toContain(`mode 0777; it must belong to`);
    expect(r.stderr).toContain(`Fix: chmod 700 ${dir}`);
    expect(readdirSync(dir)).toEqual(['tree.json.tmp']);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('a missing data dir is created 0700', async () => {
    const dir = join(scratch(), 'new', 'data');
    const gateway = await startGateway(['--data-dir', dir, '--pool-size', '0']);
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(dir, 'nodes')).mode & 0o777).toBe(0o700);
    expect(await gateway.stop()).toBe(0);
  });
});

describe.skipIf(!MOUNT)('read-only and full file systems (tmpfs mounts)', () => {
  it('a data dir on a read-only file system: the message names the path and says read-only, exit 2', async () => {
    const base = scratch();
    // Missing, below a read-only mount (a recursive mkdir would say ENOENT here).
    const readOnly = join(base, 'ro');
    mountTmpfs(readOnly, 'ro,size=64k');
    const missing = refused(join(readOnly, 'data'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`arbor-gateway: --data-dir: cannot create ${join(readOnly, 'data')}: the file system is read-only (EROFS)`);

    // A data dir in use before, its file system read-only since.
    const used = join(base, 'used');
    mountTmpfs(used, 'size=256k,mode=0700');
    const gateway = await startGateway(['--data-dir', used, '--pool-size', '0']);
    await rpc(gateway.client()).create({ id: 1 });
    expect(await gateway.stop()).toBe(0);
    // Busy while the node's process still has its log open (it ends moments after its gateway).
    await expect.poll(() => run('mount', ['-o', 'remount,ro', used]).status, { timeout: 10_000, interval: 100 }).toBe(0);
    const again = refused(used);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(new RegExp(`arbor-gateway: --data-dir: cannot lock ${used}: cannot write ${used}/lock\\.tmp-\\*: the file system is read-only \\(EROFS\\)`));
    expect(readdirSync(used).sort()).toEqual(['nodes', 'tree.json']);
  });

  it('on a full disk a heartbeat change, a create and a remove fail RESOURCE_EXHAUSTED "disk full" and are not kept; once space is freed a restart has the tree as acknowledged', { timeout: 120_000 }, async () => {
    const base = scratch();
    const mnt = join(base, 'small');
    mountTmpfs(mnt, 'size=64k,mode=0700');
    const dir = join(mnt, 'data');
    // The nodes' logs on a file system of their own, not filled: what fails is the tree file's
    // save, not the start of a new node (whose log would fail to open on the full disk).
    mkdirSync(join(dir, 'nodes'), { recursive: true, mode: 0o700 });
    mountTmpfs(join(dir, 'nodes'), 'size=4m,mode=0700');
    const first = await startGateway(['--data-dir', dir, '--pool-size', '0']);
    const api = rpc(first.client());
    for (const id of [5, 3]) await api.create({ id });
    await api.exec({ id: 3, name: 'X', value: 33n });
    await api.heartbeat({ intervalMs: 200 });
    const processes = first.processes().length;
    const treeBefore = readFileSync(join(dir, 'tree.json'), 'utf8');

    const filler = join(mnt, 'filler');
    fill(filler);
    const tree = join(dir, 'tree.json');
    const full = { code: status.RESOURCE_EXHAUSTED, reason: 'disk full' };

    expect(await failure(api.heartbeat({ intervalMs: 500 }))).toEqual({ ...full, details: `Heartbeat interval not changed: cannot save ${tree}: no space left on the device (ENOSPC)` });
    expect((await api.topology()).heartbeatIntervalMs).toBe(200);

    expect(await failure(api.create({ id: 8 }))).toEqual({ ...full, details: `Node 8 was not created: cannot save ${tree}: no space left on the device (ENOSPC)` });
    const afterCreate = await api.topology();
    expect(afterCreate.nodes.map((n) => n.id).sort()).toEqual([3, 5]);
    // Its process is stopped again (the create's undo), its log gone.
    await expect.poll(() => first.processes().length, { timeout: 10_000 }).toBe(processes);
    expect(existsSync(join(dir, 'nodes', '8.wal'))).toBe(false);

    expect(await failure(api.remove({ id: 3 }))).toEqual({ ...full, details: `Node 3 was not removed: cannot save ${tree}: no space left on the device (ENOSPC)` });
    // Nothing was stopped: node 3 serves with its data.
    expect(await api.exec({ id: 3, name: 'X' })).toMatchObject({ found: true, value: 33n });
    expect(readFileSync(tree, 'utf8')).toBe(treeBefore);
    // No temporary file is left behind by the failed saves.
    expect(readdirSync(dir).sort()).toEqual(['lock', 'nodes', 'tree.json']);

    rmSync(filler);
    expect(await first.stop()).toBe(0);
    const second = await startGateway(['--data-dir', dir, '--pool-size', '0']);
    const again = rpc(second.client());
    const restored = await again.topology();
    expect(restored.heartbeatIntervalMs).toBe(200);
    expect(restored.nodes.map((n) => n.id).sort()).toEqual([3, 5]);
    expect(await again.exec({ id: 3, name: 'X' })).toMatchObject({ found: true, value: 33n });
    // With space again the same calls succeed.
    await again.heartbeat({ intervalMs: 500 });
    await again.create({ id: 8 });
    await again.remove({ id: 3 });
    expect(JSON.parse(readFileSync(tree, 'utf8'))).toMatchObject({ heartbeatMs: 500 });
    expect((JSON.parse(readFileSync(tree, 'utf8')) as { nodes: { id: number }[] }).nodes.map((n) => n.id).sort()).toEqual([5, 8]);
  });
});

/**
 * Resolves once the gateway at `address` has answered a call. It prints its listening line a few
 * milliseconds before it installs its SIGTERM handler (a SIGTERM in between kills it outright);
 * both happen in one turn of its event loop, so once a call is answered the handler is there.
 */
async function answered(address: string): Promise<void> {
  const client = new ArborServiceClient(address, credentials.createInsecure());
  try {
    await rpc(client).topology();
  } finally {
    client.close();
  }
}

/** A gateway that listens, at `address`. */
type Listening = SupervisedProcess & { address: string };

describe('the lock when gateways start together', () => {
  /**
   * Starts `n` gateways on `dir`, held at their first open of the lock (test/helpers/lock-barrier.js)
   * until all have come that far, then let go at once; resolves once each has listened or exited.
   */
  async function startTogether(dir: string, n: number): Promise<{ gateways: SupervisedProcess[]; listening: Listening[]; stderr: string[] }> {
    const barrier = mkdtempSync(join(tmpdir(), 'arbor-barrier-'));
    onTestFinished(() => rmSync(barrier, { recursive: true, force: true }));
    const gateways = Array.from({ length: n }, () =>
      SupervisedProcess.spawn(process.execPath, ['--import', BARRIER, GATEWAY_MAIN, '--listen', '127.0.0.1:0', '--pool-size', '0', '--log-level', 'warn', '--data-dir', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ARBOR_TEST_LOCK_BARRIER: barrier },
      }),
    );
    onTestFinished(async () => {
      writeFileSync(join(barrier, 'go'), '');
      await Promise.all(gateways.map((g) => g.stop(5000)));
    });
    const stderr = gateways.map(() => '');
    gateways.forEach((g, i) => g.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr[i] += chunk)));
    const arrived = (): number => readdirSync(barrier).filter((name) => name.startsWith('ready-')).length;
    await expect.poll(arrived, { timeout: 90_000, interval: 20, message: 'every gateway at the lock' }).toBe(n);
    writeFileSync(join(barrier, 'go'), '');
    const outcomes = await Promise.all(
      gateways.map((g) =>
        g.firstLine(g.child.stdout as Readable, { timeoutMs: 90_000, what: 'a gateway', isReady: (line) => line.startsWith('arbor-gateway listening on ') }).then(
          (line) => line.slice('arbor-gateway listening on '.length),
          async () => {
            await g.exited;
            return undefined;
          },
        ),
      ),
    );
    const listening = gateways.flatMap((g, i) => (outcomes[i] === undefined ? [] : [Object.assign(g, { address: outcomes[i] })]));
    return { gateways, listening, stderr };
  }

  it('10 gateways reaching the lock at once on one dir, 20 times (free, left by a killed holder, or a stale lock planted): exactly one holds it, the others exit 2 naming it', { timeout: 900_000 }, async () => {
    const dir = join(scratch(), 'data');
    let previous: Listening | undefined;
    for (let round = 0; round < 20; round++) {
      const how = ['released', 'killed', 'planted'][round % 3] as string;
      if (previous !== undefined) {
        if (how === 'killed') expect((await previous.stop(5000, 'SIGKILL')).signal).toBe('SIGKILL');
        else {
          await answered(previous.address);
          expect(await previous.stop(20_000), `round ${round}: the holder's stop`).toEqual({ code: 0, signal: null });
        }
      }
      if (how === 'planted') {
        // A holder that is gone: a process that ran and was reaped.
        const dead = spawnSync('true').pid;
        expect(isAlive(dead)).toBe(false);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        writeFileSync(join(dir, 'lock'), `{"pid":${dead},"start":"1"}\n`);
      }
      const { gateways, listening, stderr } = await startTogether(dir, 10);
      expect(listening, `round ${round} (${how}): ${stderr.join('\n')}`).toHaveLength(1);
      const holder = listening[0] as Listening;
      gateways.forEach((g, i) => {
        if (g === holder) return;
        expect(g.exit?.code, `round ${round}: ${stderr[i]}`).toBe(2);
        expect(stderr[i]).toContain(`arbor-gateway: --data-dir: ${dir} is in use by another gateway (pid ${holder.pid}); stop it first, or use another --data-dir`);
      });
      expect(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8'))).toMatchObject({ pid: holder.pid });
      // Nothing of the losers' attempts is left: the lock, the nodes' dir (and the tree file, once saved).
      expect(readdirSync(dir).filter((name) => name.startsWith('lock'))).toEqual(['lock']);
      previous = holder;
    }
    const last = previous as Listening;
    await answered(last.address);
    expect(await last.stop(20_000)).toEqual({ code: 0, signal: null });
  });
});
