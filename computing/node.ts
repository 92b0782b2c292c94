/**
 * @module One computing node, once claimed: its place in the data path (forwarding.ts), its
 * dictionary and log (dictionary.ts), and its signs of life (beats.ts), wired together. It
 * serves requests for its own id, forwards the rest one hop down, and relays replies up.
 *
 * The answers of a request frame from its first store on are held until the frame is read and
 * its stores written in one append: so no answer leaves before the store it depends on is in
 * the log. When the disk is full the node stays up read-only: that frame's stores fail `disk
 * full`, loads and forwarding go on, and every later frame with stores tries the disk again, so
 * stores succeed by themselves once there is room (a store is the probe; no timer).
 */
import type { Dealer, Router } from 'zeromq';
import { type ClusterKeys, type FromNode, type LivenessClaim, ProtocolError, type ReplicaClaim, type ToNode } from '../link/index.js';
import { Beats } from './beats.js';
import { type Answer, Dictionary, DiskGate, type FrameEnd } from './dictionary.js';
import { type Answering, Forwarding } from './forwarding.js';
import { ReplicatedLog } from './replication.js';
import type { DiskFullError, StoreLog } from './wal.js';

export interface NodeSetup {
  id: number;
  entries: Map<string, bigint>;
  log: StoreLog;
  fsync: boolean;
  liveness: LivenessClaim;
  curve?: ClusterKeys;
  /** --replicas 2: the leader's chain (absent: no replication, and nothing of it is made). */
  replica?: ReplicaClaim;
}

export class ComputingNode {
  readonly id: number;
  private readonly dictionary: Dictionary;
  private readonly gate: DiskGate;
  private readonly forwarding: Forwarding;
  private readonly beats: Beats;
  /** Dropped input by kind of problem; each kind is reported once on stderr. */
  readonly dropped = new Map<string, number>();
  /** The last append found the disk full (said once on stderr, and once when stores work again). */
  private diskFull = false;
  /** --replicas 2 only: the log as the follower's copy extends it. */
  private readonly replicated: ReplicatedLog | null = null;

  constructor(
    setup: NodeSetup,
    uplink: Dealer,
    router: Router,
    /** Writes a message on the control channel. */
    tell: (msg: Extract<FromNode, { t: 'beat' | 'quiet' | 'caught-up' | 'fenced' | 'follower-late' }>) => void,
    private readonly onFatal: (error: Error) => void,
  ) {
    this.id = setup.id;
    let log = setup.log;
    if (setup.replica !== undefined) {
      const events = {
        caughtUp: (epoch: number) => tell({ t: 'caught-up', epoch }),
        fenced: (epoch: number) => tell({ t: 'fenced', epoch }),
        late: (epoch: number) => tell({ t: 'follower-late', epoch }),
        drop: (kind: string) => this.drop(kind),
      };
      this.replicated = new ReplicatedLog(setup.id, setup.log, setup.entries, setup.fsync, setup.replica, events, setup.curve);
      log = this.replicated;
    }
    // Replicated, replies wait for the follower's copy as they wait for the disk with --fsync.
    this.dictionary = new Dictionary(setup.entries, log, setup.fsync || this.replicated !== null);
    this.gate = new DiskGate(this.dictionary);
    this.forwarding = new Forwarding(setup.id, uplink, router, {
      serve: (request, answer) => this.serve(request, answer),
      frameRead: (answer) => this.frameRead(answer),
      worked: () => this.beats.worked(),
      drop: (kind, count) => this.drop(kind, count),
    });
    this.beats = new Beats(setup.id, setup.liveness, () => this.forwarding.idle && this.gate.pending === 0, tell, setup.curve);
  }

  /** Binds the endpoint our children connect to (see Forwarding.listen); resolves with the tcp endpoint bound, if any. */
  listen(endpoint: string, curve?: ClusterKeys, tcpAlso?: string): Promise<string | undefined> {
    return this.forwarding.listen(endpoint, curve, tcpAlso);
  }

  /** Starts the liveness link and the beats, and runs the reader loops until the sockets close. */
  run(): Promise<void> {
    this.beats.start();
    return this.forwarding.run();
  }

  /** A message of the control channel after the claim (a link: where the node sits now). */
  control(msg: Exclude<ToNode, { t: 'claim' }>): void {
    this.beats.worked();
    if (msg.t === 'replica') {
      if (this.replicated !== null) this.replicated.set(msg);
      else this.drop('replica message without replication');
      return;
    }
    this.forwarding.link(msg, this.dictionary.size);
  }

  stop(): void {
    this.beats.stop();
    this.forwarding.stop();
  }

  /** The log's last words on stop (records never flushed were never acknowledged). */
  close(): void {
    this.dictionary.close();
  }

  private serve(request: Buffer, answer: Answering): void {
    const served = this.dictionary.serve(request, this.id, this.gate.holding);
    if (served instanceof ProtocolError) return this.drop(`request ${served.problem}`);
    if (served !== null) this.give(request, served, answer);
  }

  /** The frame is read: its stores are written (or refused), then the answers it held go. */
  private frameRead(answer: Answering): void {
    let end: FrameEnd;
    try {
      end = this.dictionary.endFrame(this.id, this.gate.holding);
    } catch (failure) {
      return this.onFatal(failure as Error);
    }
    // Only a frame with stores holds answers: it tells whether the disk takes them now.
    if (end.held.length > 0) this.noteDisk(end.full);
    for (const held of end.held) this.give(held.request, held.answer, answer);
    this.gate.frameRead(this.late);
  }

  /** Replies that waited for the disk go up (made once: frameRead runs for every frame). */
  private readonly late = (reply: Buffer): void => this.forwarding.late(reply);

  /** Says on stderr when the disk fills up and when stores work again (once each way). */
  private noteDisk(full: DiskFullError | undefined): void {
    if ((full !== undefined) === this.diskFull) return;
    this.diskFull = full !== undefined;
    process.stderr.write(
      full !== undefined ? `arbor-node ${this.id}: disk full, stores fail until there is room (loads go on): ${full.message}\n` : `arbor-node ${this.id}: the disk takes stores again\n`,
    );
  }

  private give(request: Buffer, served: Answer, answer: Answering): void {
    if (!served.waitsForDisk) return answer.now(served.reply);
    answer.later(request);
    this.gate.hold(served.reply);
  }

  private drop(kind: string, count = 1): void {
    const seen = this.dropped.get(kind) ?? 0;
    this.dropped.set(kind, seen + count);
    if (seen === 0) process.stderr.write(`arbor-node ${this.id}: dropped input (${kind}); further drops of this kind are only counted\n`);
  }
}
