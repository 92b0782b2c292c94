/**
 * @module Chains (--replicas 2): every node kept by two processes, a leader and a follower, and
 * the control as the chain's only master (chain replication, van Renesse and Schneider, OSDI
 * 2004; fencing as Kafka's leader epochs). This module owns the chain state of every node; with
 * `--replicas 1` (the default) none of it exists and nothing here runs.
 *
 * Design, the rules everything else follows from:
 * - Where: the leader is the node's process in the tree (supervisor.ts owns its life); the
 *   follower is a process of the same program (computing/follower.ts) outside the routing path:
 *   no link, no child, no request reaches it. It runs on this host (another host when one is
 *   connected is not done yet: see the remaining points).
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
 *   when that restart cannot claim a process (its log is corrupt, ...) and the follower is in
 *   sync, the follower is stopped, the epoch raised, the leader's log becomes the follower's log,
 *   and the leader restarts on it (solo: one copy, said here), then a new follower catches up.
 *   Commands wait meanwhile within their deadlines, and the children are linked again as after
 *   any restart.
 * - Follower lost (its process exited, none could be started, or its leader reported it late):
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
  | { t: 'catching-up'; proc: ComputingProcess; endpoint: string }
  /** Holds everything the leader acknowledged: a copy, promotable. */
  | { t: 'in-sync'; proc: ComputingProcess; endpoint: string }
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
}

/** The chain's view for the leader's claim and `replica` messages (pure); `lateMs` as `followerLateMs` gives it. */
export function replicaClaim(chain: Chain, lateMs?: number): ReplicaClaim {
  const f = chain.follower;
  return { epoch: chain.epoch, follower: f.t === 'catching-up' || f.t === 'in-sync' ? f.endpoint : null, solo: chain.solo, ...(lateMs !== undefined && { lateMs }) };
}

/**
 * How long a follower may acknowledge nothing while records wait for it before its leader
 * reports it late (pure): half the request timeout, so that stores held by a frozen follower
 * are released (the leader goes solo) before their deadlines; at least 100 ms, so one slow
 * write(2) or a short pause of the follower does not cost it a new snapshot.
 */
export function followerLateMs(requestTimeoutMs: number): number {
  return Math.max(100, Math.floor(requestTimeoutMs / 2));
}

/** The chain as Topology shows it (pure). */
export function replicaSnapshot(chain: Chain, host: string): ReplicaSnapshot {
  const f = chain.follower;
  const proc = f.t === 'catching-up' || f.t === 'in-sync' ? f.proc : null;
  return { epoch: chain.epoch, followerState: f.t === 'stopped' ? 'none' : f.t, followerPid: proc?.pid ?? null, followerHost: host, solo: chain.solo };
}

/** What the chains need of the rest of the control. */
export interface ChainsCore {
  storage: NodeStorage;
  log: Logger;
  /** Starts a follower process for `id` on the log at `log` (fresh), at `epoch`; resolves with it once ready. */
  startFollower(id: number, log: string, epoch: number): Promise<{ proc: ComputingProcess; endpoint: string }>;
  /** The control's shutdown. */
  stopping: AbortSignal;
  /** A follower acknowledging nothing this long while records wait is reported late by its leader (`followerLateMs`). */
  lateMs: number;
}

/** How long to wait before starting a follower again after a start failed. */
const FOLLOWER_RETRY_MS = 500;

export class Chains {
  private readonly chains = new Map<number, Chain>();

  constructor(private readonly core: ChainsCore) {}

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
    return { ...replicaClaim(chain, this.core.lateMs), follower: null };
  }

  /**
   * The leader serves: its follower is given to it, counting as catching up again (the new
   * leader sends it a snapshot); a follower is started if there is none.
   */
  leaderReady(id: number): void {
    const chain = this.chain(id);
    const f = chain.follower;
    if (f.t === 'none') void this.startFollower(chain);
    else if (f.t === 'in-sync' || f.t === 'catching-up') this.setFollower(chain, { t: 'catching-up', proc: f.proc, endpoint: f.endpoint }, `its leader is now pid ${chain.leader?.pid ?? '?'}`);
  }

  /**
   * The leader's restart in place failed: when the follower is a copy, it is promoted (the caller
   * restarts the leader on the log `leaderLog` names now). False when it is not a copy.
   */
  async takeover(id: number, why: string): Promise<boolean> {
    const chain = this.chains.get(id);
    if (chain === undefined || chain.follower.t !== 'in-sync') return false;
    const proc = chain.follower.proc;
    chain.epoch++;
    this.setFollower(chain, { t: 'none', why: `promoted at epoch ${chain.epoch}` }, `promoted: ${why}`);
    await proc.stop();
    const base = this.core.storage.logPath(id);
    if (base !== null) {
      const old = slotPath(base, chain.leaderSlot);
      // Kept for someone to look at (it may be corrupt); the new follower starts on that slot fresh.
      try {
        if (existsSync(old)) renameSync(old, `${old}.replaced-${chain.epoch}`);
      } catch (error) {
        this.core.log.warn({ node: id, error: String(error) }, `node ${id}: cannot keep its replaced log aside; the new follower starts over it`);
      }
    }
    chain.leaderSlot = chain.leaderSlot === 0 ? 1 : 0;
    chain.solo = true;
    chain.leader = null;
    this.save(chain);
    this.core.log.warn({ node: id, epoch: chain.epoch, why }, `node ${id}: takeover: its follower's log leads at epoch ${chain.epoch}`);
    return true;
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
      chain = { id, epoch: kept?.epoch ?? 1, leaderSlot: kept?.leaderSlot ?? 0, solo: false, follower: { t: 'none', why: 'not started yet' }, leader: null };
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
    if (leader !== null && !leader.hasExited && next.t !== 'stopped') leader.send({ t: 'replica', ...replicaClaim(chain, this.core.lateMs) });
  }

  private fromLeader(chain: Chain, proc: ComputingProcess, msg: Extract<FromNode, { t: 'caught-up' | 'fenced' | 'follower-late' }>): void {
    if (chain.leader !== proc || msg.epoch !== chain.epoch) return;
    const f = chain.follower;
    if (msg.t === 'caught-up' && f.t === 'catching-up') {
      chain.solo = false;
      this.setFollower(chain, { t: 'in-sync', proc: f.proc, endpoint: f.endpoint }, 'caught up');
    } else if (msg.t === 'follower-late' && (f.t === 'catching-up' || f.t === 'in-sync')) {
      // Lost as if it had exited; then killed (SIGKILL: a frozen process gets it too), so it can
      // never acknowledge anything later. The new epoch fences it already: the leader drops its
      // socket, and the next follower starts its slot's log fresh.
      this.core.log.warn({ node: chain.id, pid: f.proc.pid, epoch: chain.epoch }, `node ${chain.id}: its follower pid ${f.proc.pid} stopped acknowledging; killed`);
      f.proc.kill();
      this.followerLost(chain, f.proc, `it acknowledged nothing for ${this.core.lateMs} ms`);
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
        const { proc, endpoint } = await this.core.startFollower(chain.id, slotPath(base, chain.leaderSlot === 0 ? 1 : 0), chain.epoch);
        if (followerOf(chain).t !== 'starting') {
          void proc.stop();
          return;
        }
        this.setFollower(chain, { t: 'catching-up', proc, endpoint }, `pid ${proc.pid}`);
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
   * The follower is lost (its process exited, or its leader reported it late): the epoch is
   * raised, the leader goes on alone (said here), and a new follower starts.
   */
  private followerLost(chain: Chain, proc: ComputingProcess, why: string): void {
    const f = chain.follower;
    if ((f.t !== 'catching-up' && f.t !== 'in-sync') || f.proc !== proc || this.core.stopping.aborted) return;
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
