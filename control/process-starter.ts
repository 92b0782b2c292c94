/**
 * @module Getting a node a ready process, here or on another host: the one path a create, a
 * restart and a restore all take.
 *
 * On this host a process comes from the pool (a spare, else a new one); on another host its
 * agent starts it (no spares there). Either way it is then claimed on its control channel (id,
 * endpoint, log) and is ready once its log is replayed and its endpoint bound.
 */
import type { ClusterKeys } from '../computing/protocol/index.js';
import type { Exit } from '../lib/supervised-process.js';
import type { Agents, Host } from './agents.js';
import { ClaimError, type ComputingProcess } from './computing-process.js';
import type { NodeStorage } from './data-dir.js';
import type { Liveness } from './liveness.js';
import type { Logger } from './logger.js';
import type { NodeHandle } from './node-handle.js';
import type { ProcessPool } from './process-pool.js';
import type { RuntimeDir } from './runtime-dir.js';

/** What starting a process needs of the rest of the control. */
export interface ProcessStarterCore {
  liveness: Pick<Liveness, 'interval'>;
  dir: RuntimeDir;
  storage: NodeStorage;
  log: Logger;
}

export interface ProcessStarterOptions {
  startTimeoutMs: number;
  /** This host's name. */
  hostName: string;
}

/** Other hosts, as a start needs them: their agents, the cluster's keys and the address local nodes bind tcp on. */
export interface ProcessStarterCluster {
  agents: Pick<Agents, 'hosts' | 'start'>;
  keys: ClusterKeys;
  bindIp: string;
}

export class ProcessStarter {
  constructor(
    private readonly core: ProcessStarterCore,
    private readonly options: ProcessStarterOptions,
    private readonly pool: ProcessPool,
    /** The link generation in force: a claimed process binds its endpoint of it. */
    private readonly generation: () => number,
    /** A claimed process exited (whenever that is). */
    private readonly exited: (node: NodeHandle, proc: ComputingProcess, exit: Exit) => void,
    private readonly cluster?: ProcessStarterCluster,
  ) {}

  /** Takes a process for `node` (a spare, else a new one) and claims it; resolves once it is ready (its log replayed). */
  async start(node: NodeHandle, fresh: boolean, deadline: number): Promise<void> {
    if (Date.now() >= deadline) throw new ClaimError('no time was left to start the process');
    const remote = this.remoteHost(node);
    if (remote !== undefined) return this.startRemote(node, remote, fresh, deadline);
    // Restarts first: they bring back data that is already acknowledged.
    const proc = await this.pool.acquire(!fresh, deadline);
    // Its create was abandoned, or the gateway is stopping, while it waited for a process.
    if (node.ending || node.state === 'failed') {
      this.pool.giveBack(proc);
      throw new ClaimError('it was given up before its process started');
    }
    await this.claimFor(node, proc, fresh, deadline, this.core.dir.nodeEndpoint(node.id, this.generation()));
  }

  /** The joined host `node` runs on, when it is not this one. */
  private remoteHost(node: NodeHandle): Host | undefined {
    if (node.host === this.options.hostName) return undefined;
    const host = this.cluster?.agents.hosts.get(node.host);
    if (host === undefined) throw new ClaimError(`host ${node.host} is unknown`);
    return host;
  }

  /** Starts `node`'s process on another host, through its agent (no spares there). */
  private async startRemote(node: NodeHandle, host: Host, fresh: boolean, deadline: number): Promise<void> {
    const cluster = this.cluster as ProcessStarterCluster;
    if (!host.connected) throw new ClaimError(`host ${host.name} is not connected`);
    const proc = cluster.agents.start(host, (line) => this.core.log.warn({ node: node.id, host: host.name, stderr: line }, 'computing process wrote to stderr'));
    let timer: NodeJS.Timeout | undefined;
    const loaded = await Promise.race([
      proc.loaded,
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, Math.min(this.options.startTimeoutMs, deadline - Date.now()))))),
    ]).finally(() => clearTimeout(timer));
    if (!loaded) {
      proc.kill();
      throw new ClaimError(proc.why ?? `the process on host ${host.name} did not start in time`);
    }
    await this.claimFor(node, proc, fresh, deadline, `tcp://${host.advertise.includes(':') ? `[${host.advertise}]` : host.advertise}:*`);
  }

  /** Claims `proc` for `node` (listening at `listen`); resolves once it is ready. */
  private async claimFor(node: NodeHandle, proc: ComputingProcess, fresh: boolean, deadline: number, listen: string): Promise<void> {
    const remote = node.host !== this.options.hostName;
    proc.onStderrLine = (line) => this.core.log.warn({ node: node.id, stderr: line }, 'computing process wrote to stderr');
    proc.onBadLine = (problem) => this.core.log.warn({ node: node.id, problem }, 'computing process wrote a bad control line');
    proc.onBound = (tcp) => {
      node.tcpEndpoint = tcp;
      if (remote) node.endpoint = tcp;
    };
    node.process = proc;
    node.pid = proc.pid;
    void proc.exited.then((exit) => this.exited(node, proc, exit));
    const generation = this.generation();
    const cluster = this.cluster;
    try {
      const ready = await proc.claim(
        {
          t: 'claim',
          id: node.id,
          listen,
          log: this.core.storage.logPath(node.id),
          fresh,
          fsync: this.core.storage.fsync,
          intervalMs: this.core.liveness.interval,
          // A local node gets the keys here (its stdin is a private pipe); an agent adds its own copy.
          ...(cluster !== undefined && !remote && { curve: cluster.keys, tcp: `tcp://${cluster.bindIp}:*` }),
        },
        Math.max(0, Math.min(this.options.startTimeoutMs, deadline - Date.now())),
      );
      node.tcpEndpoint = ready.tcp ?? null;
      node.endpoint = remote ? (ready.tcp ?? listen) : listen;
      node.generation = generation;
      if (ready.cutBytes > 0) this.core.log.warn({ node: node.id, cutBytes: ready.cutBytes }, 'cut a torn tail off the log');
      this.core.log.debug({ node: node.id, keys: ready.keys }, 'log replayed');
    } catch (error) {
      if (node.process === proc) node.process = null;
      proc.kill();
      throw error;
    }
  }
}
