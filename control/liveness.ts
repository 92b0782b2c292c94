/**
 * @module Who is alive, as the control judges it (the rules, shared with the nodes, are
 * link/liveness.ts): the control's end of every node's liveness link (it pings them), and the
 * beats each node's event loop writes on its control channel.
 *
 * Per running process a watch: its liveness links connected now (a node has one, two for a
 * moment while it switches intervals), when it was last heard, whether it said it is quiet, and
 * its verdict: `cut` (its links stayed disconnected past the grace: stopped, gone, or cut off)
 * or `blocked` (connected, so libzmq answers for it, but its event loop was not heard for 2B).
 * A cut clears when a link connects again, a blocked verdict when a beat comes. Every change of
 * a verdict is told to the owner (`onChange`). With heartbeats off nothing is judged.
 */
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

/** Routing ids of liveness links remembered as connected at most (a few per node; strangers may try). */
const MAX_LINKS = 16_384;

interface Verdict {
  why: 'cut' | 'blocked';
  reason: string;
}

interface Watch {
  readonly pid: number;
  /** Its liveness links connected now: it is connected while any is. */
  readonly links: Set<string>;
  /** When it was last heard (a beat), or its window began. */
  lastHeard: number;
  /** It said it has nothing to do: no beats until it is heard again (its link still pings). */
  quiet: boolean;
  verdict: Verdict | undefined;
  graceTimer: NodeJS.Timeout | null;
  /** A switch of interval it has not made yet: the newest link it had before, and until when it may take. */
  switching: { fromGeneration: number; until: number } | null;
}

/** Other hosts: liveness links from there come over tcp with CURVE, to an endpoint on this address. */
export interface LivenessTcp {
  keys: ClusterKeys;
  ip: string;
}

/**
 * The judging, without the socket (tests drive it with fake timers): told of every connect and
 * disconnect of a liveness link (`linkNotified`, in ROUTER_NOTIFY's order) and of every beat.
 */
export class LivenessJudge {
  private readonly watches = new Map<number, Watch>();
  /** Liveness links connected now, by routing id: of any process, watched yet or not. */
  private readonly connected = new Map<string, { id: number; pid: number; generation: number }>();
  private timings: LivenessTimings;
  private checkTimer: NodeJS.Timeout | null = null;
  private checkDueAt = 0;
  /** The switch in progress: its nodes still to switch, and who waits for it. */
  private switch: { pending: Set<number>; until: number; done: () => void } | null = null;

  constructor(
    private configured: LivenessConfig,
    /** A node's verdict changed. */
    private readonly onChange: (id: number) => void,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.timings = livenessTimings(configured);
    this.rearmCheck();
  }

  get config(): LivenessConfig {
    return this.configured;
  }

  /** Starts judging node `id`'s process `pid` (claimed and ready; its link connects at its claim). */
  watch(id: number, pid: number): void {
    this.unwatch(id);
    const links = new Set<string>();
    for (const [rid, who] of this.connected) if (who.id === id && who.pid === pid) links.add(rid);
    const watch: Watch = { pid, links, lastHeard: this.clock(), quiet: false, verdict: undefined, graceTimer: null, switching: null };
    // A switch in progress: its link may still be moving, so a cut waits as long as the switch may take.
    if (this.switch !== null) watch.switching = { fromGeneration: Infinity, until: this.switch.until };
    this.watches.set(id, watch);
    if (links.size === 0) this.cutUnlessBackWithin(id, watch, Math.max(this.timings.connectGraceMs, this.switchLeft(watch)));
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
   * A new interval: from now on nodes are judged by it. Each node is told by its owner (the
   * supervisor) and opens a new liveness link; a link that goes away meanwhile is no outage
   * unless nothing is back when the switch may be over. Resolves once every node watched now has
   * connected its new link, or that time is up.
   */
  switchTo(intervalMs: number): Promise<void> {
    this.configured = { ...this.configured, intervalMs };
    this.timings = livenessTimings(this.configured);
    this.rearmCheck();
    this.switch?.done();
    this.switch = null;
    const now = this.clock();
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
    const until = now + this.timings.connectGraceMs;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), this.timings.connectGraceMs);
      const done = (): void => {
        clearTimeout(timer);
        if (this.switch?.done === done) this.switch = null;
        resolve();
      };
      this.switch = { pending: new Set(this.watches.keys()), until, done };
      for (const [id, watch] of this.watches) {
        const newest = Math.max(-1, ...[...watch.links].map((rid) => this.connected.get(rid)?.generation ?? -1));
        watch.switching = { fromGeneration: newest, until };
        // A fresh window at the new period; a verdict already made stands until the node is heard.
        watch.lastHeard = now;
        if (watch.links.size === 0 && watch.verdict === undefined) this.cutUnlessBackWithin(id, watch, until - now);
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

  /**
   * A ROUTER_NOTIFY message of routing id `rid`: a liveness link connected, or (when it was
   * connected) disconnected. False when the id is not a node's.
   */
  linkNotified(rid: string): boolean {
    const who = parseRoutingId(rid);
    if (who === undefined) return false;
    this.notified(rid, who);
    return true;
  }

  private notified(rid: string, who: { id: number; pid: number; generation: number }): void {
    const wasConnected = this.connected.has(rid);
    if (wasConnected) this.connected.delete(rid);
    else if (this.connected.size < MAX_LINKS) this.connected.set(rid, who);
    const watch = this.watches.get(who.id);
    if (watch === undefined || watch.pid !== who.pid) return;
    if (wasConnected) {
      watch.links.delete(rid);
      if (watch.links.size === 0 && this.timings.graceMs > 0) this.cutUnlessBackWithin(who.id, watch, Math.max(this.timings.graceMs, this.switchLeft(watch)));
      return;
    }
    watch.links.add(rid);
    if (watch.graceTimer !== null) clearTimeout(watch.graceTimer);
    watch.graceTimer = null;
    if (watch.switching !== null && who.generation > watch.switching.fromGeneration) {
      watch.switching = null;
      this.switchMade(who.id);
    }
    if (watch.verdict?.why === 'cut') this.judge(who.id, watch, undefined);
  }

  /** How long the switch in progress may still take for this node (0: none). */
  private switchLeft(watch: Watch): number {
    return watch.switching === null ? 0 : Math.max(0, watch.switching.until - this.clock());
  }

  /** A `cut` verdict in `ms`, unless a link of the node connects (or it is unwatched) before. */
  private cutUnlessBackWithin(id: number, watch: Watch, ms: number): void {
    if (watch.graceTimer !== null) clearTimeout(watch.graceTimer);
    watch.graceTimer = setTimeout(() => {
      watch.graceTimer = null;
      if (this.watches.get(id) !== watch || watch.links.size > 0 || this.configured.intervalMs === 0) return;
      // Still switching: the switch's own end decides (it may have been extended).
      const left = this.switchLeft(watch);
      if (left > 0) return this.cutUnlessBackWithin(id, watch, left);
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
    if (current === null || !current.pending.delete(id) || current.pending.size > 0) return;
    current.done();
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
   * Every beat period: a connected node not heard for 2B is blocked. One turn later, so beats
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

interface Listener {
  readonly generation: number;
  readonly router: Router;
  /** Where nodes on this host connect, and (other hosts) where nodes elsewhere do. */
  readonly ipc: string;
  readonly tcp: string | undefined;
  /** Routing ids of the links connected to it now. */
  readonly links: Set<string>;
  reading: Promise<void>;
}

/**
 * The control's end of every node's liveness link: a ROUTER per interval (libzmq takes its
 * heartbeat settings when it binds), only listening and pinging, read by one loop each, and
 * judged by the LivenessJudge it is. A new interval binds a new one; the one before is closed
 * once every node has moved, or when the switch's time is up (a node still on it is cut then).
 */
export class Liveness extends LivenessJudge {
  /** The listeners bound, the current one last. */
  private readonly listeners: Listener[] = [];
  /** Malformed or unexpected input, by kind. */
  readonly dropped = new Map<string, number>();

  private constructor(
    /** The ipc endpoint of the first listener; later ones add `.<generation>`. */
    private readonly base: string,
    private readonly tcp: LivenessTcp | undefined,
    config: LivenessConfig,
    private readonly log: Logger,
    onChange: (id: number) => void,
  ) {
    super(config, onChange);
  }

  /** Binds the liveness endpoint `endpoint` (and, with other hosts, a tcp one with CURVE) for `config`'s interval. */
  static async open(endpoint: string, config: LivenessConfig, log: Logger, onChange: (id: number) => void, tcp?: LivenessTcp): Promise<Liveness> {
    const liveness = new Liveness(endpoint, tcp, config, log, onChange);
    try {
      await liveness.listen(config);
    } catch (error) {
      liveness.stop();
      throw error;
    }
    return liveness;
  }

  /** Where a node on this host connects its liveness link now. */
  get endpoint(): string {
    return (this.listeners.at(-1) as Listener).ipc;
  }

  /** Where a node on another host connects now (tcp, CURVE), when other hosts are on. */
  get tcpEndpoint(): string | undefined {
    return this.listeners.at(-1)?.tcp;
  }

  /**
   * A new interval: binds a new listener with its settings and starts judging by them. The
   * caller then tells every node to move its link there (`endpoint`, `tcpEndpoint`); `moved`
   * resolves once every node has, or the time for that is up, with the listeners before it closed.
   */
  async changeInterval(intervalMs: number): Promise<{ moved: Promise<void> }> {
    await this.listen({ ...this.config, intervalMs });
    const current = this.listeners.at(-1) as Listener;
    const moved = this.switchTo(intervalMs).then(() => {
      for (const old of this.listeners.filter((l) => l !== current)) this.retire(old);
    });
    return { moved };
  }

  async close(): Promise<void> {
    this.stop();
    for (const listener of this.listeners) listener.router.close();
    await Promise.all(this.listeners.map((l) => l.reading));
  }

  private async listen(config: LivenessConfig): Promise<void> {
    const generation = (this.listeners.at(-1)?.generation ?? -1) + 1;
    const ipc = generation === 0 ? this.base : `${this.base}.${generation}`;
    const router = livenessRouter(livenessTimings(config));
    let tcp: string | undefined;
    try {
      await router.bind(ipc);
      if (this.tcp !== undefined) {
        // libzmq takes the security options per bind: the ipc endpoint stays plain.
        setForNextConnections(router, curveServerOptions(this.tcp.keys));
        await router.bind(`tcp://${this.tcp.ip.includes(':') ? `[${this.tcp.ip}]` : this.tcp.ip}:*`);
        tcp = router.lastEndpoint ?? undefined;
      }
    } catch (error) {
      router.close();
      throw error;
    }
    const listener: Listener = { generation, router, ipc, tcp, links: new Set(), reading: Promise.resolve() };
    listener.reading = this.read(listener);
    this.listeners.push(listener);
  }

  /** Closes a listener of an interval gone by: a link still on it is gone as of now. */
  private retire(listener: Listener): void {
    const at = this.listeners.indexOf(listener);
    if (at === -1) return;
    this.listeners.splice(at, 1);
    listener.router.close();
    for (const rid of listener.links) this.linkNotified(rid);
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
      if (!listener.links.delete(peer)) listener.links.add(peer);
      if (!this.linkNotified(peer)) this.drop('unknown peer');
    }
  }

  private drop(kind: string): void {
    const seen = this.dropped.get(kind) ?? 0;
    this.dropped.set(kind, seen + 1);
    if (seen === 0) this.log.warn({ kind }, 'dropped input on the liveness endpoint; further drops of this kind are only counted');
  }
}
