/*
 * Other hosts, for real: a gateway in this (root) network namespace listening for agents on one
 * end of a veth pair, an arbor-agent in a network namespace of its own on the other end
 * (10.201.x.y/30, made here and removed after each test). Nothing talks to any address outside
 * loopback and these two. Skipped, saying so, where network namespaces cannot be made (not root).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import type * as Zmq from 'zeromq';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SupervisedProcess } from '../../lib/supervised-process.js';
import { REPO, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { childrenOf, isAlive } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';
import { EventLog } from '../helpers/watch.js';

const zmq = createRequire(import.meta.url)('zeromq') as typeof Zmq;
const AGENT_MAIN = `${REPO}dist/bundle/agent.js`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Can this process make network namespaces? (root, with `ip` and netns support) */
function netnsPermitted(): boolean {
  const probe = `arbortest${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return true;
  } catch {
    return false;
  }
}

const PERMITTED = netnsPermitted();
if (!PERMITTED) console.warn('other-hosts tests skipped: `ip netns add` is not permitted here (they need root and network namespaces)');

interface TwoHosts {
  gateway: RunningGateway;
  ns: string;
  cluster: string;
  secretPath: string;
  gwIp: string;
  agentIp: string;
  hostLink: string;
  agent: SupervisedProcess;
  agentStderr: () => string;
}

/** A veth pair: `gwIp` here, `agentIp` in a new namespace; removed when the test ends. */
function makeNamespace(): { ns: string; hostLink: string; gwIp: string; agentIp: string } {
  const tag = randomBytes(3).toString('hex');
  const ns = `arbor-${tag}`;
  const hostLink = `avh${tag}`;
  const peerLink = `ava${tag}`;
  // A /30 of 10.201.0.0/16 chosen by this test (pid and a random byte), so parallel runs do not meet.
  const third = (process.pid + Number.parseInt(tag.slice(0, 2), 16)) % 250;
  const fourth = 4 * (Number.parseInt(tag.slice(2, 4), 16) % 60);
  const gwIp = `10.201.${third}.${fourth + 1}`;
  const agentIp = `10.201.${third}.${fourth + 2}`;
  ip('netns', 'add', ns);
  onTestFinished(() => {
    try {
      ip('netns', 'del', ns); // takes the veth pair with it
    } catch {
      // already gone
    }
    try {
      ip('link', 'del', hostLink);
    } catch {
      // gone with the namespace
    }
  });
  ip('link', 'add', hostLink, 'type', 'veth', 'peer', 'name', peerLink);
  ip('link', 'set', peerLink, 'netns', ns);
  ip('addr', 'add', `${gwIp}/30`, 'dev', hostLink);
  ip('link', 'set', hostLink, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${agentIp}/30`, 'dev', peerLink);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', peerLink, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  return { ns, hostLink, gwIp, agentIp };
}

interface StartedAgent {
  agent: SupervisedProcess;
  stderr: () => string;
}

/** Starts an agent named b in namespace `ns`; stopped (and its nodes killed) when the test ends. */
async function startAgent(ns: string, cluster: string, secretPath: string, dataDir: string, extra: string[] = []): Promise<StartedAgent> {
  // `ip netns exec` execs node itself: the agent's pid is this process's child.
  const agent = SupervisedProcess.spawn(
    'ip',
    ['netns', 'exec', ns, process.execPath, AGENT_MAIN, '--join', cluster, '--cluster-secret', secretPath, '--name', 'b', '--data-dir', dataDir, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  agent.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  onTestFinished(async () => {
    const nodes = childrenOf(agent.pid);
    await agent.stop(3000);
    for (const pid of nodes) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  const first = await agent.firstLine(agent.child.stdout as Readable, { timeoutMs: 10_000, what: 'the agent' }).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; stderr: ${err}`);
  });
  expect(first).toBe(`arbor-agent b joined ${cluster}`);
  return { agent, stderr: () => err };
}

async function twoHosts(gatewayArgs: string[] = [], agentArgs: string[] = []): Promise<TwoHosts & { dir: string }> {
  const { ns, hostLink, gwIp, agentIp } = makeNamespace();
  const dir = mkdtempSync(join(tmpdir(), 'arbor-hosts-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const secretPath = join(dir, 'cluster.secret');
  const gateway = await startGateway(['--cluster-listen', `${gwIp}:0`, '--cluster-secret', secretPath, '--log-level', 'debug', ...gatewayArgs]);
  await expect.poll(() => gateway.stdoutLines.find((l) => l.startsWith('arbor-gateway cluster on ')), { timeout: 5000 }).toBeDefined();
  const cluster = (gateway.stdoutLines.find((l) => l.startsWith('arbor-gateway cluster on ')) as string).replace('arbor-gateway cluster on ', '');
  const { agent, stderr } = await startAgent(ns, cluster, secretPath, join(dir, 'agent-b'), agentArgs);
  return { gateway, ns, cluster, secretPath, gwIp, agentIp, hostLink, agent, agentStderr: stderr, dir };
}

describe.skipIf(!PERMITTED)('other hosts (network namespaces)', { timeout: 60_000 }, () => {
  it('creates nodes on the agent host, execs there and across hosts, shows hosts, keeps the secret out of ps and logs', async () => {
    const { gateway, secretPath, agent, ns, agentIp, agentStderr } = await twoHosts();
    const api = rpc(gateway.client());
    expect(execFileSync('stat', ['-c', '%a', secretPath]).toString().trim()).toBe('600');
    await api.create({ id: 8 });
    const on20 = await api.create({ id: 20, host: 'b' });
    // 30 is local but below 20 (on b), after balancing 20 may be above or beside it: either way links cross hosts.
    await api.create({ id: 30 });
    await api.create({ id: 25, host: 'b' });
    for (const [id, value] of [
      [8, 1n],
      [20, 2n],
      [30, 3n],
      [25, 4n],
    ] as const) {
      await api.exec({ id, name: 'X', value });
    }
    for (const [id, value] of [
      [8, '1'],
      [20, '2'],
      [30, '3'],
      [25, '4'],
    ] as const) {
      expect((await api.exec({ id, name: 'X' })).value.toString()).toBe(value);
    }
    const topology = await api.topology();
    const hostOf = new Map(topology.nodes.map((n) => [n.id, n.host]));
    expect(Object.fromEntries(hostOf)).toEqual({ 8: 'local', 20: 'b', 30: 'local', 25: 'b' });
    // A link from a node on one host to its parent on the other (both directions happen in this tree).
    const crossings = topology.nodes.filter((n) => n.parent !== undefined && hostOf.get(n.parent) !== n.host);
    expect(crossings.length).toBeGreaterThan(0);
    // The agent is the OS parent of the nodes on b; they bind tcp on its address, never all interfaces.
    expect(childrenOf(agent.pid)).toContain(on20.pid);
    // In b's namespace, every tcp listener of a node is on the advertised address.
    const listeners = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-Hltn']).toString().trim().split('\n').filter((l) => l !== '');
    expect(listeners.length).toBeGreaterThanOrEqual(2);
    for (const line of listeners) expect(line).toContain(`${agentIp}:`);
    const unknown = (await api.create({ id: 40, host: 'nowhere' }).catch((e: unknown) => e)) as { code: number; details: string };
    expect(unknown.code).toBe(14); // UNAVAILABLE
    expect(unknown.details).toContain('Host nowhere is unknown');
    // The secret key: not in any command line, not in the gateway's or the agent's logs.
    const { secretKey } = JSON.parse(readFileSync(secretPath, 'utf8')) as { secretKey: string };
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(secretKey);
    expect(gateway.stderr()).not.toContain(secretKey);
    expect(agentStderr()).not.toContain(secretKey);
  });

  it('a root on the agent host reaches the control over tcp, also once rotations move nodes across hosts', async () => {
    const { gateway } = await twoHosts();
    const api = rpc(gateway.client());
    const pids = new Map<number, number>([[50, (await api.create({ id: 50, host: 'b' })).pid]]);
    expect((await api.topology()).root).toBe(50);
    await api.exec({ id: 50, name: 'R', value: 50n });
    expect((await api.exec({ id: 50, name: 'R' })).value.toString()).toBe('50');
    // Sorted inserts rotate: the root moves between hosts (and back) while every pid stays.
    for (const [id, host] of [
      [60, 'local'],
      [70, 'b'],
      [80, 'local'],
      [90, 'b'],
    ] as const) {
      pids.set(id, (await api.create({ id, host })).pid);
      await api.exec({ id, name: 'R', value: BigInt(id) });
    }
    const topology = await api.topology();
    expect(topology.nodes.every((n) => n.available)).toBe(true);
    for (const id of [50, 60, 70, 80, 90]) expect((await api.exec({ id, name: 'R' })).value.toString()).toBe(String(id));
    expect(new Set(topology.nodes.map((n) => n.host))).toEqual(new Set(['local', 'b']));
    expect(new Map(topology.nodes.map((n) => [n.id, n.pid]))).toEqual(pids);
    expect(topology.root).not.toBe(50);
  });

  it('--placement spread puts each create on the host with the fewest nodes; a new heartbeat interval reaches the nodes of both hosts', async () => {
    const { gateway } = await twoHosts(['--placement', 'spread']);
    const api = rpc(gateway.client());
    for (const id of [8, 20, 30, 25]) await api.create({ id });
    const hosts = Object.fromEntries((await api.topology()).nodes.map((n) => [n.id, n.host]));
    expect(hosts).toEqual({ 8: 'local', 20: 'b', 30: 'local', 25: 'b' });
    for (const id of [8, 20, 30, 25]) await api.exec({ id, name: 'V', value: BigInt(id) });
    const pids = Object.fromEntries((await api.topology()).nodes.map((n) => [n.id, n.pid]));
    // Every node's liveness link moves to the control's new listener (tcp with CURVE from b);
    // the data links stay where they are. The call answers once all four have moved.
    const log = await EventLog.open(gateway.client());
    await api.heartbeat({ intervalMs: 200 });
    for (const id of [8, 20, 30, 25]) expect((await api.exec({ id, name: 'V' })).value.toString()).toBe(String(id));
    // The new interval is in force on b too: a node stopped there is found 3T to 4T later.
    const stoppedAt = performance.now();
    process.kill(pids[20] as number, 'SIGSTOP');
    try {
      const down = await log.next('unavailable', 20, stoppedAt, 5000);
      expect(down.at - stoppedAt).toBeGreaterThanOrEqual(600);
    } finally {
      process.kill(pids[20] as number, 'SIGCONT');
    }
    await log.next('available', 20, stoppedAt);
    await api.create({ id: 27, host: 'b' });
    await api.create({ id: 5, host: 'local' });
    await api.exec({ id: 27, name: 'V', value: 27n });
    expect((await api.exec({ id: 27, name: 'V' })).value.toString()).toBe('27');
    const after = await api.topology();
    expect(after.nodes.every((n) => n.available)).toBe(true);
    for (const [id, pid] of Object.entries(pids)) expect(after.nodes.find((n) => n.id === Number(id))?.pid).toBe(pid);
  });

  it('refuses a peer without the cluster keys: the greeting says CURVE, the handshake fails and is logged', async () => {
    const { gateway, cluster } = await twoHosts();
    const [host, port] = [cluster.slice(0, cluster.lastIndexOf(':')), Number(cluster.slice(cluster.lastIndexOf(':') + 1))];
    // A raw ZMTP 3.0 peer: signature, then its major version alone (libzmq answers with the rest of
    // its greeting, the mechanism included), then the rest of a NULL greeting, which it refuses.
    const greeting = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect(port, host);
      let got = Buffer.alloc(0);
      let sentVersion = false;
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(got);
      }, 3000);
      socket.on('error', reject);
      socket.on('connect', () => {
        const signature = Buffer.alloc(10);
        signature[0] = 0xff;
        signature[9] = 0x7f;
        socket.write(signature);
      });
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length >= 10 && !sentVersion) {
          sentVersion = true;
          socket.write(Buffer.from([3]));
        }
        if (got.length >= 64) {
          clearTimeout(timer);
          const rest = Buffer.alloc(53);
          rest.write('NULL', 1, 'latin1');
          socket.write(rest);
          setTimeout(() => socket.destroy(), 200);
          resolve(got);
        }
      });
    });
    expect(greeting.length).toBeGreaterThanOrEqual(32);
    expect(greeting.subarray(12, 32).toString('latin1').replace(/\0+$/, '')).toBe('CURVE');
    // A CURVE peer that knows the server key but holds another keypair: refused by the ZAP handler, and logged.
    const stranger = zmq.curveKeyPair();
    const serverKey = (JSON.parse(readFileSync(gatewaySecret(gateway), 'utf8')) as { publicKey: string }).publicKey;
    const dealer = new zmq.Dealer({ linger: 0, curveServerKey: serverKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey });
    onTestFinished(() => dealer.close());
    dealer.connect(`tcp://${cluster}`);
    await dealer.send(JSON.stringify({ t: 'join', name: 'evil', advertise: '10.0.0.1', boot: 'x', pid: 1 }));
    await expect.poll(() => gateway.stderr(), { timeout: 5000 }).toContain('refused a cluster handshake');
    expect((await rpc(gateway.client()).create({ id: 1, host: 'evil' }).catch((e: { details: string }) => e.details)) as string).toContain('Host evil is unknown');
  });

  it('an agent with another secret file never joins, the failed handshake is logged on both sides and the agent exits 2; a node port refuses strangers too', async () => {
    const { gateway, ns, cluster, agentIp, dir } = await twoHosts();
    const api = rpc(gateway.client());
    await api.create({ id: 8 });
    await api.create({ id: 20, host: 'b' });
    // A CURVE stranger at a node of b's tcp endpoint: the node's own ZAP handler refuses it (logged through the gateway).
    const nodePort = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-Hltn']).toString().match(new RegExp(`${agentIp.replace(/\./g, '\\.')}:(\\d+)`))?.[1];
    expect(nodePort).toBeDefined();
    const serverKey = (JSON.parse(readFileSync(gatewaySecret(gateway), 'utf8')) as { publicKey: string }).publicKey;
    const stranger = zmq.curveKeyPair();
    const dealer = new zmq.Dealer({ linger: 0, curveServerKey: serverKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey });
    onTestFinished(() => dealer.close());
    dealer.connect(`tcp://${agentIp}:${nodePort}`);
    await dealer.send('x');
    await expect.poll(() => gateway.stderr(), { timeout: 5000 }).toContain('refused a handshake from');
    // Another cluster's file: its agent is refused at the handshake and never says it joined.
    const otherSecret = join(dir, 'other.secret');
    const pair = zmq.curveKeyPair();
    writeFileSync(otherSecret, JSON.stringify(pair), { mode: 0o600 });
    const impostor = SupervisedProcess.spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, AGENT_MAIN, '--join', cluster, '--cluster-secret', otherSecret, '--name', 'c', '--data-dir', join(dir, 'agent-c')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    onTestFinished(async () => {
      await impostor.stop(2000);
    });
    let out = '';
    let err = '';
    impostor.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    impostor.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    await expect.poll(() => gateway.stderr(), { timeout: 8000 }).toContain('a CURVE handshake failed at the cluster endpoint');
    // It hears of the refusal too, says so naming its file, and gives up (exit 2) rather than retry for ever.
    await expect.poll(() => impostor.exit, { timeout: 10_000, message: 'the impostor agent to exit' }).toEqual({ code: 2, signal: null });
    expect(err).toContain(`arbor-agent: the gateway at ${cluster} refused this agent's key`);
    expect(err).toContain(`${otherSecret} is not that gateway's cluster secret`);
    expect(out).toBe('');
    expect(Object.fromEntries((await api.topology()).nodes.map((n) => [n.id, n.host]))).toEqual({ 8: 'local', 20: 'b' });
  });

  it('refuses a second agent for a name already joined, and the gateway\'s own name', async () => {
    const { ns, cluster, secretPath, dir } = await twoHosts();
    for (const name of ['b', 'local']) {
      const extra = SupervisedProcess.spawn(
        'ip',
        ['netns', 'exec', ns, process.execPath, AGENT_MAIN, '--join', cluster, '--cluster-secret', secretPath, '--name', name, '--data-dir', join(dir, `agent-${name}-2`)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      onTestFinished(async () => {
        await extra.stop(2000);
      });
      let err = '';
      extra.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      const exit = await extra.exited;
      expect(exit.code).toBe(2);
      expect(err).toContain(name === 'b' ? 'host b is already joined by another agent' : "host local is the gateway's own name");
    }
  });

  it('a partition makes far nodes unavailable within 4 T and healing brings them back with the same pids', async () => {
    const { gateway, hostLink } = await twoHosts();
    const client = gateway.client();
    const api = rpc(client);
    const T = 100;
    await api.heartbeat({ intervalMs: T });
    await api.create({ id: 8 });
    const far = await api.create({ id: 20, host: 'b' });
    await api.exec({ id: 20, name: 'X', value: 7n });
    const events = await EventLog.open(client);
    const cut = performance.now();
    ip('link', 'set', hostLink, 'down');
    const down = await events.next('unavailable', 20, cut, 10_000);
    expect(down.at - cut).toBeLessThan(4 * T + 2000);
    const heal = performance.now();
    ip('link', 'set', hostLink, 'up');
    await events.next('available', 20, heal, 20_000);
    const topology = await api.topology();
    expect(topology.nodes.find((n) => n.id === 20)).toMatchObject({ pid: far.pid, restarts: 0, available: true });
    expect((await api.exec({ id: 20, name: 'X' })).value.toString()).toBe('7');
  });

  it('kill -9 of the agent leaves no node process', async () => {
    const { gateway, agent } = await twoHosts();
    const api = rpc(gateway.client());
    await api.create({ id: 8 });
    await api.create({ id: 20, host: 'b' });
    await api.create({ id: 30, host: 'b' });
    const nodes = childrenOf(agent.pid);
    expect(nodes.length).toBe(2);
    agent.signal('SIGKILL');
    await expect.poll(() => nodes.filter(isAlive), { timeout: 5000, interval: 50 }).toEqual([]);
  });

  it('a new agent of the same name restarts the nodes of a killed one there, from their logs', async () => {
    const { gateway, agent, ns, cluster, secretPath, dir } = await twoHosts();
    const client = gateway.client();
    const api = rpc(client);
    await api.create({ id: 8 });
    const before = await api.create({ id: 20, host: 'b' });
    await api.exec({ id: 20, name: 'X', value: 42n });
    const nodes = childrenOf(agent.pid);
    const events = await EventLog.open(client);
    agent.signal('SIGKILL');
    await expect.poll(() => nodes.filter(isAlive), { timeout: 5000, interval: 50 }).toEqual([]);
    // Down, and it stays down while b has no agent: its data is there.
    await events.next('unavailable', 20, 0, 10_000);
    expect((await api.topology()).nodes.find((n) => n.id === 20)?.available).toBe(false);
    const since = performance.now();
    const again = await startAgent(ns, cluster, secretPath, join(dir, 'agent-b'));
    const restarted = await events.next('restarted', 20, since, 15_000);
    expect(restarted.pid).not.toBe(before.pid);
    expect(childrenOf(again.agent.pid)).toContain(restarted.pid);
    await events.next('available', 20, since, 15_000);
    expect((await api.exec({ id: 20, name: 'X' })).value.toString()).toBe('42');
  });

  it('a gateway killed and started again on its data dir: the agent stops the old nodes, and they come back on b from their logs', async () => {
    const { ns, gwIp } = makeNamespace();
    const dir = mkdtempSync(join(tmpdir(), 'arbor-hosts-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const secretPath = join(dir, 'cluster.secret');
    const dataDir = join(dir, 'data');
    const first = await startGateway(['--cluster-listen', `${gwIp}:0`, '--cluster-secret', secretPath, '--data-dir', dataDir]);
    await expect.poll(() => first.stdoutLines.find((l) => l.startsWith('arbor-gateway cluster on ')), { timeout: 5000 }).toBeDefined();
    const cluster = (first.stdoutLines.find((l) => l.startsWith('arbor-gateway cluster on ')) as string).replace('arbor-gateway cluster on ', '');
    const { agent } = await startAgent(ns, cluster, secretPath, join(dir, 'agent-b'));
    let api = rpc(first.client());
    await api.create({ id: 8 });
    const old20 = await api.create({ id: 20, host: 'b' });
    await api.exec({ id: 20, name: 'X', value: 11n });
    await api.exec({ id: 8, name: 'X', value: 8n });
    first.proc.kill('SIGKILL');
    // Its nodes on b keep running meanwhile (the orphan grace is 60 s).
    expect(isAlive(old20.pid)).toBe(true);
    const second = await startGateway(['--cluster-listen', cluster, '--cluster-secret', secretPath, '--data-dir', dataDir]);
    api = rpc(second.client());
    // The agent joins the new gateway, stops the old one's node first, then starts 20 again from its log.
    await expect
      .poll(async () => (await api.topology()).nodes.find((n) => n.id === 20), { timeout: 20_000, interval: 100 })
      .toMatchObject({ available: true, host: 'b' });
    expect(isAlive(old20.pid)).toBe(false);
    const now20 = (await api.topology()).nodes.find((n) => n.id === 20);
    expect(now20?.pid).not.toBe(old20.pid);
    expect(childrenOf(agent.pid)).toEqual([now20?.pid]);
    expect((await api.exec({ id: 20, name: 'X' })).value.toString()).toBe('11');
    expect((await api.exec({ id: 8, name: 'X' })).value.toString()).toBe('8');
  });

  it('after the orphan grace the agent stops its nodes; when the gateway is back they restart there from their logs', async () => {
    const { gateway, agent, hostLink } = await twoHosts([], ['--orphan-grace-ms', '500']);
    const client = gateway.client();
    const api = rpc(client);
    await api.create({ id: 8 });
    const before = await api.create({ id: 20, host: 'b' });
    await api.exec({ id: 20, name: 'X', value: 5n });
    const events = await EventLog.open(client);
    ip('link', 'set', hostLink, 'down');
    // The link's heartbeats cut it after 2 s; 0.5 s later the agent stops its nodes (it stays).
    await expect.poll(() => isAlive(before.pid), { timeout: 8000, interval: 50 }).toBe(false);
    expect(isAlive(agent.pid)).toBe(true);
    const heal = performance.now();
    ip('link', 'set', hostLink, 'up');
    const restarted = await events.next('restarted', 20, heal, 15_000);
    expect(restarted.pid).not.toBe(before.pid);
    await events.next('available', 20, heal, 15_000);
    expect((await api.exec({ id: 20, name: 'X' })).value.toString()).toBe('5');
  });
});

/** The secret file of a gateway started by twoHosts (its --cluster-secret argument). */
function gatewaySecret(gateway: RunningGateway): string {
  const args = readFileSync(`/proc/${gateway.pid}/cmdline`, 'utf8').split('\0');
  return args[args.indexOf('--cluster-secret') + 1] as string;
}
