/**
 * @module One computing node, once claimed: its place in the data path (forwarding.ts), its
 * dictionary and log (dictionary.ts), and its signs of life (beats.ts), wired together. It
 * serves requests for its own id, forwards the rest one hop down, and relays replies up.
 */
import type { Dealer, Router } from 'zeromq';
import { type ClusterKeys, type LivenessClaim, ProtocolError, type ToNode } from '../link/index.js';
import { Beats } from './beats.js';
import { Dictionary, DiskGate } from './dictionary.js';
import { Forwarding } from './forwarding.js';
import type { StoreLog } from './wal.js';

export interface NodeSetup {
  id: number;
  entries: Map<string, bigint>;
  log: StoreLog;
  fsync: boolean;
  liveness: LivenessClaim;
  curve?: ClusterKeys;
}

export class ComputingNode {
  readonly id: number;
  private readonly dictionary: Dictionary;
  private readonly gate: DiskGate;
  private readonly forwarding: Forwarding;
  private readonly beats: Beats;
  /** Dropped input by kind of problem; each kind is reported once on stderr. */
  readonly dropped = new Map<string, number>();

  constructor(
    setup: NodeSetup,
    uplink: Dealer,
    router: Router,
    /** Writes a message on the control channel. */
    tell: (msg: { t: 'beat' } | { t: 'quiet' }) => void,
    private readonly onFatal: (error: Error) => void,
  ) {
    this.id = setup.id;
    this.dictionary = new Dictionary(setup.entries, setup.log, setup.fsync);
    this.gate = new DiskGate(this.dictionary);
    this.forwarding = new Forwarding(setup.id, uplink, router, {
      serve: (request, reply, later) => this.serve(request, reply, later),
      frameRead: () => this.gate.frameRead((reply) => this.forwarding.late(reply)),
      worked: () => this.beats.worked(),
      // The log is written before anything leaves upwards: no reply overtakes its store.
      beforeSend: () => this.writeLog(),
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
    this.forwarding.link(msg, this.dictionary.size);
  }

  stop(): void {
    this.writeLog();
    this.beats.stop();
    this.forwarding.stop();
  }

  /** The log's last words on stop (records never flushed were never acknowledged). */
  close(): void {
    this.dictionary.close();
  }

  private serve(request: Buffer, reply: (answer: Buffer) => void, later: (request: Buffer) => void): void {
    const answer = this.dictionary.serve(request, this.id, this.gate.holding);
    if (answer instanceof ProtocolError) return this.drop(`request ${answer.problem}`);
    if (!answer.waitsForDisk) return reply(answer.reply);
    later(request);
    this.gate.hold(answer.reply);
  }

  private writeLog(): void {
    try {
      this.dictionary.flush();
    } catch (failure) {
      this.onFatal(failure as Error);
    }
  }

  private drop(kind: string, count = 1): void {
    const seen = this.dropped.get(kind) ?? 0;
    this.dropped.set(kind, seen + count);
    if (seen === 0) process.stderr.write(`arbor-node ${this.id}: dropped input (${kind}); further drops of this kind are only counted\n`);
  }
}
