/**
 * @module The control core's public face: it keeps the search tree of computing processes and
 * sends every command down it over ZeroMQ. No gRPC here: the gateway translates.
 *
 * The owners, one concept each (the gateway sees only this class):
 * - `Topology` (topology.ts, plans in balance.ts): the shape;
 * - `Supervisor` (supervisor.ts): the node handles (node.ts) and their processes, one loop per
 *   node: start, exit, restart, hang; processes come from the pool (pool.ts, process.ts), or from
 *   agents on other hosts (hosts.ts);
 * - `Links` (links.ts): links and hellos, creates' first links, rotations and removes;
 * - `Liveness` (liveness.ts): the liveness links and beats, and their verdicts;
 * - `Availability` (availability.ts): what each node is for clients, derived, and its events;
 * - `Requests` (requests.ts): commands waiting or in flight, each ending exactly once;
 * - `RootLink` (root-link.ts): the data path's end at the control;
 * - `SavedTreeKeeper` (saved-tree.ts): what the tree file holds, and when a change may be
 *   acknowledged (with --data-dir: once saved).
 * Every change of a node's life, a verdict, a host or the shape comes here as `changed()`, and
 * what follows is derived in one place (`settle`): events, failing what can no longer be
 * answered, sending what can now go, linking what must be linked again, hang clocks.
 *
 * Ordering: commands are written to the root link in the order they are called, each node is
 * single-threaded and every link is FIFO, so commands to one node run in call order. A command
 * for a node being created, moved, re-linked or restarted waits for it, and only for it.
 */
import { DEFAULT_LIVENESS, encode, FailReason, type LivenessConfig, MAX_KEYS_LIMIT, type Message, type PeerSpec } from '../link/index.js';
import { type Logger, silentLogger } from '../lib/logger.js';
import {
  type CallOptions,
  type ControlOptions,
  type Created,
  DEFAULT_MAX_NODES,
  DEFAULT_POOL_SIZE,
  type DeleteResult,
  type EventListener,
  type ExecResult,
  type KeyEvent,
  type KeyEventListener,
  type KeysResult,
  type NodeEvent,
  type PingResult,
  type TopologySnapshot,
} from './api.js';
import { Availability } from './availability.js';
import { followerLateMs, replicaSnapshot } from './chains.js';
import { maxAvlDepth } from './balance.js';
import { ArborError, diskFull, nodeExists, nodeNotFound, nodeUnavailable, parentNotFound, parentUnavailable, stopping, wrongParent } from './errors.js';
import { Agents, type Host } from './hosts.js';
import { KeyFeed } from './key-feed.js';
import { LINK_TIMINGS, Links } from './links.js';
import { Liveness } from './liveness.js';
import type { NodeHandle } from './node.js';
import { ClaimError, defaultComputingEntry } from './process.js';
import { type Call, type Reach, Requests } from './requests.js';
import { RootLink } from './root-link.js';
import { SavedTreeKeeper } from './saved-tree.js';
import { DataDir, EphemeralStorage, type NodeStorage, RuntimeDir, type SavedTree, waitForOldProcesses } from './storage.js';
import { Supervisor } from './supervisor.js';
import { Topology } from './topology.js';

/**
 * How long a create without a deadline of its own may wait in all: for the starts queued ahead
 * of it (two per core at once), for its parent's create, then its own steps, each bounded by
 * startTimeoutMs. Bounding the whole create by startTimeoutMs failed most of a piped script of
 * 200 creates ("no process could be started in time", then "Parent N is unavailable" for their
 * children), though every start was making progress.
 */
const CREATE_WAIT_MS = 10 * 60_000;

export class Control {
  private readonly shape: Topology;
  private readonly supervisor: Supervisor;
  private readonly links: Links;
  private readonly availability: Availability;
  private readonly requests: Requests;
  private readonly treeKeeper: SavedTreeKeeper;
  private readonly listeners = new Set<EventListener>();
  /** Acknowledged stores and deletes, in each node's order (WatchKeys). */
  private readonly keyFeed = new KeyFeed();
  /** The one shutdown of the control: commands, links, backoffs and waits all end with it. */
  private readonly shutdown = new AbortController();
  private settleQueued = false;
  private settledWaiter: (() => void) | undefined;
  /** Heartbeat changes, one at a time. */
  private heartbeats: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly requestTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly maxNodes: number;
  /** This host's name, and where creates without a host go. */
  readonly hostName: string;

  private constructor(
    private readonly dir: RuntimeDir,
    private readonly storage: NodeStorage,
    saved: SavedTree | undefined,
    private readonly options: ControlOptions,
    private readonly liveness: Liveness,
    private readonly rootLink: RootLink,
    private readonly agents: Agents | undefined,
  ) {
    this.hostName = options.hostName ?? 'local';
    this.log = options.logger ?? silentLogger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2000;
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
    this.shape = saved === undefined ? new Topology() : (Topology.fromPlaces(saved.root, saved.nodes) as Topology);
    const node = (id: number): NodeHandle | undefined => this.supervisor.get(id);
    this.availability = new Availability(
      { shape: this.shape, node, verdict: (id) => liveness.verdict(id), hostConnected: (name) => this.hostConnected(name) },
      (event) => this.emit(event),
    );
    this.requests = new Requests({
      reach: (id) => this.availability.reach(id),
      whyDown: (id) => this.availability.whyDown(id),
      send: (record) => rootLink.send(record),
      stopping: this.shutdown.signal,
    });
    this.supervisor = new Supervisor(
      {
        shape: this.shape,
        liveness,
        dir,
        storage,
        log: this.log,
        emit: (event) => this.emit(event),
        changed: () => this.changed(),
        lost: (id) => this.lostThrough(id),
        persist: () => this.persist(),
        busy: () => this.requests.busy || this.links.removing,
        hostConnected: (name) => this.hostConnected(name),
        stopping: this.shutdown.signal,
      },
      {
        computingEntry: options.computingEntry ?? defaultComputingEntry(),
        computingExecArgv: options.computingExecArgv ?? [],
        startTimeoutMs: this.startTimeoutMs,
        restart: options.restart ?? 'always',
        hangRestartMs: options.hangRestartMs ?? 30_000,
        poolSize: options.poolSize ?? DEFAULT_POOL_SIZE,
        maxNodes: this.maxNodes,
        hostName: this.hostName,
        followerLateMs: () => followerLateMs(this.requestTimeoutMs, this.liveness.config.intervalMs),
        ...(options.replicas === 2 && { replicas: 2 as const }),
      },
      agents === undefined || options.cluster === undefined ? undefined : { agents, keys: options.cluster.keys, bindIp: clusterIp(options.cluster.listen) },
    );
    this.links = new Links(
      {
        shape: this.shape,
        node,
        all: () => this.supervisor.all(),
        requests: this.requests,
        reach: (id) => this.reach(id),
        isAvailable: (id) => this.availability.isAvailable(id),
        controlEndpoint: (host) => (host === this.hostName ? dir.controlEndpoint() : rootLink.tcpEndpoint),
        changed: () => this.changed(),
        emit: (event) => this.emit(event),
        persist: () => this.persist(),
        stopForRemove: (handle) => this.supervisor.stopForRemove(handle),
        forget: (id) => {
          this.supervisor.forget(id);
          this.treeKeeper.gone(id);
        },
        log: this.log,
        stopping: this.shutdown.signal,
      },
      options.balance ?? 'avl',
      { ...LINK_TIMINGS, startMs: this.startTimeoutMs },
    );
    this.treeKeeper = new SavedTreeKeeper(
      storage,
      {
        shape: this.shape,
        balance: this.links.balance,
        starting: (id) => this.supervisor.get(id)?.state.t === 'starting',
        pid: (id) => {
          const node = this.supervisor.get(id);
          return node === undefined || node.host !== this.hostName ? null : node.pid;
        },
        remoteHost: (id) => {
          const host = this.supervisor.get(id)?.host;
          return host === undefined || host === this.hostName ? undefined : host;
        },
      },
      saved?.heartbeatMs ?? 0,
      this.log,
    );
  }

  /**
   * Creates the runtime directory, binds the root link and the liveness endpoint, and, with a
   * data dir that holds a tree, starts every node of it from its log and waits until each is
   * back (or given up). Throws DataDirError when the data dir is in use or its tree file is corrupt.
   */
  static async start(options: ControlOptions = {}): Promise<Control> {
    const dataDir = options.dataDir === undefined ? undefined : DataDir.open(options.dataDir, options.fsync ?? false);
    let saved: SavedTree | undefined;
    try {
      saved = dataDir?.loadTree();
    } catch (error) {
      dataDir?.close();
      throw error;
    }
    const dir = new RuntimeDir(options.runtimeParent);
    const storage = dataDir ?? new EphemeralStorage(dir.path, (options.restart ?? 'always') === 'always' || options.replicas === 2, options.fsync ?? false);
    const log = options.logger ?? silentLogger;
    const config: LivenessConfig = { ...DEFAULT_LIVENESS, ...options.liveness, intervalMs: saved?.heartbeatMs ?? 0 };
    const cluster = options.cluster;
    const ip = cluster === undefined ? undefined : clusterIp(cluster.listen);
    // The sockets first (a port in use fails the start before anything runs); what they tell
    // goes to the control once it exists.
    const made: { control?: Control } = {};
    let agents: Agents | undefined;
    let liveness: Liveness | undefined;
    let rootLink: RootLink | undefined;
    try {
      if (cluster !== undefined) agents = await Agents.open(cluster.listen, cluster.keys, log, (host) => made.control?.hostChanged(host), options.hostName ?? 'local');
      liveness = await Liveness.open(dir.livenessPath(), config, log, () => made.control?.changed(), cluster === undefined || ip === undefined ? undefined : { keys: cluster.keys, ip });
      rootLink = await RootLink.open(
        dir.controlEndpoint(),
        {
          currentRoot: () => made.control?.currentRoot() ?? null,
          reply: (msg) => made.control?.reply(msg),
          hello: (msg) => made.control?.hello(msg),
          undeliverable: (corr) => made.control?.requests.fail(corr, nodeUnavailable(made.control.shape.root ?? -1, 'the root could not be reached')),
        },
        log,
        cluster === undefined || ip === undefined ? undefined : { keys: cluster.keys, also: `tcp://${ip.includes(':') ? `[${ip}]` : ip}:*` },
      );
    } catch (error) {
      await rootLink?.close();
      await liveness?.close();
      await agents?.close();
      dir.remove();
      dataDir?.close();
      throw error;
    }
    const control = new Control(dir, storage, saved, options, liveness, rootLink, agents);
    made.control = control;
    if (saved !== undefined && saved.nodes.length > 0) {
      await waitForOldProcesses(saved, log);
      control.supervisor.restore(new Map(saved.nodes.filter((n) => n.host !== undefined).map((n) => [n.id, n.host as string])));
      await control.settled(2 * control.startTimeoutMs);
    }
    return control;
  }

  /**
   * Starts the pool's spare processes (`poolSize`). Not done by `start`: each spawn blocks the
   * event loop for the fork of a big process (`child_process.spawn` forks synchronously), so the gateway calls this right
   * after it prints that it listens; a create that comes first starts its own process.
   */
  startPool(): void {
    this.supervisor.pool.refill();
  }

  private get closed(): boolean {
    return this.shutdown.signal.aborted;
  }

  /** Requests in flight inside the tree (for tests and metrics). */
  get inFlight(): number {
    return this.requests.inFlight;
  }

  /** Spare processes ready to be claimed (for metrics). */
  get spareProcesses(): number {
    return this.supervisor.pool.size;
  }

  /**
   * Tells `listener` of every answered command (for metrics): its node's depth (the root's is 0)
   * and how long its request was in the tree, from sent to answered, in seconds. One listener;
   * undefined removes it. A command's node keeps its depth while it is in flight: a relink waits
   * until none of the moving nodes' commands is.
   */
  observeTreeTimes(listener: ((depth: number, seconds: number) => void) | undefined): void {
    this.requests.answered = listener === undefined ? undefined : (target, ms) => listener(this.shape.depth(target), ms / 1000);
  }

  /** The heartbeat interval in force (0: off). */
  get heartbeatInterval(): number {
    return this.liveness.config.intervalMs;
  }

  /** A copy of the tree as it is now. */
  topology(): TopologySnapshot {
    const nodes = this.shape.preorder().map((place) => {
      const node = this.supervisor.get(place.id);
      const available = this.availability.isAvailable(place.id);
      const chain = this.supervisor.chains?.get(place.id);
      return {
        id: place.id,
        parent: place.parent,
        left: place.left,
        right: place.right,
        pid: node?.pid ?? null,
        depth: this.shape.depth(place.id),
        available,
        state: node?.state.t ?? 'stopped',
        restarts: node?.restarts ?? 0,
        keys: node?.keys ?? 0,
        host: node?.host ?? this.hostName,
        reason: available ? null : (this.availability.whyDown(place.id) ?? node?.reason ?? null),
        ...(chain !== undefined && { replica: replicaSnapshot(chain) }),
      };
    });
    const balanced = this.links.balance === 'avl';
    return { nodes, root: this.shape.root, heartbeatMs: this.heartbeatInterval, balanced, depthBound: balanced ? maxAvlDepth(nodes.length) : null };
  }

  /** Subscribes to node events; returns the function that unsubscribes. Listeners are called synchronously and must not block. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Starts computing node `id` under the node the search tree places it at, on `host` (default:
   * by `placement`). Resolves once the process is linked and the tree rebalanced around it.
   * Rejects with `exists`, `not-found` (parent given and missing), `wrong-parent` (parent given,
   * tree places it elsewhere), `exhausted` (node limit; with a data dir: the disk is full),
   * `unavailable` (its parent is down, its process could not start; with a data dir: the tree
   * could not be saved), `deadline` or `cancelled`. A create that could not be saved is undone
   * (the node removed again) before it fails.
   */
  async create(id: number, parent: number | undefined, call: CallOptions = {}, host?: string): Promise<Created> {
    // After a remove that is still going on, as if typed once it was answered.
    if (this.links.removing) await this.links.whenNoRemoval();
    const where = this.admit(id, parent, host);
    if (where instanceof ArborError) throw where;
    const scope = this.scope(call, CREATE_WAIT_MS);
    this.shape.insert(id);
    this.treeKeeper.creating(id);
    const { node, started } = this.supervisor.create(id, where, Date.now() + Math.min(CREATE_WAIT_MS, (scope.callerDeadline ?? Infinity) - performance.now()));
    try {
      // Its process may exit before its first hello: that ends the create at once.
      const exited = started.then(() => node.process?.exited.then(() => Promise.reject(new ClaimError('its process exited before it was linked'))));
      exited.catch(() => undefined);
      await Promise.race([this.links.attachNew(node, started, scope), exited]);
      this.supervisor.running(node);
      this.emit({ kind: 'created', id, reason: `pid ${node.pid}, under ${this.shape.get(id)?.parent ?? 'control'}`, pid: node.pid ?? undefined });
      // Answered once the tree is balanced again: the response names the parent it has then.
      await this.links.afterInsert(id);
    } catch (error) {
      if (node.state.t === 'starting') this.abandon(id);
      // A node that runs stays in the tree: saved from now on, as any node.
      else this.treeKeeper.adopt(id);
      throw error instanceof ClaimError ? new ArborError('unavailable', `Node ${id} could not start: ${error.message}`) : error;
    }
    try {
      this.treeKeeper.acknowledgeCreate(id);
    } catch (error) {
      await this.undoCreate(id, error as ArborError);
      throw error;
    }
    return { id, pid: node.pid as number, parent: this.shape.get(id)?.parent ?? null };
  }

  /**
   * A create whose node runs but could not be saved: the node is removed again as a remove does
   * (its process stopped, its log deleted), so that the tree is as if it had never been asked for.
   */
  private async undoCreate(id: number, why: ArborError): Promise<void> {
    this.treeKeeper.leave(id);
    await this.links.remove(id, () => undefined, `removed: its create could not be saved (${why.reason ?? why.message})`).catch((error: unknown) => {
      this.log.error({ err: error, node: id }, 'cannot undo a create that could not be saved');
    });
  }

  /** This host and every joined one. */
  hostNames(): string[] {
    return [this.hostName, ...[...(this.agents?.hosts.keys() ?? [])]];
  }

  /** The address agents join at (host:port), when other hosts are on. */
  get clusterAddress(): string | undefined {
    return this.agents?.address;
  }

  /**
   * Stores `value` under `name` in node `id` (or loads `name` when `value` is undefined).
   * Rejects with `not-found`, `unavailable`, `deadline` or `cancelled`.
   */
  async exec(id: number, name: string, value: bigint | undefined, call: CallOptions = {}): Promise<ExecResult> {
    // A command for a node being removed waits for the remove, as if typed after its answer.
    const removal = this.links.removalOf(id);
    if (removal !== undefined) await removal.catch(() => undefined);
    if (value === undefined) {
      const msg = await this.requests.request(id, this.scope(call, this.requestTimeoutMs), (corr) => encode({ kind: 'load', corr, node: id, name }));
      if (msg.kind !== 'value') throw nodeUnavailable(id);
      return { id, name, found: msg.found, value: msg.value };
    }
    const msg = await this.mutate(id, call, (corr) => encode({ kind: 'store', corr, node: id, name, value }), (reply) => ({ id, name, kind: 'put', value: reply.value }));
    if (msg.added) this.countKeys(id, +1);
    return { id, name, found: msg.found, value: msg.value };
  }

  /**
   * Deletes `name` from node `id`'s dictionary; `found` says whether it had a value. Logged by
   * the node before it answers, as a store is. Rejects as `exec` does.
   */
  async delete(id: number, name: string, call: CallOptions = {}): Promise<DeleteResult> {
    const removal = this.links.removalOf(id);
    if (removal !== undefined) await removal.catch(() => undefined);
    const msg = await this.mutate(id, call, (corr) => encode({ kind: 'delete', corr, node: id, name }), (reply) => (reply.found ? { id, name, kind: 'delete', value: 0n } : null));
    if (msg.found) this.countKeys(id, -1);
    return { id, name, found: msg.found };
  }

  /**
   * One page of node `id`'s names after `startAfter` that start with `prefix`, in byte order: at
   * most `limit` (the caller checked it). A node answers in records of at most 64 KiB, so the
   * page is asked for in pieces, each from the last name of the one before: one record per
   * reply keeps the tree's paths, waves and deadlines as they are for every other command,
   * where a reply spread over several records would need reassembly in the control and order
   * across them in every node's waves. The page ends early (more = true) when the node's
   * revision changed between two pieces, so every page is one moment of the node. Rejects as
   * `exec` does.
   */
  async keys(id: number, prefix: string, startAfter: string, limit: number, call: CallOptions = {}): Promise<KeysResult> {
    const removal = this.links.removalOf(id);
    if (removal !== undefined) await removal.catch(() => undefined);
    const scope = this.scope(call, this.requestTimeoutMs);
    const entries: KeysResult['entries'] = [];
    let after = startAfter;
    let revision: bigint | undefined;
    let more = true;
    while (more && entries.length < limit) {
      // A record's u16 field bounds one piece; the gateway's limit is far lower anyway.
      const want = Math.min(limit - entries.length, MAX_KEYS_LIMIT);
      const msg = await this.requests.request(id, scope, (corr) => encode({ kind: 'keys', corr, node: id, limit: want, prefix, startAfter: after }));
      if (msg.kind !== 'keys-page') throw nodeUnavailable(id);
      if (revision !== undefined && msg.revision !== revision) break;
      revision = msg.revision;
      for (const entry of msg.entries) entries.push(entry);
      more = msg.more;
      const last = msg.entries.at(-1);
      if (last === undefined) break;
      after = last.name;
    }
    return { id, entries, more, revision: revision ?? 0n };
  }

  /** Subscribes to key events (acknowledged stores and deletes, each node's in its order); returns the function that unsubscribes. */
  subscribeKeys(listener: KeyEventListener): () => void {
    return this.keyFeed.subscribe(listener);
  }

  /** Sends a store or delete, with its place in the node's key-event order; settles that place however it ends. */
  private async mutate(
    id: number,
    call: CallOptions,
    build: (corr: number) => Buffer,
    event: (reply: Extract<Message, { kind: 'value' }>) => KeyEvent | null,
  ): Promise<Extract<Message, { kind: 'value' }>> {
    let place: number | undefined;
    let outcome: KeyEvent | null = null;
    try {
      const msg = await this.requests.request(id, this.scope(call, this.requestTimeoutMs), (corr) => {
        place = this.keyFeed.sent(id);
        return build(corr);
      });
      if (msg.kind !== 'value') throw nodeUnavailable(id);
      outcome = event(msg);
      return msg;
    } finally {
      this.keyFeed.settle(id, place, outcome);
    }
  }

  /** Topology's key count follows the names a store added or a delete removed. */
  private countKeys(id: number, change: number): void {
    const node = this.supervisor.get(id);
    if (node !== undefined) node.keys = Math.max(0, node.keys + change);
  }

  /**
   * Checks that node `id` answers through the tree. Answers at once from the current state when
   * it is known to be down (also while it restarts); waits for a creation in progress or a move.
   * Rejects with `not-found`, `deadline` or `cancelled` only.
   */
  async ping(id: number, call: CallOptions = {}): Promise<PingResult> {
    const removal = this.links.removalOf(id);
    if (removal !== undefined) await removal.catch(() => undefined);
    const node = this.supervisor.get(id);
    if (node === undefined || !this.shape.has(id)) throw nodeNotFound(id);
    const scope = this.scope(call, this.requestTimeoutMs);
    const notAnswered = (error: unknown): PingResult => {
      if (error instanceof ArborError && error.kind === 'unavailable') return { id, available: false };
      throw error;
    };
    if (node.state.t === 'starting') {
      await this.requests.whenReachable(id, scope).catch(notAnswered);
      if (!this.availability.isAvailable(id)) return { id, available: false };
    } else if (!this.availability.isAvailable(id)) return { id, available: false };
    return this.requests.request(id, scope, (corr) => encode({ kind: 'ping', corr, node: id })).then((msg) => ({ id, available: msg.kind === 'pong' }), notAnswered);
  }

  /**
   * Removes node `id` from the tree: saves the tree without it (with a data dir), stops its
   * process, deletes its log, relinks the tree as a search-tree deletion does (the in-order
   * successor takes its place) and rebalances. Works on an unavailable or failed node. Rejects
   * `not-found` for an unknown id; `exhausted` (disk full) or `unavailable` when the tree could
   * not be saved, with nothing changed.
   */
  async remove(id: number): Promise<{ id: number }> {
    if (this.closed) throw stopping(id);
    await this.links.remove(id, () => this.treeKeeper.decideRemove(id));
    return { id };
  }

  /**
   * Sets the system-wide heartbeat interval (0: off); nodes created later get it too. The
   * caller validated the range. With heartbeats off, only an exit makes a node unavailable.
   * The control rebinds its end of the liveness links with the new settings and every node's
   * link reconnects by itself (nothing runs in the nodes, nothing on the data path moves);
   * resolves once every node has reconnected, or the time for that is up. With a data dir the
   * new interval is saved first: when it cannot be, this rejects (`exhausted` for a full disk,
   * else `unavailable`) and the old interval stays in force.
   */
  setHeartbeat(intervalMs: number): Promise<void> {
    const run = this.heartbeats.then(async () => {
      // The same interval again changes nothing.
      if (intervalMs === this.heartbeatInterval || this.closed) return;
      const began = performance.now();
      const previous = this.heartbeatInterval;
      this.treeKeeper.decideHeartbeat(intervalMs);
      try {
        await this.liveness.changeInterval(intervalMs);
      } catch (error) {
        this.treeKeeper.heartbeatBack(previous);
        throw error;
      }
      // Shown once in force (the judging switches only after the new listener is bound).
      this.changed();
      this.supervisor.chains?.retune();
      this.log.info({ intervalMs, nodes: this.shape.size, totalMs: Math.round(performance.now() - began) }, 'heartbeat interval in force');
    });
    this.heartbeats = run.catch(() => undefined);
    return run;
  }

  /**
   * Stops: every command waiting or in flight fails `unavailable` ("the gateway is stopping"),
   * every computing process is stopped, the links close and the runtime directory is removed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.shutdown.abort();
    await this.supervisor.stopAll();
    await this.agents?.close();
    await this.rootLink.close();
    await this.liveness.close();
    this.settledWaiter?.();
    this.dir.remove();
    if (this.storage instanceof DataDir) this.storage.close();
  }

  /** The root now and its current process, for the root link. */
  private currentRoot(): PeerSpec | null {
    const root = this.shape.root;
    if (root === null) return null;
    const proc = this.supervisor.get(root)?.process ?? null;
    return { id: root, pid: proc === null ? null : proc.pid };
  }

  /** A reply came up the tree: it settles its request (`fail`: the tree could not deliver it, or the node could not log a store). */
  private reply(msg: Extract<Message, { kind: 'value' | 'pong' | 'fail' | 'keys-page' }>): void {
    if (msg.kind === 'fail') {
      this.requests.fail(msg.corr, msg.reason === FailReason.DiskFull ? diskFull(msg.node) : nodeUnavailable(msg.node, 'a node on its path could not pass the request on'));
    } else if (!this.requests.settle(msg)) this.rootLink.drop(`late ${msg.kind}`);
  }

  private hello(msg: Extract<Message, { kind: 'hello' }>): void {
    if (!this.links.hello(msg.node, msg.corr, msg.keys)) this.rootLink.drop('stale hello');
  }

  /** Node `id`'s process is gone: the requests in flight to it or through it are lost with it. */
  private lostThrough(id: number): void {
    this.requests.failWhere((target) => (this.shape.isOnPathTo(id, target) ? nodeUnavailable(target, this.availability.whyDown(target) ?? `node ${id} on its path exited`) : undefined));
  }

  /** Whether a command can reach `id` now: availability, and the holds of a relink. */
  private reach(id: number): Reach {
    const reach = this.availability.reach(id);
    return reach === 'ok' && this.requests.isHeld(id) ? 'wait' : reach;
  }

  /** One call's limits: the control's own timeout, the caller's deadline (on the monotonic clock), its signal. */
  private scope(call: CallOptions, ownMs: number): Call {
    return {
      ownMs,
      ...(call.deadline !== undefined && { callerDeadline: performance.now() + (call.deadline - Date.now()) }),
      ...(call.signal !== undefined && { signal: call.signal }),
    };
  }

  /**
   * Whether a create of `id` (under `parent` and on `host`, when given) may go ahead: the host it
   * goes to, or the error it is refused with. The checks come in a fixed order, so each refusal
   * names the first thing wrong: the parent given, an id already there, a gateway stopping, the
   * node limit, the host, the parent's state. A parent that is only being created, moved or
   * restarted is waited for later; one that is down refuses now.
   */
  private admit(id: number, parent: number | undefined, host: string | undefined): string | ArborError {
    const { shape } = this;
    // A given parent is checked first, against where the id is (or would be) in the tree:
    // with 9 under 11, `create 9 8` says "belongs under 11" and `create 9 11` "already exists".
    const existing = shape.get(id);
    const placement = existing === undefined ? shape.placeFor(id) : existing.parent;
    if (parent !== undefined) {
      if (!shape.has(parent)) return parentNotFound(parent);
      if (placement !== parent) return wrongParent(id, placement, parent);
    }
    if (existing !== undefined) return nodeExists(id);
    if (this.closed) return stopping(id);
    if (shape.size >= this.maxNodes) {
      return new ArborError('exhausted', `node limit reached: the tree holds ${this.maxNodes} nodes (gateway option --max-nodes)`);
    }
    const where = host ?? this.placeNew();
    if (where !== this.hostName) {
      const joined = this.agents?.hosts.get(where);
      if (joined === undefined) return new ArborError('unavailable', `Host ${where} is unknown (hosts: ${this.hostNames().join(', ')})`);
      if (!joined.connected) return new ArborError('unavailable', `Host ${where} is not connected`);
    }
    if (placement !== null) {
      const above = this.availability.reach(placement);
      if (above instanceof ArborError) return parentUnavailable(placement, above.reason);
    }
    return where;
  }

  /** Where a create without a host goes: `local`, or `spread` (the connected host with the fewest nodes; ties: this one first). */
  private placeNew(): string {
    if (this.options.placement !== 'spread' || this.agents === undefined) return this.hostName;
    const count = new Map<string, number>([[this.hostName, 0]]);
    for (const host of this.agents.hosts.values()) if (host.connected) count.set(host.name, 0);
    for (const node of this.supervisor.all()) if (count.has(node.host)) count.set(node.host, (count.get(node.host) ?? 0) + 1);
    let best = this.hostName;
    for (const [name, n] of count) if (n < (count.get(best) ?? 0)) best = name;
    return best;
  }

  /** A create failed: the node (and any starting node below it) leaves the tree. */
  private abandon(id: number): void {
    const parentId = this.shape.get(id)?.parent ?? null;
    for (const place of this.shape.removeSubtree(id)) {
      const node = this.supervisor.get(place.id);
      if (node !== undefined) this.supervisor.abandon(node);
      this.treeKeeper.gone(place.id);
    }
    // The parent no longer has this child: tell it, so only the control's links count.
    const parent = parentId === null ? undefined : this.supervisor.get(parentId);
    if (parent?.linked === true) parent.setLinked(false, `its new child ${id} was abandoned`);
    this.changed();
  }

  private hostConnected(name: string): boolean {
    return name === this.hostName || this.agents?.hosts.get(name)?.connected === true;
  }

  private hostChanged(host: Host): void {
    this.supervisor.hostChanged(host);
    this.changed();
  }

  /** Something changed (a node's life, a verdict, a host, the shape): what follows is derived once, after this turn's changes. */
  private changed(): void {
    if (this.settleQueued || this.closed) return;
    this.settleQueued = true;
    queueMicrotask(() => {
      this.settleQueued = false;
      if (!this.closed) this.settle();
    });
  }

  /** Everything that follows a change, in one place. */
  private settle(): void {
    if (this.availability.reassess()) this.requests.failWhere((target) => errorOf(this.availability.reach(target)));
    this.requests.wake();
    this.links.afterChange();
    this.supervisor.checkHangs();
    // Nodes of other hosts come back when their agent joins again: the gateway does not wait for them to listen.
    if (this.settledWaiter !== undefined) {
      const done = [...this.supervisor.all()].every((n) => n.state.t === 'failed' || n.state.t === 'exited' || n.host !== this.hostName || (n.linked && this.availability.isAvailable(n.id)));
      if (done) this.settledWaiter();
    }
  }

  /** Resolves once every node of this host is available or down for good, or after `timeoutMs`. */
  private settled(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.settledWaiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.settledWaiter = done;
      this.changed();
    });
  }

  /** Saves the tree after a change made on the control's own (a restart, a relink); a failure is logged. */
  private persist(): void {
    this.treeKeeper.save();
  }

  private emit(event: Omit<NodeEvent, 'time'>): void {
    this.log.info({ node: event.id, event: event.kind, reason: event.reason }, `node ${event.id} ${event.kind}`);
    const full: NodeEvent = { ...event, time: new Date() };
    // A listener that throws is dropped, so one bad subscriber cannot stop the others or the core.
    for (const listener of this.listeners) {
      try {
        listener(full);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }
}

function errorOf(reach: Reach): ArborError | undefined {
  return reach instanceof ArborError ? reach : undefined;
}

/** The IP of a host:port (`[v6]:port` too): where this host's tcp endpoints are bound. */
function clusterIp(listen: string): string {
  return listen.slice(0, listen.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
}
