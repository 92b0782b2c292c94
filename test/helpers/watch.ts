/**
 * Collects the Watch stream of a gateway, with the local monotonic time each event arrived.
 */
import { expect } from 'vitest';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { type ArborServiceClient, type NodeEvent, type WatchResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { eventKindName } from '../../clients/format-event.js';

export interface SeenEvent {
  id: number;
  kind: 'created' | 'available' | 'unavailable' | 'exited' | 'restarted' | 'failed' | 'removed';
  reason: string;
  signal: string | undefined;
  /** For created and restarted: the new process. */
  pid: number | undefined;
  /** performance.now() when it arrived here. */
  at: number;
}


/** Resolves with a Watch call's response headers: the gateway sends them once the subscription is in place. */
export function subscribed(stream: ClientReadableStream<WatchResponse>): Promise<void> {
  return new Promise((resolve) => stream.once('metadata', () => resolve()));
}

export class EventLog {
  readonly events: SeenEvent[] = [];
  private readonly stream: ClientReadableStream<WatchResponse>;
  private readonly subscribed: Promise<void>;

  /** A log that has every event from the moment it resolves (the Watch call is subscribed). */
  static async open(client: ArborServiceClient, timeoutMs = 10_000): Promise<EventLog> {
    const log = new EventLog(client);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Watch not subscribed within ${timeoutMs} ms`)), timeoutMs)));
    await Promise.race([log.subscribed, late]).finally(() => clearTimeout(timer));
    return log;
  }

  private constructor(client: ArborServiceClient) {
    this.stream = client.watch({ backlog: 0 });
    this.subscribed = subscribed(this.stream);
    this.stream.on('error', () => undefined); // cancelled at the end of the test
    this.stream.on('data', (res: WatchResponse) => {
      const e = res.event as NodeEvent;
      this.events.push({ id: e.id, kind: eventKindName(e.kind) as SeenEvent['kind'], reason: e.reason, signal: e.signal, pid: e.pid, at: performance.now() });
    });
  }

  /** Events of one kind, as "kind:id" strings in arrival order (handy for toEqual). */
  of(kind: SeenEvent['kind']): number[] {
    return this.events.filter((e) => e.kind === kind).map((e) => e.id);
  }

  async next(kind: SeenEvent['kind'], id: number, after = 0, timeoutMs = 10_000): Promise<SeenEvent> {
    const find = () => this.events.find((e) => e.kind === kind && e.id === id && e.at >= after);
    await expect.poll(() => find() !== undefined, { message: `${kind} event for node ${id}`, timeout: timeoutMs, interval: 20 }).toBe(true);
    return find() as SeenEvent;
  }

  cancel(): void {
    this.stream.cancel();
  }
}
