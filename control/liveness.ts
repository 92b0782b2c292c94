/**
 * @module Who is alive, as the control judges it (the rules, shared with the nodes, are
 * link/liveness.ts): the control's end of every node's liveness link (it pings them), and the
 * beats each node's event loop writes on its control channel.
 *
 * Per running process a watch: its liveness links connected now (one; for a moment, while the
 * control rebinds for a new interval, none or two), when it was last heard, whether it said it
 * is quiet, and its verdict: `cut` (its links stayed disconnected past the grace: stopped, gone,
 * or cut off) or `blocked` (connected, so libzmq answers for it, but its event loop was not
 * heard for 2B). A cut clears when a link connects again, a blocked verdict when a beat comes.
 * Every change of a verdict is told to the owner (`onChange`). With heartbeats off nothing is judged.
 */
import { existsSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Router } from 'zeromq';
import {
  blockedReason,
  type ClusterKeys,
  curveServerOptions,
  type LivenessConfig,
  livenessRouter,
  type LivenessTimings,
  livenessTimings,
  parseRoutingId,
  setForNextConnections,
  silenceReason,
} from '../link/index.js';
import type { Logger } from '../lib/logger.js';

/** A switch gives its nodes this long each, on top of the connect grace, to reach the new listener. */
export const WAKE_MS_PER_NODE = 25;

/** Liveness links remembered as connected at most (one or two per node; strangers may try). */
const MAX_LINKS = 16_384;

/**
 * A process as the OS sees it: `running` (runnable, or sleeping: it can answer once it gets
 * the CPU), `stopped` (SIGSTOP, or traced), `gone`, or `unknown` (no /proc: not Linux).
 */
export type ProcessState = 'running' | 'stopped' | 'gone' | 'unknown';

/** The state letter of /proc/<pid>/stat (the field after the command, which may hold spaces and parentheses). */
export function readProcessState(pid: number): ProcessState {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === 'ENOENT' || code === 'ESRCH' ? (existsSync('/proc/self/stat') ? 'gone' : 'unknown') : 'unknown';
  }
  return processStateOf(stat);
}

/** The state of a /proc/<pid>/stat line. */
export function processStateOf(stat: string): ProcessState {
  const letter = stat.charAt(stat.lastIndexOf(')') + 2);
  if (letter === 'R' || letter === 'S' || letter === 'D') return 'running';
  if (letter === 'T' || letter === 't') return 'stopped';
  if (letter === 'Z' || letter === 'X' || letter === 'x') return 'gone';
  return 'unknown';
}

interface Verdict {
  why: 'cut' | 'blocked';
  reason: string;
}

interface Watch {
  readonly pid: number;
  /** Its process runs on this host: its state can be read (`ProcessState`). */
  readonly local: boolean;
  /** When its last link went away (its cut began). */
  cutSince: number;
  /** Its liveness links connected now (`<listener>/<routing id>`): it is connected while any is. */
  readonly links: Set<string>;
  /** When it was last heard (a beat), or its window began. */
  lastHeard: number;
  /** It said it has nothing to do: no beats until it is heard again (its link still answers pings). */
  quiet: boolean;
  verdict: Verdict | undefined;
  graceTimer: NodeJS.Timeout | null;
  /** A new interval's listener it has not connected to yet. */
  switching: number | null;
}

/**
 * The judging, without the sockets (tests drive it with fake timers): told of every connect and
 * disconnect of a liveness link on each listener (`linkSeen`), and
 * of every beat.
 */
export class LivenessJudge {
  private readonly watches = new Map<number, Watch>();
  /** Liveness links connected now, by `<listener>/<routing id>`: of any process, watched yet or not. */
  private readonly connected = new Map<string, { id: number; pid: number }>();
  private timings: LivenessTimings;
  private checkTimer: NodeJS.Timeout | null = null;
  private checkDueAt = 0;
  /** The switch in progress: its nodes still to connect to the new listener, and who waits for it. */
  private switch: { pending: Set<number>; listener: number; done: () => void; progress: () => void } | null = null;
  /**
   * Until then a cut is no verdict yet (a switch of interval, and 4T after it: every node's link
   * reconnects at once, and a burst of reconnects and first pings can starve a few for a moment).
   */
  private lenientUntil = 0;
  /** Told which nodes had not moved when a switch's time was up. */
  onSwitchLate: ((ids: number[]) => void) | undefined;

  constructor(
    private configured: LivenessConfig,
    /** A node's verdict changed. */
    private readonly onChange: (id: number) => void,
    private readonly clock: () => number = () => performance.now(),
    /** What the OS says of a process on this host. */
    private readonly processState: (pid: number) => ProcessState = readProcessState,
  ) {
    this.timings = livenessTimings(configured);
    this.rearmCheck();
  }

  get config(): LivenessConfig {
    return this.configured;
  }

  /**
   * Starts judging node `id`'s process `pid` (claimed and ready; its link connects at its claim),
   * `local` when it runs on this host.
   */
  watch(id: number, pid: number, local = true): void {
    this.unwatch(id);
    const links = new Set<string>();
    for (const [key, who] of this.connected) if (who.id === id && who.pid === pid) links.add(key);
    const watch: Watch = { pid, local, links, lastHeard: this.clock(), cutSince: this.clock(), quiet: false, verdict: undefined, graceTimer: null, switching: null };
    this.watches.set(id, watch);
    if (links.size === 0) this.cutUnlessBackWithin(id, watch, Math.max(this.timings.connectGraceMs, this.lenientLeft()));
  }

  /** Its process is gone (or being stopped): no more verdicts for it. */
  unwatch(id: number): void {
    const watch = this.watches.get(id);
    if (watch === undefined) return;
    if (watch.graceTimer !== null) clearTimeout(watch.graceTimer);
    this.watches.delete(id);
    this.switchMade(id);
  }

  /** A beat from process `pid` of node `id` (its event loop runs); `quiet`: it beats no more until it is busy again. */
  beat(id: number, pid: number, quiet: boolean): void {
    const watch = this.watches.get(id);
    if (watch === undefined || watch.pid !== pid) return;
    watch.lastHeard = this.clock();
    watch.quiet = quiet;
    if (watch.verdict?.why === 'blocked') this.judge(id, watch, undefined);
  }

  /** Why node `id` is down by itself (stopped, gone, or its event loop blocked), or undefined. */
  verdict(id: number): string | undefined {
    return this.watches.get(id)?.verdict?.reason;
  }

  /**
   * Whether the liveness link of routing id `rid` on listener `listener` is connected now (told
   * after each of its ROUTER_NOTIFY messages, asking the ROUTER). False when the id is not a node's.
   */
  linkSeen(rid: string, listener: number, connected: boolean): boolean {
    const who = parseRoutingId(rid);
    if (who === undefined) return false;
    const key = `${listener}/${rid}`;
    const wasConnected = this.connected.delete(key);
    if (connected && this.connected.size < MAX_LINKS) this.connected.set(key, { id: who.id, pid: who.pid });
    if (wasConnected === connected) return true;
    const watch = this.watches.get(who.id);
    if (watch === undefined || watch.pid !== who.pid) return true;
    if (!connected) {
      watch.links.delete(key);
      if (watch.links.size === 0) watch.cutSince = this.clock();
      if (watch.links.size === 0 && this.timings.graceMs > 0) this.cutUnlessBackWithin(who.id, watch, Math.max(this.timings.graceMs, this.lenientLeft()));
      return true;
    }
    watch.links.add(key);
    if (watch.graceTimer !== null) clearTimeout(watch.graceTimer);
    watch.graceTimer = null;
    if (watch.switching !== null && listener >= watch.switching) {
      watch.switching = null;
      this.switchMade(who.id);
    }
    if (watch.verdict?.why === 'cut') this.judge(who.id, watch, undefined);
    return true;
  }

  /**
   * Judging by a new interval from now on, its links moving to listener `listener` (undefined:
   * they stay where they are): a link that goes away meanwhile is no outage unless nothing is back
   * when the switch may be over. Resolves once every node watched now has connected to that
   * listener, or that time is up.
   */
  switchTo(intervalMs: number, listener: number | undefined): Promise<void> {
    this.configured = { ...this.configured, intervalMs };
    this.timings = livenessTimings(this.configured);
    this.rearmCheck();
    this.switch?.done();
    this.switch = null;
    const now = this.clock();
    // A fresh window at the new period; a verdict already made stands until the node is heard.
    for (const watch of this.watches.values()) watch.lastHeard = now;
    if (intervalMs === 0) {
      // Off: nobody is judged; a node down only by its silence is available again.
      for (const [id, watch] of this.watches) {
        if (watch.graceTimer !== null) clearTimeout(watch.graceTimer);
        watch.graceTimer = null;
        watch.switching = null;
        if (watch.verdict !== undefined) this.judge(id, watch, undefined);
      }
      return Promise.resolve();
    }
    if (listener === undefined) return Promise.resolve();
    const settleMs = this.timings.graceMs * 8;
    const { connectGraceMs } = this.timings;
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      // The switch is over when every node has moved, or when none has for a while: idle nodes
      // all woken at once on a busy host arrive over seconds (as many bare idle processes take
      // as long: the bench's scaleFloorMove row), the first of them late, but they keep arriving.
      const progress = (ms: number): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          this.onSwitchLate?.([...(this.switch?.pending ?? [])]);
          done();
        }, ms);
        this.lenientUntil = this.clock() + ms + settleMs;
      };
      const done = (): void => {
        clearTimeout(timer);
        if (this.switch?.done === done) {
          this.switch = null;
          // Every node moved (or the time is up): lenient for a few intervals more, then as usual.
          this.lenientUntil = Math.min(this.lenientUntil, this.clock() + settleMs);
        }
        resolve();
      };
      progress(connectGraceMs + this.watches.size * WAKE_MS_PER_NODE);
      this.switch = { pending: new Set(this.watches.keys()), listener, done, progress: () => progress(connectGraceMs) };
      for (const [id, watch] of this.watches) {
        watch.switching = listener;
        if (watch.links.size === 0 && watch.verdict === undefined) this.cutUnlessBackWithin(id, watch, this.lenientLeft());
      }
      if (this.switch.pending.size === 0) done();
    });
  }

  /** Stops every timer; nothing is judged any more. */
  stop(): void {
    if (this.checkTimer !== null) clearTimeout(this.checkTimer);
    this.checkTimer = null;
    for (const watch of this.watches.values()) if (watch.graceTimer !== null) clearTimeout(watch.graceTimer);
    this.watches.clear();
    this.switch?.done();
  }

  /** How long cuts are no verdicts yet (0: as usual). */
  private lenientLeft(): number {
    return Math.max(0, this.lenientUntil - this.clock());
  }

  /** A `cut` verdict in `ms`, unless a link of the node connects (or it is unwatched) before. */
  private cutUnlessBackWithin(id: number, watch: Watch, ms: number): void {
    if (watch.graceTimer !== null) clearTimeout(watch.graceTimer);
    watch.graceTimer = setTimeout(() => {
      watch.graceTimer = null;
      if (this.watches.get(id) !== watch || watch.links.size > 0 || this.configured.intervalMs === 0) return;
      // Still switching: the switch's own end decides.
      const left = this.lenientLeft();
      if (left > 0) return this.cutUnlessBackWithin(id, watch, left);
      // Not answering, but running (not stopped, not gone): the host is too busy to run it (two
      // busy loops and a burst of starts cut nodes at T = 100 ms), and it will reconnect. It is
      // given the time a blocked event loop gets before it is judged all the same.
      const starvedFor = this.clock() - watch.cutSince;
      if (watch.local && this.processState(watch.pid) === 'running' && starvedFor < this.timings.silentAfterMs) {
        return this.cutUnlessBackWithin(id, watch, this.timings.graceMs);
      }
      this.judge(id, watch, { why: 'cut', reason: silenceReason(this.configured) });
    }, ms);
  }

  private judge(id: number, watch: Watch, verdict: Verdict | undefined): void {
    if (watch.verdict?.why === verdict?.why) return;
    watch.verdict = verdict;
    if (verdict === undefined) watch.lastHeard = this.clock();
    this.onChange(id);
  }

  private switchMade(id: number): void {
    const current = this.switch;
    if (current === null || !current.pending.delete(id)) return;
    if (current.pending.size > 0) current.progress();
    else current.done();
  }

  private rearmCheck(): void {
    if (this.checkTimer !== null) clearTimeout(this.checkTimer);
    this.checkTimer = null;
    if (this.timings.beatMs === 0) return;
    this.checkDueAt = this.clock() + this.timings.beatMs;
    this.checkTimer = setTimeout(this.check, this.timings.beatMs);
    this.checkTimer.unref();
  }

  /**
   * Every check period: a connected node not heard for 2B is blocked. One turn later, so beats
   * that already arrived are read first; a check that runs late judges nobody (this process was
   * deaf: busy or stopped, and the beats it missed may be waiting unread).
   */
  private readonly check = (): void => {
    setImmediate(() => {
      const now = this.clock();
      const late = now - this.checkDueAt > Math.max(100, this.timings.beatMs / 4);
      if (!late) {
        for (const [id, watch] of this.watches) {
          if (watch.verdict !== undefined || watch.quiet || watch.links.size === 0 || now - watch.lastHeard < this.timings.silentAfterMs) continue;
          this.judge(id, watch, { why: 'blocked', reason: blockedReason(this.configured) });
        }
      }
      this.rearmCheck();
    });
  };
}

/**
 * Whether `router` has a connection for routing id `rid` now: an empty message to it is taken
 * (or its queue is full), or refused as unroutable (ROUTER_MANDATORY). The node never reads its
 * liveness link; each probe leaves one empty message in its queue, up to the queue's bound.
 */
async function isRoutable(router: Router, rid: Buffer): Promise<boolean> {
  try {
    await router.send([rid, EMPTY]);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EAGAIN';
  }
}

const EMPTY = Buffer.alloc(0);

/** Other hosts: liveness links from there come over tcp with CURVE, to an endpoint on this address. */
export interface LivenessTcp {
  keys: ClusterKeys;
  ip: string;
}

interface Listener {
  readonly generation: number;
  readonly router: Router;
  /** The ipc path it is bound at (the endpoint nodes connect to is a link to it). */
  readonly path: string;
  /** Its tcp endpoint (other hosts), the same port for every listener. */
  readonly tcp: string | undefined;
  /** Routing ids of the links connected to it now. */
  readonly links: Set<string>;
  /** Its pings (libzmq takes them when it binds). */
  readonly pings: LivenessTimings['router'];
  reading: Promise<void>;
  /** Second looks at links found connected (see RECHECK_MS). */
  readonly rechecks: Set<NodeJS.Timeout>;
}

/** When a link found connected just after a notification is asked again (ms after it). */
const RECHECK_MS = [20, 200, 1000];

/** How long a new listener tries to take the tcp port its predecessor just released. */
const TCP_REBIND_TRIES = 100;
const TCP_REBIND_PAUSE_MS = 10;

/**
 * The control's end of every node's liveness link: a ROUTER per interval, only listening and
 * pinging, read by one loop each, and judged by the LivenessJudge it is. Nodes connect to one
 * endpoint for their life: an ipc path that is a symbolic link to the current listener's (and,
 * from other hosts, one tcp port, taken over by each new listener). A new interval binds a new
 * listener, points the link at it and closes the old one: every node's libzmq reconnects by
 * itself to the new one, and nothing runs in the nodes.
 */
export class Liveness extends LivenessJudge {
  /** The listeners bound, the current one last. */
  private readonly listeners: Listener[] = [];
  /** Malformed or unexpected input, by kind. */
  readonly dropped = new Map<string, number>();

  private constructor(
    /** The path nodes on this host connect to: a symbolic link to the current listener's. */
    private readonly linkPath: string,
    private readonly tcp: LivenessTcp | undefined,
    config: LivenessConfig,
    private readonly log: Logger,
    onChange: (id: number) => void,
  ) {
    const self: { liveness?: Liveness } = {};
    super(config, (id) => {
      log.debug({ node: id, verdict: self.liveness?.verdict(id) ?? null }, 'liveness verdict');
      onChange(id);
    });
    self.liveness = this;
    this.onSwitchLate = (ids) => log.warn({ nodes: ids.slice(0, 20), count: ids.length }, 'a new heartbeat interval: these nodes had not reconnected when its time was up');
  }

  /** Binds the liveness endpoint at ipc path `path` (and, with other hosts, a tcp one with CURVE) for `config`'s interval. */
  static async open(path: string, config: LivenessConfig, log: Logger, onChange: (id: number) => void, tcp?: LivenessTcp): Promise<Liveness> {
    const liveness = new Liveness(path, tcp, config, log, onChange);
    try {
      await liveness.listen(config, undefined);
    } catch (error) {
      liveness.stop();
      throw error;
    }
    return liveness;
  }

  /** Where a node on this host connects its liveness link (for its life). */
  get endpoint(): string {
    return `ipc://${this.linkPath}`;
  }

  /** Where a node on another host connects (tcp, CURVE), when other hosts are on. */
  get tcpEndpoint(): string | undefined {
    return this.listeners.at(-1)?.tcp;
  }

  /**
   * A new interval: a new listener with its settings takes over, and every node's link moves to
   * it by itself. Resolves once every node has moved, or the time for that is up.
   */
  async changeInterval(intervalMs: number): Promise<void> {
    const before = [...this.listeners];
    // The same pings (a listener pings at most every second): nothing moves, only the judging changes.
    const { router } = livenessTimings({ ...this.config, intervalMs });
    const current = before.at(-1);
    if (current !== undefined && current.pings.heartbeatInterval === router.heartbeatInterval && current.pings.heartbeatTimeout === router.heartbeatTimeout) {
      return this.switchTo(intervalMs, undefined);
    }
    const tcp = before.at(-1)?.tcp;
    // The tcp port goes to the new listener: released first (nodes elsewhere reconnect to it).
    if (tcp !== undefined) for (const old of before) await old.router.unbind(tcp).catch(() => undefined);
    const next = await this.listen({ ...this.config, intervalMs }, tcp);
    const moved = this.switchTo(intervalMs, next.generation);
    for (const old of before) this.retire(old);
    await moved;
  }

  async close(): Promise<void> {
    this.stop();
    for (const listener of this.listeners) {
      for (const timer of listener.rechecks) clearTimeout(timer);
      listener.router.close();
    }
    await Promise.all(this.listeners.map((l) => l.reading));
    rmSync(this.linkPath, { force: true });
  }

  /** Binds a new listener for `config` (at `tcp`, the port of the one before, when other hosts are on) and points the link at it. */
  private async listen(config: LivenessConfig, tcp: string | undefined): Promise<Listener> {
    const generation = (this.listeners.at(-1)?.generation ?? -1) + 1;
    const path = `${this.linkPath}.${generation}`;
    const pings = livenessTimings(config).router;
    const router = livenessRouter(pings);
    let bound: string | undefined;
    try {
      await router.bind(`ipc://${path}`);
      if (this.tcp !== undefined) {
        // libzmq takes the security options per bind: the ipc endpoint stays plain.
        setForNextConnections(router, curveServerOptions(this.tcp.keys));
        bound = await this.bindTcp(router, tcp ?? `tcp://${this.tcp.ip.includes(':') ? `[${this.tcp.ip}]` : this.tcp.ip}:*`);
      }
    } catch (error) {
      router.close();
      throw error;
    }
    // Nodes connect through the link: repoint it at once (a rename replaces it whole).
    const fresh = `${this.linkPath}.next`;
    rmSync(fresh, { force: true });
    symlinkSync(basename(path), fresh);
    renameSync(fresh, this.linkPath);
    const listener: Listener = { generation, router, path, tcp: bound, links: new Set(), pings, reading: Promise.resolve(), rechecks: new Set() };
    listener.reading = this.read(listener);
    this.listeners.push(listener);
    return listener;
  }

  /** Binds `endpoint`; a port its predecessor has just released may take a moment to be free. */
  private async bindTcp(router: Router, endpoint: string): Promise<string | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        await router.bind(endpoint);
        return router.lastEndpoint ?? undefined;
      } catch (error) {
        if (endpoint.endsWith(':*') || attempt >= TCP_REBIND_TRIES || (error as { code?: string }).code !== 'EADDRINUSE') throw error;
        await sleep(TCP_REBIND_PAUSE_MS);
      }
    }
  }

  /** Closes a listener of an interval gone by: a link still on it is gone as of now (it reconnects to the new one). */
  private retire(listener: Listener): void {
    const at = this.listeners.indexOf(listener);
    if (at === -1) return;
    this.listeners.splice(at, 1);
    for (const timer of listener.rechecks) clearTimeout(timer);
    listener.router.close();
    rmSync(listener.path, { force: true });
    for (const rid of listener.links) this.linkSeen(rid, listener.generation, false);
    listener.links.clear();
  }

  private async read(listener: Listener): Promise<void> {
    for await (const frames of listener.router) {
      const [rid, body] = frames;
      if (frames.length !== 2 || rid === undefined || body === undefined) {
        this.drop('wrong frame count');
        continue;
      }
      // The liveness link carries no data: only ROUTER_NOTIFY's empty messages.
      if (body.length !== 0) {
        this.drop('data on the liveness link');
        continue;
      }
      const peer = rid.toString('latin1');
      if (parseRoutingId(peer) === undefined) {
        this.drop('unknown peer');
        continue;
      }
      // A notification does not say whether it is a connect or a disconnect, and one can be
      // missing (a handover closes the old connection without one): ask the ROUTER instead.
      const connected = await isRoutable(listener.router, rid);
      this.log.debug({ peer, listener: listener.generation, connected }, 'liveness link');
      this.learned(listener, peer, connected);
      // A disconnect's notification is queued before its connection is torn down, in libzmq's
      // I/O thread: a probe right after it can still find the connection (seen on a loaded host,
      // where that thread was descheduled in between). So a link found connected is asked again.
      if (connected) for (const ms of RECHECK_MS) this.recheckLater(listener, rid, ms);
    }
  }

  private learned(listener: Listener, peer: string, connected: boolean): void {
    this.linkSeen(peer, listener.generation, connected);
    if (connected) listener.links.add(peer);
    else listener.links.delete(peer);
  }

  private recheckLater(listener: Listener, rid: Buffer, ms: number): void {
    const timer = setTimeout(() => {
      listener.rechecks.delete(timer);
      const peer = rid.toString('latin1');
      if (!this.listeners.includes(listener) || !listener.links.has(peer)) return;
      void isRoutable(listener.router, rid).then((connected) => {
        if (connected || !this.listeners.includes(listener) || !listener.links.has(peer)) return;
        this.log.debug({ peer, listener: listener.generation }, 'liveness link gone (found on a second look)');
        this.learned(listener, peer, false);
      });
    }, ms);
    timer.unref();
    listener.rechecks.add(timer);
  }

  private drop(kind: string): void {
    const seen = this.dropped.get(kind) ?? 0;
    this.dropped.set(kind, seen + 1);
    if (seen === 0) this.log.warn({ kind }, 'dropped input on the liveness endpoint; further drops of this kind are only counted');
  }
}
