/**
 * @module Supervision: every node's processes, one loop per node. The supervisor owns the node
 * handles (who exists) and their processes: starting one (a spare from the pool, or an agent's
 * on another host), claiming it on its control channel (id, endpoint, log, liveness), noticing
 * its exit, restarting it in place from its log after a backoff (restart-policy.ts), giving it
 * up when it keeps crashing, killing it when it hangs, and stopping it.
 *
 *   create ──▶ start ──▶ (links: first hello) ──▶ running ──▶ exit ──▶ restart ──▶ running ...
 *                                                                 └──▶ failed / exited
 *
 * A restarted node's children were never stopped: they keep their pids and data, and are linked
 * to the new process once it runs (links.ts). A node that stays silent by itself (frozen, or its
 * event loop blocked) for `hangRestartMs` is killed, so that its exit brings the usual restart.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClusterKeys, monotonicMs } from '../link/index.js';
import type { Exit } from '../lib/supervised-process.js';
import type { Logger } from '../lib/logger.js';
import type { NodeEvent } from './api.js';
import { Chains, type FollowerPlace } from './chains.js';
import type { Agents, Host } from './hosts.js';
import type { Liveness } from './liveness.js';
import { type Life, NodeHandle } from './node.js';
import { ProcessPool } from './pool.js';
import { ClaimError, ComputingProcess, describeExit } from './process.js';
import type { NodeStorage, RuntimeDir } from './storage.js';
import type { Topology } from './topology.js';

export interface SupervisorOptions {
  computingEntry: string;
  computingExecArgv: readonly string[];
  startTimeoutMs: number;
  restart: 'always' | 'never';
  /** Kill a node silent by itself for this long (0: never). */
  hangRestartMs: number;
  /** Spare processes to keep started ahead (0: none; each start then waits for a whole process start). */
  poolSize: number;
  /** The node limit: spares count against it. */
  maxNodes: number;
  /** This host's name. */
  hostName: string;
  /** Copies of each node (2: a follower beside each; chains.ts). Default 1. */
  replicas?: 1 | 2;
  /** --replicas 2: a follower acknowledging nothing this long while records wait is lost (chains.ts `followerLateMs`). */
  followerLateMs: () => number;
}

/** Other hosts (absent on a single host): the agents, the cluster's keys, the address local nodes bind tcp on. */
export interface SupervisorCluster {
  agents: Agents;
  keys: ClusterKeys;
  bindIp: string;
}

/** What the supervisor needs of the rest of the control. */
export interface SupervisorCore {
  shape: Topology;
  liveness: Pick<Liveness, 'watch' | 'unwatch' | 'beat' | 'verdict' | 'config' | 'endpoint' | 'tcpEndpoint'>;
  dir: RuntimeDir;
  storage: NodeStorage;
  log: Logger;
  emit(event: Omit<NodeEvent, 'time'>): void;
  /** A node's life changed: re-derive what follows. */
  changed(): void;
  /** The requests in flight through node `id` are lost with its process. */
  lost(id: number): void;
  persist(): void;
  /** Whether commands are in flight or waiting: the pool's refills wait for a quiet moment. */
  busy(): boolean;
  /** Whether the agent of host `name` is connected (this host always is). */
  hostConnected(name: string): boolean;
  /** The control's shutdown: every loop, backoff and wait ends with it. */
  stopping: AbortSignal;
}

export class Supervisor {
  private readonly nodes = new Map<number, NodeHandle>();
  /** Where processes come from on this host (spares started ahead). */
  readonly pool: ProcessPool;
  private readonly hangTimers = new Map<number, NodeJS.Timeout>();
  /** Nodes killed because they hung, and why: their exit is expected, their restart is not. */
  private readonly hung = new Map<number, string>();
  /** Restarts waiting for their host's agent to join again. */
  private readonly hostWaiters = new Map<string, (() => void)[]>();
  /** --replicas 2 only: every node's chain (null: one copy, nothing of chains runs). */
  readonly chains: Chains | null;

  constructor(
    private readonly core: SupervisorCore,
    private readonly options: SupervisorOptions,
    private readonly cluster?: SupervisorCluster,
  ) {
    const spawn = (): ComputingProcess =>
      ComputingProcess.spawn(options.computingEntry, options.computingExecArgv, (line) => core.log.warn({ spare: true, stderr: line }, 'spare computing process wrote to stderr'));
    this.pool = new ProcessPool(
      spawn,
      () => (this.closed ? 0 : Math.max(0, Math.min(options.poolSize, options.maxNodes - core.shape.size))),
      core.log,
      () => core.busy(),
      options.startTimeoutMs,
      () => (this.closed ? 0 : options.maxNodes - core.shape.size),
    );
    this.chains =
      options.replicas === 2
        ? new Chains({
            storage: core.storage,
            log: core.log,
            stopping: core.stopping,
            lateMs: options.followerLateMs,
            startFollower: (id, log, epoch, place) => this.startFollower(id, log, epoch, place),
            hostOf: (id) => this.nodes.get(id)?.host ?? options.hostName,
            usable: (host) => core.hostConnected(host),
            localHost: options.hostName,
            spreads: cluster !== undefined,
          })
        : null;
  }

  private get closed(): boolean {
    return this.core.stopping.aborted;
  }

  get(id: number): NodeHandle | undefined {
    return this.nodes.get(id);
  }

  all(): IterableIterator<NodeHandle> {
    return this.nodes.values();
  }

  /**
   * A new node `id` (already in the shape) on `host`: its handle, and its process starting now
   * (`started` resolves once it is ready, or rejects with ClaimError). The caller links it, then
   * calls `running` or `abandon`.
   */
  create(id: number, host: string, deadline: number): { node: NodeHandle; started: Promise<void> } {
    const node = this.add(id, host, { t: 'starting', proc: null });
    const started = this.start(node, true, deadline);
    started.catch(() => undefined);
    return { node, started };
  }

  /** A created node answered its first link: it serves, and is supervised from now on. */
  running(node: NodeHandle): void {
    const life = node.state;
    if (life.t !== 'starting' || life.proc === null) return;
    const proc = life.proc;
    node.set({ t: 'running', proc, linked: true }, `created as pid ${proc.pid}`);
    void this.supervise(node, proc);
  }

  /** A create failed: its process (if any) is killed and the node forgotten; the caller takes it out of the shape. */
  abandon(node: NodeHandle): void {
    const proc = node.process;
    this.core.liveness.unwatch(node.id);
    proc?.kill();
    if (!node.ending) node.set({ t: 'stopped', why: 'its create failed' }, 'its create failed');
    if (this.nodes.get(node.id) === node) this.nodes.delete(node.id);
  }

  /** Starts every node of a saved tree from its log (a gateway started again on its data dir). */
  restore(hosts: ReadonlyMap<number, string>): void {
    for (const place of this.core.shape.preorder()) {
      const node = this.add(place.id, hosts.get(place.id) ?? this.options.hostName, { t: 'restarting', reason: 'restoring from the data dir', lastExit: null, proc: null });
      void this.restartThenSupervise(node, true);
    }
  }

  /** Stops a removed node's process for good: no restart follows. */
  async stopForRemove(node: NodeHandle): Promise<void> {
    this.clearHang(node.id);
    const proc = node.ending ? null : node.process;
    if (!node.ending) node.set({ t: 'stopping', why: 'removed', proc }, 'removed');
    this.core.liveness.unwatch(node.id);
    await Promise.all([proc?.stop(), this.chains?.stop(node.id)]);
    node.set({ t: 'stopped', why: 'removed' }, 'removed');
  }

  /** Forgets a removed node (its handle); its log is deleted. */
  forget(id: number): void {
    this.nodes.delete(id);
    this.core.storage.removeLog(id);
    this.chains?.forget(id);
  }

  /**
   * A host joined, came back, went away or was lost: restarts waiting for it go on. --replicas 2:
   * a lost host's leaders whose followers can take over are given up (their processes count as
   * gone: their restarts promote the followers), its followers are replaced; a joined host takes
   * the followers that had to share their leader's host.
   */
  hostChanged(host: Host): void {
    if (host.connected) this.chains?.spread();
    else if (host.lost && this.chains !== null) {
      for (const node of this.nodes.values()) {
        if (node.host === host.name && node.state.t === 'running' && this.chains.canTakeOver(node.id)) node.process?.kill();
      }
      this.chains.hostLost(host.name);
    }
    if (host.connected || host.lost) for (const resolve of this.hostWaiters.get(host.name)?.splice(0) ?? []) resolve();
  }

  /**
   * Availability was re-derived: the hang clock of each node silent by itself starts or stops.
   * Not one whose host is away: the agent cannot be asked to kill it, and it is not hung.
   */
  checkHangs(): void {
    if (this.options.hangRestartMs === 0 || this.closed) return;
    for (const node of this.nodes.values()) {
      const silent = node.state.t === 'running' && this.core.hostConnected(node.host) && this.core.liveness.verdict(node.id) !== undefined;
      if (!silent) this.clearHang(node.id);
      else if (!this.hangTimers.has(node.id)) {
        const timer = setTimeout(() => this.killHung(node), this.options.hangRestartMs);
        timer.unref();
        this.hangTimers.set(node.id, timer);
      }
    }
  }

  /** Stops every process (the control is closing: its shutdown signal has been aborted). */
  async stopAll(): Promise<void> {
    for (const id of [...this.hangTimers.keys()]) this.clearHang(id);
    for (const waiters of this.hostWaiters.values()) for (const resolve of waiters.splice(0)) resolve();
    const spares = this.pool.close();
    await Promise.all(
      [...this.nodes.values()].map(async (node) => {
        if (node.state.t === 'stopped') return;
        const proc = node.ending ? null : node.process;
        if (!node.ending) node.set({ t: 'stopping', why: 'the gateway is stopping', proc }, 'the gateway is stopping');
        await Promise.all([proc?.stop(), this.chains?.stop(node.id)]);
        if ((node.state as Life).t !== 'stopped') node.set({ t: 'stopped', why: 'stopped' }, 'stopped');
      }),
    );
    await spares;
  }

  private add(id: number, host: string, initial: Extract<Life, { t: 'starting' } | { t: 'restarting' }>): NodeHandle {
    const node = new NodeHandle(id, host, initial, this.core.log, () => this.core.changed());
    this.nodes.set(id, node);
    return node;
  }

  /** The loop of a serving node: each exit of its process brings a restart (or the end). */
  private async supervise(node: NodeHandle, first: ComputingProcess): Promise<void> {
    let proc: ComputingProcess | null = first;
    while (proc !== null) {
      const exit = await proc.exited;
      if (node.process !== proc || node.ending || this.closed) return;
      this.exited(node, proc, exit);
      proc = node.state.t === 'restarting' ? await this.restart(node, false) : null;
    }
  }

  private async restartThenSupervise(node: NodeHandle, restoring: boolean): Promise<void> {
    const proc = await this.restart(node, restoring);
    if (proc !== null) await this.supervise(node, proc);
  }

  /** Its serving process exited unasked: the node restarts, or stays down (`--restart never`). */
  private exited(node: NodeHandle, proc: ComputingProcess, exit: Exit): void {
    this.core.liveness.unwatch(node.id);
    this.clearHang(node.id);
    const reason = this.hung.get(node.id) ?? proc.fatal ?? describeExit(exit);
    this.hung.delete(node.id);
    // Requests through it are lost with it; its children's path must be made again.
    this.core.lost(node.id);
    for (const child of this.core.shape.children(node.id)) this.nodes.get(child)?.setLinked(false, `its parent ${node.id} exited`);
    this.core.emit({
      kind: 'exited',
      id: node.id,
      reason,
      ...(exit.code !== null && { exitCode: exit.code }),
      ...(exit.signal !== null && { signal: exit.signal }),
    });
    if (this.options.restart === 'never') node.set({ t: 'exited', reason, lastExit: exit }, reason);
    else node.set({ t: 'restarting', reason, lastExit: exit, proc: null }, reason);
  }

  /**
   * Restarts `node` from its log, after the backoff its policy says (the first restart at once),
   * until a process serves it; gives it up (FAILED) when it keeps crashing. A node on another
   * host waits for that host's agent, since its data is there. Null when it is given up, removed
   * or the gateway stops.
   */
  private async restart(node: NodeHandle, restoring: boolean): Promise<ComputingProcess | null> {
    let first = restoring;
    // --replicas 2: the follower promoted by a takeover, claimed as the leader instead of a new process.
    let promoted: ComputingProcess | undefined;
    const reasonNow = (): string => node.reason ?? 'unknown';
    const setReason = (reason: string): void => {
      const life = node.state;
      if (life.t === 'restarting') node.set({ ...life, reason }, reason);
    };
    for (;;) {
      if (node.ending || this.closed) return null;
      if (!this.core.hostConnected(node.host)) {
        // --replicas 2: its host is lost and its follower is a copy elsewhere: it takes over.
        if (this.chains !== null && this.cluster?.agents.hosts.get(node.host)?.lost === true) {
          const to = this.chains.takeover(node.id, `its host ${node.host} was lost`);
          if (to !== null) {
            node.moveTo(to.host, `its follower there took over (host ${node.host} was lost)`);
            promoted = to.proc;
            first = true;
            continue;
          }
        }
        setReason(`host ${node.host} is not connected`);
        await this.hostBack(node.host);
        continue;
      }
      if (!first) {
        const decision = node.policy.next(monotonicMs());
        if (!decision.restart) {
          const reason = `given up: ${decision.reason}; last: ${reasonNow()}`;
          const life = node.state;
          node.set({ t: 'failed', reason, lastExit: life.t === 'restarting' ? life.lastExit : null }, reason);
          this.core.emit({ kind: 'failed', id: node.id, reason });
          return null;
        }
        if (decision.delayMs > 0) {
          await sleep(decision.delayMs, undefined, { signal: this.core.stopping }).catch(() => undefined);
          if (node.ending || this.closed) return null;
        }
      }
      first = false;
      const reuse = promoted;
      promoted = undefined;
      try {
        await this.start(node, false, Date.now() + this.options.startTimeoutMs, reuse);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.core.log.warn({ node: node.id, reason }, 'restart attempt failed');
        setReason(reason);
        // --replicas 2: it cannot restart in place; its follower's copy takes over (at once) if it is one.
        const to = this.chains !== null && !node.ending && !this.closed ? this.chains.takeover(node.id, reason) : null;
        if (to !== null) {
          node.moveTo(to.host, `its follower there took over (${reason})`);
          promoted = to.proc;
          first = true;
        }
        continue;
      }
      const life = node.state;
      if (life.t !== 'restarting' || life.proc === null || this.closed) {
        // Removed (or the gateway is stopping) while this process started: it has no place.
        node.process?.kill();
        return null;
      }
      if (!restoring) node.restarts++;
      const proc = life.proc;
      node.set({ t: 'running', proc, linked: false }, restoring ? `restored as pid ${proc.pid}` : `restarted as pid ${proc.pid}`);
      if (!restoring) this.core.emit({ kind: 'restarted', id: node.id, reason: `pid ${proc.pid}`, pid: proc.pid });
      this.core.persist();
      return proc;
    }
  }

  /** Resolves once `name`'s agent is connected, or the gateway stops. */
  private hostBack(name: string): Promise<void> {
    if (this.closed || this.core.hostConnected(name)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.hostWaiters.get(name) ?? [];
      waiters.push(resolve);
      this.hostWaiters.set(name, waiters);
    });
  }

  /**
   * Takes a process for `node` and claims it; resolves once it is ready (its log replayed, its
   * endpoint bound) and recorded in the node's state. On this host a process comes from the pool
   * (a spare, else a new one; restarts first: they bring back data that is already
   * acknowledged); on another host its agent starts it (no spares there). Rejects with ClaimError.
   */
  private async start(node: NodeHandle, fresh: boolean, deadline: number, reuse?: ComputingProcess): Promise<void> {
    if (Date.now() >= deadline) throw new ClaimError('no time was left to start the process');
    if (reuse !== undefined) {
      // A promoted follower: running already, on the node's (new) host.
      if (reuse.hasExited) throw new ClaimError('its promoted follower exited');
      return this.claim(node, reuse, fresh, deadline, node.host === this.options.hostName ? this.core.dir.nodeEndpoint(node.id) : this.remoteListen(node.host));
    }
    if (node.host !== this.options.hostName) return this.startRemote(node, fresh, deadline);
    const proc = await this.pool.acquire(!fresh, deadline);
    // Its create was abandoned, or the gateway is stopping, while it waited for a process.
    if (node.ending || node.state.t === 'failed' || this.closed) {
      this.pool.giveBack(proc);
      throw new ClaimError('it was given up before its process started');
    }
    await this.claim(node, proc, fresh, deadline, this.core.dir.nodeEndpoint(node.id));
  }

  /** Starts `node`'s process on another host, through its agent. */
  private async startRemote(node: NodeHandle, fresh: boolean, deadline: number): Promise<void> {
    const host = this.cluster?.agents.hosts.get(node.host);
    if (host === undefined || this.cluster === undefined) throw new ClaimError(`host ${node.host} is unknown`);
    if (!host.connected) throw new ClaimError(`host ${host.name} is not connected`);
    const proc = this.cluster.agents.start(host, (line) => this.core.log.warn({ node: node.id, host: host.name, stderr: line }, 'computing process wrote to stderr'));
    let timer: NodeJS.Timeout | undefined;
    const loaded = await Promise.race([
      proc.loaded,
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, Math.min(this.options.startTimeoutMs, deadline - Date.now()))))),
    ]).finally(() => clearTimeout(timer));
    if (!loaded) {
      proc.kill();
      throw new ClaimError(proc.why ?? `the process on host ${host.name} did not start in time`);
    }
    await this.claim(node, proc, fresh, deadline, this.remoteListen(host.name));
  }

  /** Where a node on agent host `name` listens: tcp on the host's advertised address, a port of its choosing. */
  private remoteListen(name: string): string {
    const advertise = this.cluster?.agents.hosts.get(name)?.advertise ?? '127.0.0.1';
    return `tcp://${advertise.includes(':') ? `[${advertise}]` : advertise}:*`;
  }

  /** Claims `proc` for `node` (listening at `listen`); resolves once it is ready. */
  private async claim(node: NodeHandle, proc: ComputingProcess, fresh: boolean, deadline: number, listen: string): Promise<void> {
    const remote = node.host !== this.options.hostName;
    const life = node.state;
    if (life.t === 'starting') node.set({ t: 'starting', proc }, `claiming pid ${proc.pid}`);
    else if (life.t === 'restarting') node.set({ ...life, proc }, `claiming pid ${proc.pid}`);
    else throw new ClaimError(`it is ${life.t}`);
    proc.onStderrLine = (line) => this.core.log.warn({ node: node.id, stderr: line }, 'computing process wrote to stderr');
    proc.onBadLine = (problem) => this.core.log.warn({ node: node.id, problem }, 'computing process wrote a bad control line');
    const { liveness, storage } = this.core;
    const livenessEndpoint = remote ? liveness.tcpEndpoint : liveness.endpoint;
    try {
      if (livenessEndpoint === undefined) throw new ClaimError(`no liveness endpoint for host ${node.host}`);
      const chains = this.chains;
      const ready = await proc.claim(
        {
          t: 'claim',
          id: node.id,
          listen,
          log: chains === null ? storage.logPath(node.id) : chains.leaderLog(node.id),
          ...(chains !== null && { replica: chains.leaderClaimed(node.id, proc) }),
          fresh,
          fsync: storage.fsync,
          liveness: { endpoint: livenessEndpoint, blockedLoopMs: liveness.config.blockedLoopMs, restAfterMs: liveness.config.restAfterMs },
          // A local node gets the keys here (its stdin is a private pipe); an agent adds its own copy.
          ...(this.cluster !== undefined && !remote && { curve: this.cluster.keys, tcp: `tcp://${this.cluster.bindIp}:*` }),
        },
        Math.max(0, Math.min(this.options.startTimeoutMs, deadline - Date.now())),
      );
      proc.tcpEndpoint = ready.tcp ?? null;
      proc.endpoint = remote ? (ready.tcp ?? listen) : listen;
      if (ready.cutBytes > 0) this.core.log.warn({ node: node.id, cutBytes: ready.cutBytes }, 'cut a torn tail off the log');
      this.core.log.debug({ node: node.id, keys: ready.keys }, 'log replayed');
      node.keys = ready.keys;
      liveness.watch(node.id, proc.pid, !remote);
      proc.onBeat = (quiet) => liveness.beat(node.id, proc.pid, quiet);
      this.chains?.leaderReady(node.id);
    } catch (error) {
      proc.kill();
      const now = node.state;
      if ((now.t === 'starting' || now.t === 'restarting') && now.proc === proc) node.set({ ...now, proc: null }, 'its process could not be claimed');
      throw error;
    }
  }

  /**
   * The host for a follower (pure but for the hosts' state): a connected host other than its
   * leader's and `avoid`'s, the one with the fewest processes (nodes and followers); else the
   * leader's own host (unless `elsewhereOnly`: null). `avoid`, where the last follower was lost,
   * may be cut off without the control knowing yet: a follower beside its leader is a copy now,
   * and it moves to another host later (chains.ts `spread`).
   */
  private followerHost(place: FollowerPlace): string | null {
    const count = new Map<string, number>();
    if (place.leaderHost !== this.options.hostName) count.set(this.options.hostName, 0);
    for (const host of this.cluster?.agents.hosts.values() ?? []) if (host.connected && host.name !== place.leaderHost) count.set(host.name, 0);
    if (place.avoid !== null) count.delete(place.avoid);
    for (const node of this.nodes.values()) if (count.has(node.host)) count.set(node.host, (count.get(node.host) ?? 0) + 1);
    for (const id of this.nodes.keys()) {
      const f = this.chains?.get(id)?.follower;
      if ((f?.t === 'in-sync' || f?.t === 'catching-up') && count.has(f.host)) count.set(f.host, (count.get(f.host) ?? 0) + 1);
    }
    let best: string | null = null;
    for (const [name, n] of count) if (best === null || n < (count.get(best) ?? 0)) best = name;
    if (best !== null || place.elsewhereOnly) return best;
    return this.core.hostConnected(place.leaderHost) ? place.leaderHost : null;
  }

  /**
   * --replicas 2: a follower process for node `id` on a host `place` allows, claimed on the log
   * `log` (emptied first: it gets a snapshot from its leader) at `epoch`; resolves once it
   * listens. It listens on ipc beside a leader on this host, on tcp (CURVE) for a leader
   * elsewhere.
   */
  private async startFollower(id: number, log: string, epoch: number, place: FollowerPlace): Promise<{ proc: ComputingProcess; endpoint: string; host: string }> {
    const hostName = this.followerHost(place);
    if (hostName === null) throw new ClaimError('no other host is connected');
    const deadline = Date.now() + this.options.startTimeoutMs;
    const local = hostName === this.options.hostName;
    const remoteHost = local ? undefined : this.cluster?.agents.hosts.get(hostName);
    let proc: ComputingProcess;
    if (local) {
      proc = await this.pool.acquire(true, deadline);
      if (this.closed) {
        this.pool.giveBack(proc);
        throw new ClaimError('the gateway is stopping');
      }
    } else {
      if (remoteHost === undefined || this.cluster === undefined || !remoteHost.connected) throw new ClaimError(`host ${hostName} is not connected`);
      proc = this.cluster.agents.start(remoteHost, (line) => this.core.log.warn({ node: id, follower: true, host: hostName, stderr: line }, 'follower process wrote to stderr'));
      let timer: NodeJS.Timeout | undefined;
      const loaded = await Promise.race([proc.loaded, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))))]).finally(() =>
        clearTimeout(timer),
      );
      if (!loaded) {
        proc.kill();
        throw new ClaimError(proc.why ?? `the follower process on host ${hostName} did not start in time`);
      }
    }
    const tcp = (ip: string): string => `tcp://${ip.includes(':') ? `[${ip}]` : ip}:*`;
    // Beside a leader on this host: a private ipc path. For a leader elsewhere: tcp with CURVE on this host's cluster address.
    const listen = remoteHost !== undefined ? tcp(remoteHost.advertise) : place.leaderHost === this.options.hostName || this.cluster === undefined ? `${this.core.dir.nodeEndpoint(id)}.copy` : tcp(this.cluster.bindIp);
    proc.onStderrLine = (line) => this.core.log.warn({ node: id, follower: true, stderr: line }, 'follower process wrote to stderr');
    proc.onBadLine = (problem) => this.core.log.warn({ node: id, follower: true, problem }, 'follower process wrote a bad control line');
    const { liveness } = this.core;
    const livenessEndpoint = local ? liveness.endpoint : (liveness.tcpEndpoint ?? liveness.endpoint);
    let endpoint: string;
    try {
      const ready = await proc.claim(
        {
          t: 'claim',
          id,
          listen,
          log,
          fresh: true,
          fsync: this.core.storage.fsync,
          liveness: { endpoint: livenessEndpoint, blockedLoopMs: liveness.config.blockedLoopMs, restAfterMs: liveness.config.restAfterMs },
          follower: { epoch, ...(place.keepOn.has(hostName) && { keep: true }) },
          // A local follower on tcp gets the keys here (an agent adds its own copy).
          ...(local && listen.startsWith('tcp://') && this.cluster !== undefined && { curve: this.cluster.keys }),
        },
        Math.max(0, deadline - Date.now()),
      );
      endpoint = listen.startsWith('tcp://') ? (ready.tcp ?? listen) : listen;
    } catch (error) {
      proc.kill();
      throw error;
    }
    proc.endpoint = endpoint;
    return { proc, endpoint, host: hostName };
  }

  private clearHang(id: number): void {
    const timer = this.hangTimers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.hangTimers.delete(id);
  }

  private killHung(node: NodeHandle): void {
    this.hangTimers.delete(node.id);
    const life = node.state;
    if (life.t !== 'running' || this.core.liveness.verdict(node.id) === undefined) return;
    const reason = `killed by the control: silent for ${this.options.hangRestartMs} ms (hung)`;
    this.hung.set(node.id, reason);
    this.core.log.warn({ node: node.id, hangRestartMs: this.options.hangRestartMs }, 'node hung: killing it to restart it');
    life.proc.kill();
  }
}
