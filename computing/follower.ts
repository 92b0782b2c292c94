/**
 * @module A node's follower (--replicas 2; the rules are control/chains.ts): the second copy of
 * one node's dictionary, in a process of its own outside the tree. It binds an endpoint for its
 * leader, applies each Replicate record in order to its dictionary and log (wal.ts), and
 * acknowledges the highest sequence number once the log has it (handed to the OS, or on the
 * disk with --fsync). It serves no request: the control promotes it by starting a leader on its
 * log.
 *
 * Fencing: it holds the chain's epoch. A record with an older epoch is not applied: the answer
 * says fenced, with its own epoch, so a leader the control has replaced acknowledges nothing.
 */
import type { Router } from 'zeromq';
import { decode, encode, LinkWriter, ProtocolError, splitFrame } from '../link/index.js';
import { type Opened, WriteAheadLog } from './wal.js';

export interface FollowerSetup {
  id: number;
  epoch: number;
  log: string;
  fresh: boolean;
  fsync: boolean;
}

export class Follower {
  private epoch: number;
  private opened: Opened;
  private readonly writer: LinkWriter;
  private stopped = false;
  /** Dropped input by kind (said once each on stderr). */
  private readonly dropped = new Map<string, number>();

  constructor(
    private readonly setup: FollowerSetup,
    private readonly router: Router,
    private readonly fatal: (error: unknown) => never,
  ) {
    this.epoch = setup.epoch;
    this.opened = this.open(setup.fresh);
    this.writer = new LinkWriter(router, () => this.drop('ack send failed'));
  }

  get keys(): number {
    return this.opened.entries.size;
  }

  get cutBytes(): number {
    return this.opened.cutBytes;
  }

  bind(endpoint: string): Promise<void> {
    return this.router.bind(endpoint);
  }

  async run(): Promise<void> {
    try {
      for await (const frames of this.router) {
        const [peer, frame] = frames;
        // ROUTER_NOTIFY's connect and disconnect notices are empty messages.
        if (peer === undefined || frame === undefined || frame.length === 0) continue;
        this.frame(peer.toString('latin1'), frame);
      }
    } catch (error) {
      if (!this.stopped) this.fatal(error);
    }
  }

  stop(): void {
    this.stopped = true;
    this.router.close();
  }

  close(): void {
    this.opened.log.close();
  }

  private frame(peer: string, frame: Buffer): void {
    let last: number | null = null;
    let fenced = false;
    const error = splitFrame(frame, (rec) => {
      const msg = decode(rec);
      if (msg instanceof ProtocolError || msg.kind !== 'replicate') return this.drop(msg instanceof ProtocolError ? `replicate ${msg.problem}` : 'not a replicate');
      if (msg.node !== this.setup.id) return this.drop('replicate of another node');
      if (msg.epoch < this.epoch) {
        fenced = true;
        return;
      }
      this.epoch = msg.epoch;
      if (msg.reset) this.reset();
      const { entries, log } = this.opened;
      for (const op of msg.ops) {
        if (op.value !== undefined) {
          const isNew = !entries.has(op.name);
          entries.set(op.name, op.value);
          log.append(op.name, op.value, isNew);
        } else if (entries.delete(op.name)) log.appendDelete(op.name);
      }
      last = msg.corr;
    });
    if (error !== undefined) this.drop(`replicate ${error.problem}`);
    if (fenced) this.writer.push(peer, encode({ kind: 'replica-ack', corr: 0, node: this.setup.id, epoch: this.epoch, fenced: true }));
    if (last === null) return;
    const full = this.opened.log.flush();
    // Not logged: not acknowledged (the leader's stores wait; the control decides what follows).
    if (full !== undefined) return this.drop(`disk full: ${full.message}`);
    const ack = encode({ kind: 'replica-ack', corr: last, node: this.setup.id, epoch: this.epoch, fenced: false });
    if (this.setup.fsync) this.opened.log.whenDurable(() => this.writer.push(peer, ack));
    else this.writer.push(peer, ack);
  }

  /** A snapshot starts: the copy is emptied, log and all, and rebuilt from what follows. */
  private reset(): void {
    this.opened.log.close();
    this.opened = this.open(true);
  }

  private open(fresh: boolean): Opened {
    try {
      return WriteAheadLog.open(this.setup.log, { fresh }, { fatal: this.fatal, warn: (message) => process.stderr.write(`arbor-node ${this.setup.id} (follower): ${message}\n`) });
    } catch (error) {
      return this.fatal(error);
    }
  }

  private drop(kind: string): void {
    const seen = this.dropped.get(kind) ?? 0;
    this.dropped.set(kind, seen + 1);
    if (seen === 0) process.stderr.write(`arbor-node ${this.setup.id} (follower): dropped input (${kind}); further drops of this kind are only counted\n`);
  }
}
