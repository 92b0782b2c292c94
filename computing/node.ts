/**
 * @module One computing node: serves requests for its own id from its dictionary, forwards any
 * other request one hop down by the search-tree rule, and relays replies from its children up.
 */
import type { Dealer, Router } from 'zeromq';
import {
  decode,
  encode,
  FailReason,
  Kind,
  LinkWriter,
  nextHop,
  ProtocolError,
  recordCorr,
  recordKind,
  recordNode,
  routingId,
  splitFrame,
} from './protocol/index.js';

const isRequest = (kind: number): boolean => kind === Kind.Store || kind === Kind.Load || kind === Kind.Ping;
const isReply = (kind: number): boolean =>
  kind === Kind.Value || kind === Kind.Pong || kind === Kind.Fail || kind === Kind.Hello;

export class ComputingNode {
  private readonly store = new Map<string, bigint>();
  /** Routing ids of the connected children, learned from their hellos. */
  private left: string | null = null;
  private right: string | null = null;
  private readonly up: LinkWriter;
  private readonly down: LinkWriter;
  /** Dropped input by kind of problem; each kind is reported once on stderr. */
  readonly dropped = new Map<string, number>();

  constructor(
    readonly id: number,
    private readonly uplink: Dealer,
    private readonly downlink: Router,
  ) {
    this.up = new LinkWriter(uplink, (_peer, records) => this.drop('uplink-send-failed', records.length));
    this.down = new LinkWriter(downlink, (_peer, records) => this.bounce(records));
  }

  /** Runs both reader loops until the sockets close. */
  async run(): Promise<void> {
    await Promise.all([this.readUplink(), this.readDownlink()]);
  }

  /** Tells the parent (and through it the control) that this node is connected. */
  hello(corr: number, pid: number): void {
    this.up.push(null, encode({ kind: 'hello', corr, node: this.id, pid }));
  }

  private async readUplink(): Promise<void> {
    for await (const [frame] of this.uplink) {
      if (frame === undefined) continue;
      const error = splitFrame(frame, this.fromParent);
      if (error) this.drop(`uplink ${error.problem}`);
    }
  }

  private async readDownlink(): Promise<void> {
    for await (const [peer, frame] of this.downlink) {
      if (peer === undefined || frame === undefined) continue;
      const child = peer.toString('latin1');
      const error = splitFrame(frame, (rec) => this.fromChild(child, rec));
      if (error) this.drop(`downlink ${error.problem}`);
    }
  }

  private readonly fromParent = (rec: Buffer): void => {
    if (!isRequest(recordKind(rec))) return this.drop('uplink non-request');
    const target = recordNode(rec);
    const hop = nextHop(this.id, target);
    if (hop === 'self') return this.serve(rec);
    const child = hop === 'left' ? this.left : this.right;
    if (child === null) return this.up.push(null, this.fail(rec, FailReason.NoRoute));
    this.down.push(child, rec);
  };

  private fromChild(child: string, rec: Buffer): void {
    const kind = recordKind(rec);
    if (child !== this.left && child !== this.right) {
      // Only a hello from the child itself may introduce a new peer.
      if (kind !== Kind.Hello || routingId(recordNode(rec)) !== child) return this.drop('downlink unknown peer');
      this.adopt(child, recordNode(rec));
    } else if (!isReply(kind)) {
      return this.drop('downlink non-reply');
    }
    this.up.push(null, rec);
  }

  private adopt(child: string, childId: number): void {
    const hop = nextHop(this.id, childId);
    if (hop === 'left') this.left = child;
    else if (hop === 'right') this.right = child;
  }

  private serve(rec: Buffer): void {
    const msg = decode(rec);
    if (msg instanceof ProtocolError) return this.drop(`request ${msg.problem}`);
    switch (msg.kind) {
      case 'store':
        this.store.set(msg.name, msg.value);
        return this.up.push(null, encode({ kind: 'value', corr: msg.corr, node: this.id, found: true, value: msg.value }));
      case 'load': {
        const value = this.store.get(msg.name);
        return this.up.push(
          null,
          encode({ kind: 'value', corr: msg.corr, node: this.id, found: value !== undefined, value: value ?? 0n }),
        );
      }
      case 'ping':
        return this.up.push(null, encode({ kind: 'pong', corr: msg.corr, node: this.id }));
      default:
        return this.drop('request unexpected kind');
    }
  }

  /** Requests a child could not take are answered at once, so nobody waits for a deadline. */
  private bounce(records: Buffer[]): void {
    for (const rec of records) {
      if (isRequest(recordKind(rec))) this.up.push(null, this.fail(rec, FailReason.Undeliverable));
    }
  }

  private fail(rec: Buffer, reason: FailReason): Buffer {
    return encode({ kind: 'fail', corr: recordCorr(rec), node: recordNode(rec), reason });
  }

  private drop(kind: string, count = 1): void {
    const seen = this.dropped.get(kind) ?? 0;
    this.dropped.set(kind, seen + count);
    if (seen === 0) process.stderr.write(`arbor-node ${this.id}: dropped input (${kind}); further drops of this kind are only counted\n`);
  }
}
