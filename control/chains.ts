/**
 * @module Chains (--replicas 2): every node kept by two processes, a leader and a follower, and
 * the control as the chain's only master (chain replication, van Renesse and Schneider, OSDI
 * 2004; fencing as Kafka's leader epochs). This module owns the chain state of every node; with
 * `--replicas 1` (the default) none of it exists and nothing here runs.
 *
 * Design, the rules everything else follows from:
 * - Where: the leader is the node's process in the tree (supervisor.ts owns its life); the
 *   follower is a process of the same program (computing/follower.ts) outside the routing path:
 *   no link, no child, no request reaches it. It runs on another host than its leader's whenever
 *   one is connected (the one with the fewest processes), on the leader's own host otherwise; a
 *   follower that had to share its leader's host moves when another host joins (a new follower
 *   there catches up, then the old one stops: never fewer copies meanwhile).
 * - Epochs: each chain has an epoch that only this module raises (when a copy is lost or a
 *   follower is promoted). The leader's claim and every `replica` message carry it, and so does
 *   every Replicate record; a follower refuses records of an older epoch and says fenced, and a
 *   fenced leader acknowledges nothing more. Going on with one copy is a decision made here,
 *   with a new epoch (Kafka's min.insync.replicas = 1 after the ISR shrank, said by the
 *   controller).
 * - Stores: a store is acknowledged only once both copies have it in their logs (handed to the
 *   OS by write(2), or on the disk with --fsync on both); a delete is a store. Between a leader's
 *   log append and the follower's ack the reply waits, as replies wait for the disk with --fsync.
 * - Loads: the leader answers a load only once every store it has logged is on both copies (a
 *   load waits behind unacknowledged stores), so a load never shows a value a takeover loses.
 * - Catch-up: a follower (new, or the same one under a restarted leader) gets a snapshot of the
 *   whole dictionary, then the log's tail, and counts as a copy (`in-sync`, promotable) only once
 *   the leader says it acknowledged the snapshot. A leader restarted in place is given its
 *   follower once it is ready (a claim that fails leaves the follower a copy, for a takeover),
 *   and waits for it before acknowledging anything (not solo): no window of one copy opens.
 * - Takeover: a leader whose process dies restarts in place from its log, as without replicas;
 *   when that restart cannot claim a process (its log is corrupt, ...), or its host is lost
 *   (hosts.ts: its link closed, or it stayed away longer than its agent's orphan grace), and the
 *   follower is in sync on a host that is connected, the epoch is raised, the node moves to the
 *   follower's host, and the follower's process itself is claimed as the leader on its own log
 *   (solo: one copy, said here; no process start), then a new follower catches up. Commands
 *   wait meanwhile within their deadlines, and the children are linked again as after any
 *   restart. The old leader, if it still runs somewhere cut off, is fenced: its follower is gone,
 *   the new chain's epoch is higher, and its agent is told to SIGKILL it when it is back. Its log
 *   stays where it was; a follower started later on that host keeps it aside
 *   (`<log>.replaced-<epoch>`) before it starts fresh.
 * - Follower lost (its process exited, none could be started, its host was lost, or its leader
 *   reported it late):
 *   the epoch is raised and the leader told to go on solo; a new follower is started and catches
 *   up, and once it has, the leader waits for it again by itself (stricter, so it needs no word
 *   from here).
 * - Follower liveness: the leader is the one that waits for the follower, so it is the one that
 *   judges it (no second liveness link: a follower is judged by the only thing that matters of
 *   it, its acks). A follower that acknowledges nothing for `followerLateMs` (half the request
 *   timeout) while records wait for it, frozen (SIGSTOP), stuck or cut off, is reported late by
 *   its leader (`follower-late`, once per follower and epoch); the control kills it (SIGKILL, so
 *   it can never ack later; the new epoch fences it anyway) and treats it as lost. Stores it held
 *   are thus released within about 1.25 x followerLateMs and a round trip, before their
 *   deadlines. An idle follower is not judged: it holds nothing up; the next store finds it. A
 *   leader whose own loop was held up starts the count again rather than blame its follower.
 *
 * Logs: the two copies live in two slots, `<id>.wal` and `<id>.copy.wal`; `leaderSlot` says which
 * one the leader uses. A replaced leader's log is kept, renamed `<log>.replaced-<epoch>`. The
 * epoch and the leader's slot are kept in `<id>.chain` beside them (written to a new file and
 * renamed over, before the takeover's leader starts), so a gateway started again on its
 * --data-dir brings back the same chains.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import type { Logger } from '../lib/logger.js';
import { readPlainFile, writeNewFile } from '../lib/plain-file.js';
import { syncDirectory } from '../lib/sync-directory.js';
import { dirname } from 'node:path';
import type { FromNode, ReplicaClaim } from '../link/index.js';
import type { ReplicaSnapshot } from './api.js';
import type { ComputingProcess } from './process.js';
import type { NodeStorage } from './storage.js';

type Slot = 0 | 1;

/** A follower's life, changed only by `setFollower`. */
export type FollowerLife =
  /** None now (never started yet, lost, or promoted). */
  | { t: 'none'; why: string }
  /** Being started and claimed. */
  | { t: 'starting'; since: number }
  /** Claimed and given to the leader; not yet a copy (its snapshot is not acknowledged). */
  | { t: 'catching-up'; proc: ComputingProcess; endpoint: string; host: string }
  /** Holds everything the leader acknowledged: a copy, promotable. */
  | { t: 'in-sync'; proc: ComputingProcess; endpoint: string; host: string }
  /** The node is removed or the control stops. */
  | { t: 'stopped' };

export interface Chain {
  readonly id: number;
  epoch: number;
  leaderSlot: Slot;
  /** The control has said the leader may acknowledge with one copy. */
  solo: boolean;
  follower: FollowerLife;
  /** The leader's process once its claim was sent (so `replica` messages follow it in order). */
  leader: ComputingProcess | null;
  /** Hosts where a replaced leader's log may lie in the follower's slot: a follower there keeps it aside first. */
  readonly keepOn: Set<string>;
  /** The host of the follower lost last: a new one goes elsewhere when it can (that host may be cut off). */
  lostOn: string | null;
  /** A move of its follower to another host is under way. */
  moving: boolean;
}

/** The chain's view for the leader's claim and `replica` messages (pure); `lateMs` as `followerLateMs` gives it. */
export function replicaClaim(chain: Chain, lateMs?: number): ReplicaClaim {
  const f = chain.follower;
  return { epoch: chain.epoch, follower: f.t === 'catching-up' || f.t === 'in-sync' ? f.endpoint : null, solo: chain.solo, ...(lateMs !== undefined && { lateMs }) };
}

/**
 * How long a follower may acknowledge nothing while records wait for it before its leader
 * reports it late (pure): half the request timeout, so that stores held by a frozen follower
 * are released (the leader goes solo) before their deadlines; with heartbeats on, at most 4
 * intervals, the silence after which a node is unavailable too (so a cut follower holds stores
 * no longer than a cut node is noticed: within 4T + 1 s); at least 100 ms, so one slow write(2)
 * or a short pause of the follower does not cost it a new snapshot.
 */
export function followerLateMs(requestTimeoutMs: number, heartbeatMs = 0): number {
  const half = Math.floor(requestTimeoutMs / 2);
  return Math.max(100, heartbeatMs > 0 ? Math.min(half, 4 * heartbeatMs) : half);
}

/** The chain as Topology shows it (pure). */
export function replicaSnapshot(chain: Chain): ReplicaSnapshot {
  const f = chain.follower;
  const copy = f.t === 'catching-up' || f.t === 'in-sync' ? f : null;
  return { epoch: chain.epoch, followerState: f.t === 'stopped' ? 'none' : f.t, followerPid: copy?.proc.pid ?? null, followerHost: copy?.host ?? '', solo: chain.solo };
}

/** Where a follower may go. */
export interface FollowerPlace {
  /** The leader's host: another one is chosen when one is usable. */
  leaderHost: string;
  /** Not this host, when another one is usable (the host of the follower lost last). */
  avoid: string | null;
  /** Only another host than the leader's, or none (a move). */
  elsewhereOnly: boolean;
  /** Hosts where the follower keeps the log it finds aside first (a replaced leader's). */
  keepOn: ReadonlySet<string>;
}

/** What the chains need of the rest of the control. */
export interface ChainsCore {
  storage: NodeStorage;
  log: Logger;
  /** Starts a follower process for `id` on the log at `log` (fresh), at `epoch`, on a host `place` allows; resolves with it once ready. */
  startFollower(id: number, log: string, epoch: number, place: FollowerPlace): Promise<{ proc: ComputingProcess; endpoint: string; host: string }>;
  /** The host node `id`'s leader runs on (its log is there). */
  hostOf(id: number): string;
  /** Whether `host` is connected (this host always is). */
  usable(host: string): boolean;
  /** This host's name. */
  localHost: string;
  /** Other hosts may join (a cluster endpoint is open): followers beside their leader look for another host now and then. */
  spreads: boolean;
  /** The control's shutdown. */
  stopping: AbortSignal;
  /** A follower acknowledging nothing this long while records wait is reported late by its leader (`followerLateMs`, now). */
  lateMs(): number;
}

/** How often followers beside their leader look for another host (with other hosts only). */
const SPREAD_EVERY_MS = 5000;

/** How long to wait before starting a follower again after a start failed. */
const FOLLOWER_RETRY_MS = 500;

export class Chains {
  private readonly chains = new Map<number, Chain>();

  constructor(private readonly core: ChainsCore) {
    if (core.spreads) {
      const timer = setInterval(() => this.spread(), SPREAD_EVERY_MS);
      timer.unref();
      core.stopping.addEventListener('abort', () => clearInterval(timer), { once: true });
    }
  }

  get(id: number): Chain | undefined {
    return this.chains.get(id);
  }

  /** The log the leader of `id` uses now (made on first use). */
  leaderLog(id: number): string | null {
    const base = this.core.storage.logPath(id);
    return base === null ? null : slotPath(base, this.chain(id).leaderSlot);
  }

  /**
   * The leader's claim is being sent to `proc`: the chain's state for it, without its follower
   * (given once it is ready, so a claim that fails leaves the follower as it was: still a copy).
   * Not solo unless the control said so: until then stores wait.
   */
  leaderClaimed(id: number, proc: ComputingProcess): ReplicaClaim {
    const chain = this.chain(id);
    chain.leader = proc;
    proc.onChain = (msg) => this.fromLeader(chain, proc, msg);
    return { ...replicaClaim(chain, this.core.lateMs()), follower: null };
  }

  /**
   * The leader serves: its follower is given to it, counting as catching up again (the new
   * leader sends it a snapshot); a follower is started if there is none.
   */
  leaderReady(id: number): void {
    const chain = this.chain(id);
    const f = chain.follower;
    if (f.t === 'none') void this.startFollower(chain);
    else if (f.t === 'in-sync' || f.t === 'catching-up') this.setFollower(chain, { ...f, t: 'catching-up' }, `its leader is now pid ${chain.leader?.pid ?? '?'}`);
  }

  /** The heartbeat changed: every leader is told the follower-late time that follows from it. */
  retune(): void {
    for (const chain of this.chains.values()) {
      const leader = chain.leader;
      if (leader !== null && !leader.hasExited && chain.follower.t !== 'stopped') leader.send({ t: 'replica', ...replicaClaim(chain, this.core.lateMs()) });
    }
  }

  /** Whether node `id`'s follower may take over now: a copy, on a connected host. */
  canTakeOver(id: number): boolean {
    const f = this.chains.get(id)?.follower;
    return f?.t === 'in-sync' && this.core.usable(f.host);
  }

  /** Host `name` is lost: every follower on it is lost (a new one starts elsewhere; its leader goes on alone meanwhile). */
  hostLost(name: string): void {
    for (const chain of this.chains.values()) {
      const f = chain.follower;
      // A kill on a host that is away ends the process for us at once (hosts.ts); its exit makes it lost.
      if ((f.t === 'catching-up' || f.t === 'in-sync') && f.host === name) f.proc.kill();
    }
  }

  /**
   * Followers that had to share their leader's host move to another one if one is usable: when
   * a host joins or comes back, and every SPREAD_EVERY_MS (a host cut off for less than its
   * link's timeout never left, and a follower may have been put beside its leader meanwhile).
   */
  spread(): void {
    for (const chain of this.chains.values()) {
      const f = chain.follower;
      if (f.t === 'in-sync' && f.host === this.core.hostOf(chain.id) && !chain.moving) void this.move(chain, f);
    }
  }

  /**
   * The leader cannot restart in place (its log, or its host, is lost): when the follower is a
   * copy on a connected host, it is promoted; resolves with the host the node moves to and the
   * follower's process, which the caller claims as the leader there, on the log `leaderLog`
   * names now (no process start: computing/main.ts `promote`). Null when it is not a copy.
   */
  takeover(id: number, why: string): { host: string; proc: ComputingProcess } | null {
    const chain = this.chains.get(id);
    const f = chain?.follower;
    if (chain === undefined || f?.t !== 'in-sync' || !this.core.usable(f.host)) return null;
    const oldHost = this.core.hostOf(id);
    chain.epoch++;
    this.setFollower(chain, { t: 'none', why: `promoted at epoch ${chain.epoch}` }, `promoted: ${why}`);
    const base = this.core.storage.logPath(id);
    if (base !== null && oldHost === this.core.localHost) {
      const old = slotPath(base, chain.leaderSlot);
      // Kept for someone to look at (it may be corrupt); the new follower starts on that slot fresh.
      try {
        if (existsSync(old)) renameSync(old, `${old}.replaced-${chain.epoch}`);
      } catch (error) {
        this.core.log.warn({ node: id, error: String(error) }, `node ${id}: cannot keep its replaced log aside; the new follower starts over it`);
      }
    } else if (oldHost !== f.host) chain.keepOn.add(oldHost);
    chain.leaderSlot = chain.leaderSlot === 0 ? 1 : 0;
    chain.solo = true;
    chain.leader = null;
    this.save(chain);
    this.core.log.warn({ node: id, epoch: chain.epoch, why, from: oldHost, to: f.host }, `node ${id}: takeover: its follower's log on host ${f.host} leads at epoch ${chain.epoch}`);
    return { host: f.host, proc: f.proc };
  }

  /** The node is removed, or the control stops: its follower is stopped. */
  async stop(id: number): Promise<void> {
    const chain = this.chains.get(id);
    if (chain === undefined) return;
    const f = chain.follower;
    this.setFollower(chain, { t: 'stopped' }, 'stopped');
    if (f.t === 'catching-up' || f.t === 'in-sync') await f.proc.stop();
  }

  /** The node is forgotten: its copy's log and its chain file are deleted with it (slot 0 is the storage's). */
  forget(id: number): void {
    const base = this.core.storage.logPath(id);
    if (base !== null) {
      rmSync(slotPath(base, 1), { force: true });
      rmSync(`${base}.chain`, { force: true });
    }
    this.chains.delete(id);
  }

  private chain(id: number): Chain {
    let chain = this.chains.get(id);
    if (chain === undefined) {
      const kept = this.load(id);
      chain = { id, epoch: kept?.epoch ?? 1, leaderSlot: kept?.leaderSlot ?? 0, solo: false, follower: { t: 'none', why: 'not started yet' }, leader: null, keepOn: new Set(), lostOn: null, moving: false };
      this.chains.set(id, chain);
    }
    return chain;
  }

  /** The chain file's epoch and leader slot, when one was kept (a takeover happened before). */
  private load(id: number): { epoch: number; leaderSlot: Slot } | undefined {
    const base = this.core.storage.logPath(id);
    if (base === null) return undefined;
    try {
      const bytes = readPlainFile(`${base}.chain`, 4096);
      if (bytes === undefined) return undefined;
      const kept = parseChainFile(bytes.toString('utf8'));
      if (kept === undefined) this.core.log.warn({ node: id }, `node ${id}: its chain file is not valid; starting at epoch 1 on ${base}`);
      return kept;
    } catch (error) {
      this.core.log.warn({ node: id, error: String(error) }, `node ${id}: cannot read its chain file`);
      return undefined;
    }
  }

  /** Keeps the epoch and leader slot (new file, renamed over the old one; synced with --fsync). */
  private save(chain: Chain): void {
    const base = this.core.storage.logPath(chain.id);
    if (base === null) return;
    const { fsync } = this.core.storage;
    try {
      const tmp = writeNewFile(`${base}.chain.tmp-`, Buffer.from(`${JSON.stringify({ epoch: chain.epoch, leaderSlot: chain.leaderSlot })}\n`), fsync);
      renameSync(tmp, `${base}.chain`);
      if (fsync) syncDirectory(dirname(base));
    } catch (error) {
      // The chain goes on in memory; only a gateway started again on this data dir would not know it.
      this.core.log.error({ node: chain.id, error: String(error) }, `node ${chain.id}: cannot keep its chain file (epoch ${chain.epoch}, leader slot ${chain.leaderSlot})`);
    }
  }

  /** The only place a follower's life changes; the leader is told what follows for it. */
  private setFollower(chain: Chain, next: FollowerLife, why: string): void {
    const from = chain.follower;
    if (from.t === 'stopped') return;
    chain.follower = next;
    if (from.t !== next.t || why.startsWith('its leader')) this.core.log.info({ node: chain.id, from: from.t, to: next.t, epoch: chain.epoch, why }, `node ${chain.id} follower: ${from.t} -> ${next.t} (${why})`);
    const leader = chain.leader;
    if (leader !== null && !leader.hasExited && next.t !== 'stopped') leader.send({ t: 'replica', ...replicaClaim(chain, this.core.lateMs()) });
  }

  private fromLeader(chain: Chain, proc: ComputingProcess, msg: Extract<FromNode, { t: 'caught-up' | 'fenced' | 'follower-late' }>): void {
    if (chain.leader !== proc || msg.epoch !== chain.epoch) return;
    const f = chain.follower;
    if (msg.t === 'caught-up' && f.t === 'catching-up') {
      chain.solo = false;
      this.setFollower(chain, { ...f, t: 'in-sync' }, 'caught up');
    } else if (msg.t === 'follower-late' && (f.t === 'catching-up' || f.t === 'in-sync')) {
      // Lost as if it had exited; then killed (SIGKILL: a frozen process gets it too), so it can
      // never acknowledge anything later. The new epoch fences it already: the leader drops its
      // socket, and the next follower starts its slot's log fresh.
      this.core.log.warn({ node: chain.id, pid: f.proc.pid, epoch: chain.epoch }, `node ${chain.id}: its follower pid ${f.proc.pid} stopped acknowledging; killed`);
      f.proc.kill();
      this.followerLost(chain, f.proc, `it acknowledged nothing for ${this.core.lateMs()} ms`);
    } else if (msg.t === 'fenced') {
      this.core.log.warn({ node: chain.id, epoch: chain.epoch }, `node ${chain.id}: its leader was fenced by a newer epoch`);
    }
  }

  private async startFollower(chain: Chain): Promise<void> {
    const base = this.core.storage.logPath(chain.id);
    if (base === null) return;
    for (;;) {
      if (this.core.stopping.aborted || chain.follower.t !== 'none') return;
      this.setFollower(chain, { t: 'starting', since: Date.now() }, 'starting');
      try {
        const place = { leaderHost: this.core.hostOf(chain.id), avoid: chain.lostOn, elsewhereOnly: false, keepOn: chain.keepOn };
        const { proc, endpoint, host } = await this.core.startFollower(chain.id, slotPath(base, chain.leaderSlot === 0 ? 1 : 0), chain.epoch, place);
        if (followerOf(chain).t !== 'starting') {
          void proc.stop();
          return;
        }
        chain.keepOn.delete(host);
        this.setFollower(chain, { t: 'catching-up', proc, endpoint, host }, `pid ${proc.pid} on host ${host}`);
        void proc.exited.then(() => this.followerLost(chain, proc, 'its process exited'));
        return;
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        this.core.log.warn({ node: chain.id, why }, 'follower start failed');
        if (followerOf(chain).t !== 'starting') return;
        // No follower can be had now: the leader goes on alone (said here, with a new epoch) until one catches up.
        if (!chain.solo) {
          chain.epoch++;
          chain.solo = true;
          this.save(chain);
        }
        this.setFollower(chain, { t: 'none', why }, why);
        await new Promise((resolve) => setTimeout(resolve, FOLLOWER_RETRY_MS).unref());
      }
    }
  }

  /**
   * `f` shares its leader's host: a new follower is started on another host and, once claimed,
   * replaces it (at a new epoch, so the old one's acks count for nothing); the old one stops after.
   * The leader waits for the new one to catch up (not solo): two copies all along.
   */
  private async move(chain: Chain, f: Extract<FollowerLife, { t: 'in-sync' }>): Promise<void> {
    const base = this.core.storage.logPath(chain.id);
    if (base === null) return;
    chain.moving = true;
    try {
      const place = { leaderHost: this.core.hostOf(chain.id), avoid: null, elsewhereOnly: true, keepOn: chain.keepOn };
      const next = await this.core.startFollower(chain.id, slotPath(base, chain.leaderSlot === 0 ? 1 : 0), chain.epoch + 1, place);
      if (chain.follower !== f || this.core.stopping.aborted) {
        void next.proc.stop();
        return;
      }
      chain.keepOn.delete(next.host);
      chain.epoch++;
      this.save(chain);
      this.setFollower(chain, { t: 'catching-up', proc: next.proc, endpoint: next.endpoint, host: next.host }, `moved to host ${next.host} (pid ${next.proc.pid}); it shared its leader's host ${f.host}`);
      void next.proc.exited.then(() => this.followerLost(chain, next.proc, 'its process exited'));
      await f.proc.stop();
    } catch (error) {
      this.core.log.debug({ node: chain.id, why: error instanceof Error ? error.message : String(error) }, `node ${chain.id}: its follower stays on its leader's host`);
    } finally {
      chain.moving = false;
    }
  }

  /**
   * The follower is lost (its process exited, or its leader reported it late): the epoch is
   * raised, the leader goes on alone (said here), and a new follower starts.
   */
  private followerLost(chain: Chain, proc: ComputingProcess, why: string): void {
    const f = chain.follower;
    if ((f.t !== 'catching-up' && f.t !== 'in-sync') || f.proc !== proc || this.core.stopping.aborted) return;
    chain.lostOn = f.host;
    chain.epoch++;
    chain.solo = true;
    this.save(chain);
    this.setFollower(chain, { t: 'none', why }, `${why}; the leader goes on alone at epoch ${chain.epoch}`);
    void this.startFollower(chain);
  }
}

/** A chain file's content, or undefined when it is not one (pure). */
export function parseChainFile(text: string): { epoch: number; leaderSlot: Slot } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { epoch, leaderSlot } = value as { epoch?: unknown; leaderSlot?: unknown };
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 1 || epoch > 0xffffffff) return undefined;
  if (leaderSlot !== 0 && leaderSlot !== 1) return undefined;
  return { epoch, leaderSlot };
}

/** The follower's life now (read again after an await: it may have changed meanwhile). */
const followerOf = (chain: Chain): FollowerLife => chain.follower;

/** The log of slot `slot` for a node whose log (slot 0) is `base`. */
export function slotPath(base: string, slot: Slot): string {
  return slot === 0 ? base : base.replace(/(\.wal)?$/, '.copy.wal');
}
