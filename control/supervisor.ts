/**
 * @module Supervision: starting a node's process, placing it (the control is the only author of
 * tree links), noticing its exit, and restarting it in place from its log.
 *
 * Starting a process: spawn, `claim` on its control channel (id, endpoint, log), wait for
 * `ready` (log replayed, endpoint bound). Placing it: a `link` message (parent endpoint,
 * children, epoch), answered by a hello through the tree, which proves the new path. A parent
 * is always told of a new child before the child is told to connect, so no hello is refused.
 *
 * Restarts (`--restart always`): a process that exits without being asked to is replaced at
 * once, then after a backoff (restart-policy.ts); its children were never stopped, and are
 * re-pointed at the new process (same pids, same data) once it is attached. A node that keeps
 * crashing is given up (FAILED). A node that stays silent by itself (frozen, or its event loop
 * blocked) for `hangRestartMs` is killed so that it restarts.
 */
import { monotonicMs } from '../computing/protocol/index.js';
import type { ClusterKeys, PeerSpec, ToNode } from '../computing/protocol/index.js';
import type { Agents, Host } from './agents.js';
import type { Exit } from '../lib/supervised-process.js';
import type { Created } from './api.js';
import type { LinkChange } from './balance.js';
import { ClaimError, ComputingProcess, describeExit } from './computing-process.js';
import type { NodeStorage } from './data-dir.js';
import type { Dispatch } from './dispatch.js';
import { ArborError, nodeUnavailable, parentUnavailable } from './errors.js';
import type { NodeEvent } from './events.js';
import type { Liveness } from './liveness.js';
import type { Logger } from './logger.js';
import { NodeHandle } from './node-handle.js';
import type { RuntimeDir } from './runtime-dir.js';
import { ProcessPool } from './process-pool.js';
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
}

/**
 * Other hosts (absent on a single host): the agents, the cluster's keys (given to local nodes on
 * their control channel, so their tcp endpoint and uplinks use CURVE), the address local nodes
 * bind tcp on (the cluster endpoint's), and the control's own tcp endpoint for a remote root.
 */
export interface SupervisorCluster {
  agents: Agents;
  keys: ClusterKeys;
  bindIp: string;
  controlTcp: () => string | undefined;
}

/** What the supervisor needs of the rest of the control. */
export interface SupervisorCore {
  shape: Topology;
  nodes: Map<number, NodeHandle>;
  liveness: Liveness;
  dispatch: Dispatch;
  dir: RuntimeDir;
  storage: NodeStorage;
  log: Logger;
  emit(event: Omit<NodeEvent, 'time'>): void;
  /** Re-derives availability after any change (events, fail-fast, waiters). */
  reassess(): void;
  /** Saves the tree (data dir) after an acknowledged change. */
  persist(): void;
  /** A created node is attached: resolves once the tree is rebalanced around it. */
  attached(id: number): Promise<void>;
  isClosed(): boolean;
}

function reasonOf(error: unknown): string {
  if (error instanceof ArborError) return error.reason ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

/** A link whose hello has not come back by then is sent again. */
const LINK_RETRY_MS = 1000;

export class Supervisor {
  private epoch = 0;
  /** The link generation in force: the endpoints bound now, and the heartbeat settings they carry. */
  private generation = 0;
  private readonly hangTimers = new Map<number, NodeJS.Timeout>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  /** Where processes come from (spares started ahead). */
  readonly pool: ProcessPool;
  /** Creates in progress, and how to end each at once. */
  private readonly creating = new Map<number, (error: ArborError) => void>();
  /** Creates sending their new node its first link. */
  private readonly attaching = new Set<Promise<void>>();
  private readonly noneStartingWaiters: (() => void)[] = [];
  /** Restarts waiting for their host's agent to join again. */
  private readonly hostWaiters = new Map<string, (() => void)[]>();

  constructor(
    private readonly core: SupervisorCore,
    private readonly options: SupervisorOptions,
    private readonly cluster?: SupervisorCluster,
  ) {
    const spawn = (): ComputingProcess =>
      ComputingProcess.spawn(options.computingEntry, options.computingExecArgv, (line) => core.log.warn({ spare: true, stderr: line }, 'spare computing process wrote to stderr'));
    this.pool = new ProcessPool(spawn, () => (core.isClosed() ? 0 : Math.max(0, Math.min(options.poolSize, options.maxNodes - core.shape.size))), core.log);
  }

  /**
   * Starts node `id` (already checked: new, placed under `parent`) and resolves once it is
   * reachable. On any failure the node is taken out of the tree again.
   */
  async create(id: number, deadline: number, host: string = this.options.hostName): Promise<Created> {
    const { shape, nodes } = this.core;
    shape.insert(id);
    const node = new NodeHandle(id, 'starting', this.core.log);
    node.host = host;
    nodes.set(id, node);
    // Ends the create at once when its parent goes down for good (see afterReassess).
    let abort: (error: ArborError) => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => (abort = reject));
    aborted.catch(() => undefined);
    const step = <T>(work: Promise<T>): Promise<T> => Promise.race([work, aborted]);
    this.creating.set(id, abort);
    const parentOf = (): number | null => shape.get(id)?.parent ?? null;
    try {
      const started = this.start(node, true, deadline);
      started.catch(() => undefined);
      // Until it is attached the node may be carried elsewhere by a rotation: wait for the parent
      // it has now, and go on only once that one is reachable (not held by a relink).
      let parent = parentOf();
      for (;;) {
        if (parent !== null) {
          const above = parent;
          await step(this.core.dispatch.whenReachable(above, deadline, () => parentUnavailable(above, this.core.liveness.whyDown(above)))).catch(
            (error: unknown) => {
              throw error instanceof ArborError && error.message.startsWith('Parent') ? error : parentUnavailable(above, reasonOf(error));
            },
          );
        }
        await step(started);
        const now = parentOf();
        if (now === parent && (parent === null || this.core.dispatch.reachability(parent) === 'ok')) break;
        parent = now;
      }
      // The parent hears of its child as the child is told to connect; the child's hello, which
      // passes through the parent, answers both (a frame that beats the parent's link is held there).
      if (parent !== null) this.tell(nodes.get(parent) as NodeHandle);
      const above = parent;
      const attach = this.placed(node, deadline, () =>
        above === null ? nodeUnavailable(id, 'the new process did not connect in time') : parentUnavailable(above, 'the new process did not connect through it in time'),
      );
      this.attaching.add(attach);
      try {
        await step(attach);
      } finally {
        this.attaching.delete(attach);
      }
      node.attached = true;
      node.available = true;
      node.transition('running', `created as pid ${node.pid}`);
      if (parent === null) this.core.liveness.watchRoot(id);
      this.core.emit({ kind: 'created', id, reason: `pid ${node.pid}, under ${parent ?? 'control'}`, pid: node.pid ?? undefined });
      this.core.reassess();
      this.creating.delete(id);
      // Answered once the tree is balanced again: the response names the parent it has then.
      await this.core.attached(id);
      this.core.persist();
      return { id, pid: node.pid as number, parent: parentOf() };
    } catch (error) {
      if (node.state === 'starting') this.abandon(node);
      throw error instanceof ClaimError ? new ArborError('unavailable', `Node ${id} could not start: ${error.message}`) : error;
    } finally {
      this.creating.delete(id);
    }
  }

  /** Resolves once no create is linking its new node (a relink must not change links under it). */
  async attachesSettled(): Promise<void> {
    await Promise.all([...this.attaching].map((a) => a.catch(() => undefined)));
  }

  /** Resolves once no node is being created. */
  noneStarting(): Promise<void> {
    if (![...this.core.nodes.values()].some((n) => n.state === 'starting')) return Promise.resolve();
    return new Promise((resolve) => this.noneStartingWaiters.push(resolve));
  }

  /** Sends each live node of `changes` its new place and waits for their hellos (at most LINK_RETRY_MS). */
  async relink(changes: readonly LinkChange[]): Promise<void> {
    const answers: Promise<void>[] = [];
    for (const change of changes) {
      const node = this.core.nodes.get(change.id);
      // A node still starting is placed from the shape when it attaches; one restarting, when it is back.
      if (node === undefined || node.state !== 'running' || node.process === null) continue;
      const parent = change.parent === null ? undefined : this.core.nodes.get(change.parent);
      const answer = this.placed(node, Date.now() + LINK_RETRY_MS, () => nodeUnavailable(node.id)).then(
        () => undefined,
        () => {
          // No hello in time: it is re-attached (linked again) once its path works.
          node.attached = false;
        },
      );
      // Its hello can come only through a live parent: wait for it only then.
      if (parent === undefined || (parent.state === 'running' && parent.process !== null)) answers.push(answer);
    }
    await Promise.all(answers);
  }

  /** Stops `node`'s process for good (remove): no restart follows. */
  async stopForRemove(node: NodeHandle): Promise<void> {
    this.clearHang(node.id);
    if (!node.ending) node.transition('stopping', 'removed');
    node.awaitedLinks.clear();
    const proc = node.process;
    node.process = null;
    if (proc !== null) await proc.stop();
    node.transition('stopped', 'removed');
  }

  /** Starts every node of a saved tree from its log (a gateway started again on its data dir). */
  restore(hosts: ReadonlyMap<number, string> = new Map()): void {
    for (const place of this.core.shape.preorder()) {
      const node = new NodeHandle(place.id, 'restarting', this.core.log);
      node.host = hosts.get(place.id) ?? this.options.hostName;
      node.hostLost = node.host !== this.options.hostName;
      node.reason = 'restoring from the data dir';
      this.core.nodes.set(place.id, node);
      void this.restartLoop(node, true);
    }
  }

  /** The node's process exited. */
  private exited(node: NodeHandle, proc: ComputingProcess, exit: Exit): void {
    if (node.process !== proc) return;
    node.process = null;
    node.lastExit = exit;
    this.clearHang(node.id);
    // Only a serving process's exit is a crash; a start that fails is handled where it was started.
    if (node.state !== 'running' || this.core.isClosed()) return;
    const reason = node.hangKilled && node.reason !== null ? node.reason : (proc.fatal ?? describeExit(exit));
    node.hangKilled = false;
    node.reason = reason;
    node.attached = false;
    node.awaitedLinks.clear();
    for (const child of this.core.shape.children(node.id)) this.detach(child);
    if (this.core.shape.root === node.id) this.core.liveness.unwatchRoot(node.id);
    this.core.emit({
      kind: 'exited',
      id: node.id,
      reason,
      ...(exit.code !== null && { exitCode: exit.code }),
      ...(exit.signal !== null && { signal: exit.signal }),
    });
    if (this.options.restart === 'never') {
      node.transition('exited', reason);
      this.core.reassess();
      return;
    }
    node.transition('restarting', reason);
    this.core.reassess();
    void this.restartLoop(node, false);
  }

  /** Links every running node that is not attached, once the node above it can pass its hello on. */
  attachWaiting(): void {
    const { shape, nodes } = this.core;
    for (const place of shape.preorder()) {
      const node = nodes.get(place.id);
      if (node === undefined || node.state !== 'running' || node.attached || node.attaching) continue;
      const parent = place.parent === null ? undefined : nodes.get(place.parent);
      // Not into a path that is being relinked: the relink places it.
      if ((parent !== undefined && !parent.available) || this.core.dispatch.isHeld(place.id)) continue;
      node.attaching = true;
      // Its parent learns its (new) process first; a hello that beats that is held there.
      if (parent !== undefined && parent.state === 'running') this.tell(parent);
      void this.placed(node, Date.now() + LINK_RETRY_MS, () => nodeUnavailable(node.id)).then(
        () => {
          node.attaching = false;
          node.attached = true;
          if (place.parent === null) this.core.liveness.watchRoot(node.id);
          this.core.reassess();
        },
        () => {
          // No hello in time (its parent died meanwhile, or it is frozen): try again on the next change.
          node.attaching = false;
          this.core.reassess();
        },
      );
    }
  }

  /** A hello came up the tree: the node answered link `epoch`, holding `keys` names. */
  hello(id: number, epoch: number, keys: number): boolean {
    const node = this.core.nodes.get(id);
    if (node === undefined) return false;
    let answered = false;
    for (const [sent, resolve] of node.awaitedLinks) {
      if (sent > epoch) continue;
      node.awaitedLinks.delete(sent);
      resolve();
      answered = true;
    }
    // A stale hello (an older link's) may predate stores already counted: only a current one resets the count.
    if (answered) node.keys = keys;
    return answered;
  }

  /**
   * Availability was re-derived: creates whose parent went down for good end now, and the hang
   * clocks of nodes silent by themselves start or stop.
   */
  afterReassess(): void {
    for (const [id, abort] of this.creating) {
      const parent = this.core.shape.get(id)?.parent ?? null;
      if (parent === null) continue;
      const above = this.core.dispatch.reachability(parent);
      if (above instanceof ArborError) {
        this.creating.delete(id);
        abort(parentUnavailable(parent, above.reason));
      }
    }
    if (this.noneStartingWaiters.length > 0 && ![...this.core.nodes.values()].some((n) => n.state === 'starting')) {
      for (const resolve of this.noneStartingWaiters.splice(0)) resolve();
    }
    this.watchHangs();
  }

  private watchHangs(): void {
    if (this.options.hangRestartMs === 0) return;
    for (const node of this.core.nodes.values()) {
      // Not one whose host is away: the agent cannot be asked to kill it, and it is not hung.
      const silent = node.state === 'running' && !node.hostLost && this.core.liveness.ownDown(node)?.cause === 'silence';
      if (!silent) this.clearHang(node.id);
      else if (!this.hangTimers.has(node.id)) {
        const timer = setTimeout(() => this.hung(node), this.options.hangRestartMs);
        timer.unref();
        this.hangTimers.set(node.id, timer);
      }
    }
  }

  /** Stops every process (the control is closing). */
  async stopAll(): Promise<void> {
    for (const timer of this.restartTimers) clearTimeout(timer);
    const spares = this.pool.close();
    for (const id of [...this.hangTimers.keys()]) this.clearHang(id);
    await Promise.all(
      [...this.core.nodes.values()].map(async (node) => {
        if (!node.ending) node.transition('stopping', 'the gateway is stopping');
        node.awaitedLinks.clear();
        const proc = node.process;
        if (proc !== null) await proc.stop();
        node.transition('stopped', 'stopped');
      }),
    );
    await spares;
  }

  /** Takes a process for `node` (a spare, else a new one) and claims it; resolves once it is ready (its log replayed). */
  private async start(node: NodeHandle, fresh: boolean, deadline: number): Promise<void> {
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
    await this.claimFor(node, proc, fresh, deadline, this.core.dir.nodeEndpoint(node.id, this.generation));
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
    const cluster = this.cluster as SupervisorCluster;
    if (!host.connected) throw new ClaimError(`host ${host.name} is not connected`);
    const proc = cluster.agents.start(host, (line) => this.core.log.warn({ node: node.id, host: host.name, stderr: line }, 'computing process wrote to stderr'));
    let timer: NodeJS.Timeout | undefined;
    const loaded = await Promise.race([
      proc.loaded,
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())))),
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
    const generation = this.generation;
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

  /** A child as its parent must know it: the node and its current process (none: null pid). */
  private specOf(id: number | null): PeerSpec | null {
    if (id === null) return null;
    const node = this.core.nodes.get(id);
    return { id, pid: node?.process != null ? node.pid : null };
  }

  /** Sends `node` its place, without waiting for its answer. */
  private tell(node: NodeHandle): void {
    this.placed(node, Date.now() + LINK_RETRY_MS, () => nodeUnavailable(node.id)).catch(() => undefined);
  }

  /**
   * Gives the whole tree a new heartbeat interval: a new generation of endpoints, bound with the
   * new ZMTP settings (libzmq takes them at bind). The control's endpoint moves first (`moveControl`),
   * then the tree top-down, a depth at a time: each node binds its new endpoint, moves its uplink
   * to its parent's new one and says hello through parents that are done already, so no hello is
   * cut off. The caller holds every command meanwhile; the interval in force is already the new one,
   * so a process started meanwhile is claimed with it.
   */
  async reheartbeat(intervalMs: number, moveControl: (endpoint: string) => Promise<void>): Promise<void> {
    const generation = ++this.generation;
    await moveControl(this.core.dir.controlEndpoint(generation));
    const depths = new Map<number, number>();
    for (const place of this.core.shape.preorder()) depths.set(place.id, this.core.shape.depth(place.id));
    const deepest = Math.max(-1, ...depths.values());
    for (let depth = 0; depth <= deepest; depth++) {
      const layer = [...depths].filter(([, d]) => d === depth).map(([id]) => this.core.nodes.get(id));
      await Promise.all(
        layer.map((node) => {
          if (node === undefined || node.state !== 'running' || node.process === null || node.generation === generation) return Promise.resolve();
          return this.ask(node, Date.now() + LINK_RETRY_MS, () => nodeUnavailable(node.id), (epoch) => this.intervalMessage(node, epoch, intervalMs)).catch(() => {
            node.attached = false;
          });
        }),
      );
    }
  }

  /** The current generation's `interval` message for `node`; from now on it listens there. */
  private intervalMessage(node: NodeHandle, epoch: number, intervalMs: number): ToNode {
    const host = node.host === this.options.hostName ? undefined : this.cluster?.agents.hosts.get(node.host);
    // On another host the new endpoint is a new tcp port: the node says which (`bound`) before its hello.
    const listen = host === undefined ? this.core.dir.nodeEndpoint(node.id, this.generation) : `tcp://${host.advertise}:*`;
    const message: ToNode = { t: 'interval', intervalMs, epoch, listen, parent: this.parentEndpoint(node.id) };
    if (host === undefined) node.endpoint = listen;
    node.generation = this.generation;
    return message;
  }

  /** Where `id`'s uplink connects: its parent's endpoint, or the control's. */
  private parentEndpoint(id: number): string {
    const parent = this.core.shape.get(id)?.parent ?? null;
    const host = this.core.nodes.get(id)?.host ?? this.options.hostName;
    if (parent === null) {
      // The root on another host reaches the control over tcp with CURVE.
      const tcp = host === this.options.hostName ? undefined : this.cluster?.controlTcp();
      return tcp ?? this.core.dir.controlEndpoint(this.generation);
    }
    const above = this.core.nodes.get(parent);
    // A parent on another host: its tcp endpoint (CURVE); on the same host: its own endpoint (ipc here, tcp on agent hosts).
    if (above !== undefined && above.host !== host && above.tcpEndpoint !== null) return above.tcpEndpoint;
    return above?.endpoint ?? this.core.dir.nodeEndpoint(parent, this.generation);
  }

  /** A host joined, came back or was lost: restarts waiting for it go on. */
  hostChanged(host: Host): void {
    if (!host.connected) return;
    for (const resolve of this.hostWaiters.get(host.name)?.splice(0) ?? []) resolve();
  }

  /** Resolves once `name`'s agent is connected (at once for this host). */
  private hostConnected(name: string): Promise<void> {
    if (name === this.options.hostName || this.cluster?.agents.hosts.get(name)?.connected === true) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.hostWaiters.get(name) ?? [];
      waiters.push(resolve);
      this.hostWaiters.set(name, waiters);
    });
  }

  /** Sends `node` its place and resolves when its hello comes back (or rejects with `onTimeout()` at `deadline`). */
  private placed(node: NodeHandle, deadline: number, onTimeout: () => ArborError): Promise<void> {
    const place = this.core.shape.get(node.id);
    if (place === undefined) return Promise.reject(onTimeout());
    // Started before the tree moved to a new heartbeat generation: it moves first (its link follows in order).
    if (node.generation !== this.generation && node.process !== null) {
      const epoch = ++this.epoch;
      // Its hello is expected (not a stale one); the link's hello answers it too.
      node.awaitedLinks.set(epoch, () => undefined);
      node.process.send(this.intervalMessage(node, epoch, this.core.liveness.interval));
    }
    return this.ask(node, deadline, onTimeout, (epoch) => {
      this.core.log.debug({ node: node.id, epoch, parent: place.parent, left: place.left, right: place.right }, 'link sent');
      return {
        t: 'link',
        epoch,
        parent: this.parentEndpoint(node.id),
        left: this.specOf(place.left),
        right: this.specOf(place.right),
      };
    });
  }

  /** Sends `node` a message that it answers with a hello through the tree carrying its epoch. */
  private ask(node: NodeHandle, deadline: number, onTimeout: () => ArborError, message: (epoch: number) => ToNode): Promise<void> {
    const proc = node.process;
    if (proc === null) return Promise.reject(onTimeout());
    const epoch = ++this.epoch;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          node.awaitedLinks.delete(epoch);
          reject(onTimeout());
        },
        Math.max(0, deadline - Date.now()),
      );
      node.awaitedLinks.set(epoch, () => {
        clearTimeout(timer);
        resolve();
      });
      proc.send(message(epoch));
    });
  }

  private async restartLoop(node: NodeHandle, restoring: boolean): Promise<void> {
    let first = restoring;
    for (;;) {
      if (node.ending || this.core.isClosed()) return;
      // Its data is on its host: it stays down until that host's agent is back (no restart counted meanwhile).
      if (node.host !== this.options.hostName && this.cluster?.agents.hosts.get(node.host)?.connected !== true) {
        node.reason = `host ${node.host} is not connected`;
        await this.hostConnected(node.host);
        if (node.ending || this.core.isClosed()) return;
      }
      if (!first) {
        const decision = node.policy.next(monotonicMs());
        if (!decision.restart) {
          node.reason = `given up: ${decision.reason}; last: ${node.reason ?? 'unknown'}`;
          node.transition('failed', node.reason);
          this.core.emit({ kind: 'failed', id: node.id, reason: node.reason });
          this.core.reassess();
          return;
        }
        if (decision.delayMs > 0) await this.pause(decision.delayMs);
        if (node.ending || this.core.isClosed()) return;
      }
      try {
        await this.start(node, false, Date.now() + this.options.startTimeoutMs);
      } catch (error) {
        node.reason = error instanceof Error ? error.message : String(error);
        this.core.log.warn({ node: node.id, reason: node.reason }, 'restart attempt failed');
        first = false;
        continue;
      }
      if (node.ending || this.core.isClosed()) {
        // Removed (or the gateway is stopping) while this process started: it has no place.
        node.process?.kill();
        return;
      }
      if (!restoring) node.restarts++;
      node.transition('running', restoring ? `restored as pid ${node.pid}` : `restarted as pid ${node.pid}`);
      if (!restoring) this.core.emit({ kind: 'restarted', id: node.id, reason: `pid ${node.pid}`, pid: node.pid ?? undefined });
      this.core.persist();
      this.core.reassess();
      return;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.restartTimers.delete(timer);
        resolve();
      }, ms);
      this.restartTimers.add(timer);
    });
  }

  /** Its parent's process is gone: its uplink must be confirmed again. */
  private detach(id: number): void {
    const child = this.core.nodes.get(id);
    if (child === undefined) return;
    child.attached = false;
    child.awaitedLinks.clear();
  }

  private hung(node: NodeHandle): void {
    this.hangTimers.delete(node.id);
    if (node.state !== 'running' || node.process === null || this.core.liveness.ownDown(node)?.cause !== 'silence') return;
    node.hangKilled = true;
    node.reason = `killed by the control: silent for ${this.options.hangRestartMs} ms (hung)`;
    this.core.log.warn({ node: node.id, hangRestartMs: this.options.hangRestartMs }, 'node hung: killing it to restart it');
    node.process.kill();
  }

  private clearHang(id: number): void {
    const timer = this.hangTimers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.hangTimers.delete(id);
  }

  /** A create failed: the node (and any starting node below it) leaves the tree. */
  private abandon(node: NodeHandle): void {
    const { shape, nodes } = this.core;
    node.process?.kill();
    node.process = null;
    const place = shape.get(node.id);
    const parentId = place?.parent ?? null;
    if (nodes.get(node.id) === node) {
      for (const removed of shape.removeSubtree(node.id)) {
        const handle = nodes.get(removed.id);
        nodes.delete(removed.id);
        if (handle !== undefined && handle !== node) handle.process?.kill();
      }
    }
    if (!node.ending) node.transition('stopped', 'its create failed');
    // The parent no longer has this child: tell it, so only the control's links count.
    const parent = parentId === null ? undefined : nodes.get(parentId);
    if (parent?.state === 'running' && parent.attached) this.tell(parent);
    this.core.reassess();
  }
}
