/*
 * What the processes arbor starts may see of its secrets, and an agent's own defences, with real
 * processes on loopback (a gateway listening for agents on 127.0.0.1, an agent on this host):
 * - nodes and spares (the gateway's, an agent's) get an environment without the secrets of
 *   their parent's (read back from /proc/<pid>/environ);
 * - an agent's data dir is its user's own: by default in XDG_STATE_HOME, made 0700; one found
 *   writable by others or owned by another user is refused (exit 2, with the fix);
 * - an agent holding another cluster's secret exits 2 saying the gateway refused its key.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { credentials, Metadata } from '@grpc/grpc-js';
import type * as Zmq from 'zeromq';
import { describe, expect, it, onTestFinished } from 'vitest';
import { REFUSAL_LIMIT } from '../../agent/handshake-refusals.js';
import { CHILD_ENV_NAMES } from '../../lib/child-env.js';
import { SupervisedProcess } from '../../lib/supervised-process.js';
import { ArborServiceClient } from '../../proto/gen/arbor/v1/arbor.js';
import { REPO, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { childrenOf, isAlive } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';

const zmq = createRequire(import.meta.url)('zeromq') as typeof Zmq;
const AGENT_MAIN = `${REPO}dist/bundle/agent.js`;
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A self-signed certificate for 127.0.0.1 (openssl, as in security.test.ts). */
function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** The environment process `pid` was started with. */
function environOf(pid: number): Map<string, string> {
  const vars = new Map<string, string>();
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) vars.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return vars;
}

/** A gateway that lets agents join on 127.0.0.1; its cluster endpoint. */
async function clusterGateway(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ gateway: RunningGateway; cluster: string }> {
  const gateway = await startGateway(['--cluster-listen', '127.0.0.1:0', ...args], env);
  await expect.poll(() => gateway.stdoutLines.find((l) => l.startsWith('arbor-gateway cluster on ')), { timeout: 5000 }).toBeDefined();
  const cluster = (gateway.stdoutLines.find((l) => l.startsWith('arbor-gateway cluster on ')) as string).replace('arbor-gateway cluster on ', '');
  return { gateway, cluster };
}

interface Agent {
  proc: SupervisedProcess;
  stdout: () => string;
  stderr: () => string;
}

/** Starts arbor-agent with `args` and environment `env` (on top of ours); stopped with its nodes when the test ends. */
function spawnAgent(args: string[], env: NodeJS.ProcessEnv = {}): Agent {
  const proc = SupervisedProcess.spawn(process.execPath, [AGENT_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  proc.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  proc.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  onTestFinished(async () => {
    const nodes = childrenOf(proc.pid);
    await proc.stop(3000);
    for (const pid of nodes) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  return { proc, stdout: () => out, stderr: () => err };
}

function writeOtherSecret(path: string): void {
  writeFileSync(path, JSON.stringify({ arborClusterSecret: 1, ...zmq.curveKeyPair() }), { mode: 0o600 });
}

describe('secrets and the agent', { timeout: 60_000 }, () => {
  it("no node or spare, the gateway's or an agent's, has a secret in its environment; the agent's default data dir is XDG_STATE_HOME/arbor-agent/<name>, 0700", async () => {
    const dir = tempDir('arbor-env-');
    const { cert, key } = selfSignedCert(dir);
    const secretPath = join(dir, 'cluster.secret');
    const token = `tok-${randomBytes(8).toString('hex')}`;
    const foreign = `foreign-${randomBytes(8).toString('hex')}`;
    // Every secret the gateway may be given through its environment, and one of someone else's.
    const secrets = {
      ARBOR_TOKEN: token,
      ARBOR_CLUSTER_SECRET: secretPath,
      ARBOR_TLS_CERT: cert,
      ARBOR_TLS_KEY: key,
      CLOUD_SECRET_ACCESS_KEY: foreign,
    };
    // An allow-listed variable: the positive control (what nodes read does reach them).
    const failpoint = { ARBOR_FAILPOINT_BLOCK_MS: '1234' };
    const { gateway, cluster } = await clusterGateway(['--pool-size', '2'], { ...secrets, ...failpoint });
    const call = credentials.combineChannelCredentials(
      credentials.createSsl(readFileSync(cert)),
      credentials.createFromMetadataGenerator((_, done) => {
        const md = new Metadata();
        md.set('authorization', `Bearer ${token}`);
        done(null, md);
      }),
    );
    const client = new ArborServiceClient(gateway.address, call);
    onTestFinished(() => client.close());
    const api = rpc(client);

    // The agent gets its secret file and the same secrets through its environment too, and no --data-dir.
    const state = join(dir, 'state');
    const agent = spawnAgent(['--join', cluster, '--name', 'b'], { ...secrets, ...failpoint, XDG_STATE_HOME: state });
    const joined = await agent.proc.firstLine(agent.proc.child.stdout as Readable, { timeoutMs: 10_000, what: 'the agent' }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; stderr: ${agent.stderr()}`);
    });
    expect(joined).toBe(`arbor-agent b joined ${cluster}`);

    await api.create({ id: 8 });
    await api.create({ id: 4 });
    await api.create({ id: 20, host: 'b' });
    await api.exec({ id: 20, name: 'x', value: 1n });
    // Two nodes here and the two spares the pool makes again after the creates took its first two.
    await expect.poll(() => gateway.processes().length, { timeout: 20_000 }).toBe(4);
    const agentNodes = childrenOf(agent.proc.pid);
    expect(agentNodes).toHaveLength(1);

    // The secrets did reach the gateway and the agent (else this test could not fail)...
    for (const parent of [gateway.pid, agent.proc.pid]) expect(environOf(parent).get('ARBOR_TOKEN')).toBe(token);
    // ...and none reached a computing process: only allow-listed names, no secret anywhere in the values.
    for (const pid of [...gateway.processes(), ...agentNodes]) {
      const env = environOf(pid);
      expect([...env.keys()].filter((name) => !CHILD_ENV_NAMES.includes(name)), `pid ${pid}`).toEqual([]);
      const values = [...env.values()].join('\n');
      for (const secret of Object.values(secrets)) expect(values, `pid ${pid}`).not.toContain(secret);
      expect(env.get('ARBOR_FAILPOINT_BLOCK_MS'), `pid ${pid}`).toBe('1234');
      expect(env.get('PATH'), `pid ${pid}`).toBe(process.env.PATH);
    }

    // The default data dir: made 0700 (with its parent), and node 20's log is in it.
    const dataDir = join(state, 'arbor-agent', 'b');
    expect(statSync(join(state, 'arbor-agent')).mode & 0o777).toBe(0o700);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dataDir)).toContain('20.wal');
  });

  it('an agent refuses a data dir that group or others can write, with exit 2, the path, the mode found and the fix, and leaves it as it was', async () => {
    const dir = tempDir('arbor-planted-');
    const secret = join(dir, 'cluster.secret');
    writeOtherSecret(secret);
    const planted = join(dir, 'planted');
    mkdirSync(planted);
    chmodSync(planted, 0o777);
    // Refused before it connects anywhere: the gateway address is never contacted.
    const agent = spawnAgent(['--join', '127.0.0.1:9', '--cluster-secret', secret, '--name', 'b', '--data-dir', planted]);
    expect((await agent.proc.exited).code).toBe(2);
    expect(agent.stderr()).toMatch(new RegExp(`^arbor-agent: refusing the data dir: ${planted} is not a private directory: found owner uid \\d+ \\(\\w+\\), mode 0777;.*Fix: chmod 700 ${planted}\\n$`));
    expect(agent.stdout()).toBe('');
    expect(statSync(planted).mode & 0o777).toBe(0o777);
  });

  it.skipIf(!isRoot)("an agent refuses a data dir owned by another user (nobody), whatever its mode, with exit 2 (needs root for chown)", async () => {
    const dir = tempDir('arbor-theirs-');
    const secret = join(dir, 'cluster.secret');
    writeOtherSecret(secret);
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, NOBODY, NOBODY);
    const agent = spawnAgent(['--join', '127.0.0.1:9', '--cluster-secret', secret, '--name', 'b', '--data-dir', theirs]);
    expect((await agent.proc.exited).code).toBe(2);
    expect(agent.stderr()).toContain(`arbor-agent: refusing the data dir: ${theirs} is not a private directory: found owner uid 65534`);
    expect(agent.stderr()).toContain('mode 0700; it must belong to uid 0');
    expect(agent.stderr()).toContain("Fix: remove it (its content may be someone else's)");
    expect(readdirSync(theirs)).toEqual([]);
  });

  it("an agent holding another cluster's secret exits 2 within a deadline, saying the gateway refused its key and naming its secret file", async () => {
    const dir = tempDir('arbor-impostor-');
    const { gateway, cluster } = await clusterGateway(['--cluster-secret', join(dir, 'cluster.secret')]);
    const other = join(dir, 'other.secret');
    writeOtherSecret(other);
    const agent = spawnAgent(['--join', cluster, '--cluster-secret', other, '--name', 'c', '--data-dir', join(dir, 'agent-c')]);
    // It gives up by itself: its start and 5 refusals (100 ms apart) take about a second; 15 s leaves room for a loaded machine.
    await expect.poll(() => agent.proc.exit, { timeout: 15_000, message: 'the agent to exit' }).toEqual({ code: 2, signal: null });
    expect(agent.stderr()).toContain(
      `arbor-agent: the gateway at ${cluster} refused this agent's key (${REFUSAL_LIMIT} failed CURVE handshakes, last handshake:error:other): ${other} is not that gateway's cluster secret; copy the gateway's --cluster-secret file to this host\n`,
    );
    expect(agent.stdout()).toBe('');
    // The gateway saw it too, and knows no host c.
    expect(gateway.stderr()).toContain('a CURVE handshake failed at the cluster endpoint');
    expect((await rpc(gateway.client()).create({ id: 1, host: 'c' }).catch((e: { details: string }) => e.details)) as string).toContain('Host c is unknown');
  });
});
