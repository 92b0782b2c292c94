/**
 * @module The control's end of its one ZeroMQ link: the ROUTER the root connects to. It reads
 * frames (one reader loop), accepts them only from the current root, hands each record on, and
 * counts what it drops (logging the first of each kind).
 */
import type { Router } from 'zeromq';
import { LinkWriter, routingId, splitFrame } from '../computing/protocol/index.js';
import type { Logger } from './logger.js';

export interface RootLinkHandlers {
  /** The root's id now (null: no tree yet). */
  currentRoot: () => number | null;
  /** A frame arrived from the root: it is alive. */
  heard: (root: number) => void;
  /** One record of a frame from the root. */
  record: (rec: Buffer) => void;
  /** Records that could not be sent (the root is gone, or its queue is full). */
  undeliverable: (records: Buffer[]) => void;
}

export class RootLink {
  /** Malformed or unexpected input, by kind. */
  readonly dropped = new Map<string, number>();
  private readonly writer: LinkWriter;
  private readonly reading: Promise<void>;

  constructor(
    private readonly router: Router,
    private readonly handlers: RootLinkHandlers,
    private readonly log: Logger,
  ) {
    this.writer = new LinkWriter(router, (_peer, records, error) => {
      handlers.undeliverable(records);
      this.drop(`undeliverable to the root (${error instanceof Error ? error.message : String(error)})`);
    });
    this.reading = this.read();
  }

  send(root: number, record: Buffer): void {
    this.writer.push(routingId(root), record);
  }

  /** Counts dropped input; the first of each kind is logged, the rest only counted. */
  drop(kind: string): void {
    const seen = this.dropped.get(kind) ?? 0;
    this.dropped.set(kind, seen + 1);
    if (seen === 0) this.log.warn({ kind }, 'dropped input from the tree; further drops of this kind are only counted');
  }

  async close(): Promise<void> {
    this.router.close();
    await this.reading;
  }

  private async read(): Promise<void> {
    for await (const frames of this.router) {
      const [peer, frame] = frames;
      if (frames.length !== 2 || peer === undefined || frame === undefined) {
        this.drop('wrong frame count');
        continue;
      }
      const root = this.handlers.currentRoot();
      if (root === null || peer.toString('latin1') !== routingId(root)) {
        this.drop('unknown peer');
        continue;
      }
      this.handlers.heard(root);
      const error = splitFrame(frame, this.handlers.record);
      if (error) this.drop(error.problem);
    }
  }
}
