/**
 * A lab of hosts for tests, with real network namespaces: the gateway runs in this (root)
 * namespace, so test clients reach it on loopback; each agent host is a network namespace of its
 * own. All of them sit on ONE Linux bridge made here in the root namespace: the gateway's address
 * is on the bridge, and each namespace is joined by a veth pair whose host side is a bridge port,
 * so agents reach each other at layer 2 (no ip_forward, no routes).
 *
 * Addresses: a /24 of 10.202.0.0/16 chosen here (not one this machine already has), the gateway
 * at .1, agents from .10. Nothing talks to any address outside loopback and these.
 *
 * A partition is the host side of a host's veth set down (its bridge port goes down with it: the
 * host is cut from the gateway and from every other host at once); healing sets it up again (the
 * bridge forwards at once: no STP). `killHost` is a host lost for good: SIGKILL of its agent and
 * of every process in its namespace.
 *
 * Cleanup, also when the test fails: the gateway is stopped first (its own teardown,
 * test/helpers/gateway.ts, which checks its computing processes end), then each agent (SIGTERM:
 * it stops its nodes), then every namespace must be empty of processes within a grace: a process
 * still there is a leak, killed and reported as a test failure, never killed silently. Then the
 * links, namespaces, bridge and directories are removed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { expect, onTestFinished, vi } from 'vitest';
import { SupervisedProcess } from '../../lib/supervised-process.js';
import { REPO, startGateway, type RunningGateway } from './gateway.js';
import { isAlive } from './processes.js';

export const AGENT_MAIN = `${REPO}dist/bundle/agent.js`;

/** How long the processes of a host may outlive its stopped agent before they count as leaked. */
const HOST_EXIT_GRACE_MS = 4000;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString();
}

/**
 * Can this process make network namespaces and a bridge (root, `ip`, netns and bridge support)?
 * When not, says so (naming `suite`) so a skip is never silent.
 */
export function netnsPermitted(suite: string): boolean {
  const tag = `t${process.pid % 100_000}${randomBytes(2).toString('hex')}`;
  try {
    ip('netns', 'add', `arbor-${tag}`);
    ip('netns', 'del', `arbor-${tag}`);
    ip('link', 'add', 'name', `abr${tag}`, 'type', 'bridge');
    ip('link', 'del', `abr${tag}`);
    return true;
  } catch (error) {
    console.warn(`${suite} skipped: network namespaces and a bridge cannot be made here (they need root): ${String(error).split('\n')[0]}`);
    return false;
  }
}

/** The pids in network namespace `ns` (`ip netns pids`): every process of that host. */
export function pidsIn(ns: string): number[] {
  try {
    return ip('netns', 'pids', ns)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}

export interface LabHost {
  name: string;
  ns: string;
  /** Its address on the bridge (what its nodes bind and advertise). */
  address: string;
  /** The host side of its veth pair (a bridge port): down is a partition. */
  hostLink: string;
  /** The agent's --data-dir: its nodes' logs are `<id>.wal`, a follower's copy `<id>.copy.wal`. */
  dataDir: string;
  /** The agent running now (replaced by `startAgent` again). */
  agent: SupervisedProcess | null;
  /** The agent's stderr so far (all of its agents). */
  stderr: () => string;
}

export interface Lab {
  gateway: RunningGateway;
  /** The gateway's cluster address (`--join`). */
  cluster: string;
  /** The gateway's address on the bridge. */
  gatewayIp: string;
  secretPath: string;
  /** A private directory for this lab (removed at the end). */
  dir: string;
  hosts: Map<string, LabHost>;
  /** Starts agent `name` in its namespace (made on first use), waits until it joined. */
  startAgent(name: string, extraArgs?: string[]): Promise<LabHost>;
  /** Cuts host `name` from every other (its bridge port down); returns performance.now() of the cut. */
  partition(name: string): number;
  /** Heals a partition; returns performance.now() of the heal. */
  heal(name: string): number;
  /**
   * Host `name` lost for good: SIGKILL of its agent and of every process in its namespace;
   * resolves once none is alive, with performance.now() of the first kill.
   */
  killHost(name: string): Promise<number>;
  /** Host `name`'s agent data dir. */
  dataDir(name: string): string;
  /**
   * The last `chars` of the gateway's and every agent's stderr, for failure messages; with
   * `sinceWallMs` (Date.now() of an event), only the log lines from 100 ms before it on.
   */
  logs(chars?: number, sinceWallMs?: number): string;
}

/** A /24 of 10.202.0.0/16 that no interface of this machine has an address in. */
function freeSubnet(): number {
  const taken = ip('-o', '-4', 'addr', 'show');
  for (let tries = 0; tries < 50; tries++) {
    const third = randomBytes(1)[0]! % 250;
    if (!taken.includes(` 10.202.${third}.`)) return third;
  }
  throw new Error('no free /24 in 10.202.0.0/16 for the lab');
}

/**
 * Makes the bridge and starts the gateway on it (`--cluster-listen <gatewayIp>:0
 * --cluster-secret <file>`, then `gatewayArgs`). Agents join with `startAgent`.
 */
export async function startLab(gatewayArgs: string[] = []): Promise<Lab> {
  const tag = randomBytes(3).toString('hex');
  const bridge = `abr${tag}`;
  const third = freeSubnet();
  const gatewayIp = `10.202.${third}.1`;
  const dir = mkdtempSync(join(tmpdir(), 'arbor-lab-'));
  const secretPath = join(dir, 'cluster.secret');
  const hosts = new Map<string, LabHost>();
  const stderrs = new Map<string, string>();

  // Registered before the gateway's own teardown, so it runs after it (vitest runs them last first).
  onTestFinished(async () => {
    const leaks: string[] = [];
    for (const host of hosts.values()) {
      if (host.agent !== null) await host.agent.stop(3000);
      await vi
        .waitFor(
          () => {
            if (pidsIn(host.ns).some(isAlive)) throw new Error('processes left');
          },
          { timeout: HOST_EXIT_GRACE_MS, interval: 50 },
        )
        .catch(() => undefined);
      const left = pidsIn(host.ns).filter(isAlive);
      for (const pid of left) process.kill(pid, 'SIGKILL');
      if (left.length > 0) leaks.push(`host ${host.name}: pids ${left.join(', ')}`);
    }
    for (const host of hosts.values()) {
      try {
        ip('link', 'del', host.hostLink); // takes its peer with it
      } catch {
        // gone already
      }
      try {
        ip('netns', 'del', host.ns);
      } catch {
        // gone already
      }
    }
    try {
      ip('link', 'del', bridge);
    } catch {
      // gone already
    }
    rmSync(dir, { recursive: true, force: true });
    if (leaks.length > 0) throw new Error(`processes outlived their stopped agent for ${HOST_EXIT_GRACE_MS} ms (killed now): ${leaks.join('; ')}`);
  });

  ip('link', 'add', 'name', bridge, 'type', 'bridge', 'forward_delay', '0');
  ip('addr', 'add', `${gatewayIp}/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');

  const gateway = await startGateway(['--cluster-listen', `${gatewayIp}:0`, '--cluster-secret', secretPath, ...gatewayArgs]);
  const clusterLine = (): string | undefined => gateway.stdoutLines.find((l) => l.startsWith('arbor-gateway cluster on '));
  await expect.poll(clusterLine, { timeout: 5000, message: 'the gateway to say where its cluster endpoint is' }).toBeDefined();
  const cluster = (clusterLine() as string).replace('arbor-gateway cluster on ', '');

  const hostNamed = (name: string): LabHost => {
    const host = hosts.get(name);
    if (host === undefined) throw new Error(`no host ${name} in this lab (hosts: ${[...hosts.keys()].join(', ')})`);
    return host;
  };

  const makeHost = (name: string): LabHost => {
    const n = hosts.size;
    const ns = `arbor-${tag}-${name}`;
    const hostLink = `ah${tag}${n}`;
    const peerLink = `aa${tag}${n}`;
    const address = `10.202.${third}.${10 + n}`;
    const host: LabHost = { name, ns, address, hostLink, dataDir: join(dir, `agent-${name}`), agent: null, stderr: () => stderrs.get(name) ?? '' };
    hosts.set(name, host); // before anything is made: cleanup removes whatever was
    ip('netns', 'add', ns);
    ip('link', 'add', hostLink, 'type', 'veth', 'peer', 'name', peerLink);
    ip('link', 'set', peerLink, 'netns', ns);
    ip('link', 'set', hostLink, 'master', bridge);
    ip('link', 'set', hostLink, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', peerLink);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', peerLink, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    return host;
  };

  const lab: Lab = {
    gateway,
    cluster,
    gatewayIp,
    secretPath,
    dir,
    hosts,
    async startAgent(name, extraArgs = []) {
      const host = hosts.get(name) ?? makeHost(name);
      if (host.agent !== null && host.agent.exit === undefined) throw new Error(`host ${name} has an agent running already`);
      // `ip netns exec` execs node itself: the agent's pid is this process's child.
      const agent = SupervisedProcess.spawn(
        'ip',
        ['netns', 'exec', host.ns, process.execPath, AGENT_MAIN, '--join', cluster, '--cluster-secret', secretPath, '--name', name, '--data-dir', host.dataDir, ...extraArgs],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      host.agent = agent;
      agent.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderrs.set(name, (stderrs.get(name) ?? '') + chunk));
      const first = await agent.firstLine(agent.child.stdout as Readable, { timeoutMs: 15_000, what: `the agent of host ${name}` }).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; stderr: ${host.stderr()}`);
      });
      expect(first).toBe(`arbor-agent ${name} joined ${cluster}`);
      return host;
    },
    partition(name) {
      const host = hostNamed(name);
      const at = performance.now();
      ip('link', 'set', host.hostLink, 'down');
      return at;
    },
    heal(name) {
      const host = hostNamed(name);
      const at = performance.now();
      ip('link', 'set', host.hostLink, 'up');
      return at;
    },
    async killHost(name) {
      const host = hostNamed(name);
      const at = performance.now();
      host.agent?.signal('SIGKILL');
      // Every process of the host, and again until none is left (none may start one meanwhile: its agent is gone).
      await vi.waitFor(
        () => {
          const alive = pidsIn(host.ns).filter(isAlive);
          for (const pid of alive) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // gone meanwhile
            }
          }
          if (alive.length > 0 || (host.agent !== null && isAlive(host.agent.pid))) throw new Error(`host ${name}: pids ${alive.join(', ')} still alive`);
        },
        { timeout: 5000, interval: 10 },
      );
      return at;
    },
    dataDir: (name) => hostNamed(name).dataDir,
    logs(chars = 3000, sinceWallMs) {
      const since = (text: string): string => (sinceWallMs === undefined ? text : text.split('\n').filter((line) => !(Number(/"time":(\d+)/.exec(line)?.[1] ?? Infinity) < sinceWallMs - 100)).join('\n'));
      const parts = [`--- gateway stderr (last ${chars} chars):\n${since(gateway.stderr()).slice(-chars)}`];
      for (const host of hosts.values()) parts.push(`--- agent ${host.name} stderr (last ${chars} chars):\n${since(host.stderr()).slice(-chars)}`);
      return parts.join('\n');
    },
  };
  return lab;
}
