/**
 * Collects the Watch stream of a gateway, with the local monotonic time each event arrived.
 */
import type { ClientReadableStream } from '@grpc/grpc-js';
import { type ArborServiceClient, type NodeEvent, NodeEventKind, type WatchResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { waitFor } from './processes.js';

export interface SeenEvent {
  id: number;
  kind: 'created' | 'available' | 'unavailable' | 'exited';
  reason: string;
  signal: string | undefined;
  /** performance.now() when it arrived here. */
  at: number;
}

const NAMES: Partial<Record<NodeEventKind, SeenEvent['kind']>> = {
  [NodeEventKind.NODE_EVENT_KIND_CREATED]: 'created',
  [NodeEventKind.NODE_EVENT_KIND_AVAILABLE]: 'available',
  [NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE]: 'unavailable',
  [NodeEventKind.NODE_EVENT_KIND_EXITED]: 'exited',
};

export class EventLog {
  readonly events: SeenEvent[] = [];
  private readonly stream: ClientReadableStream<WatchResponse>;

  constructor(client: ArborServiceClient) {
    this.stream = client.watch({});
    this.stream.on('error', () => undefined); // cancelled at the end of the test
    this.stream.on('data', (res: WatchResponse) => {
      const e = res.event as NodeEvent;
      this.events.push({ id: e.id, kind: NAMES[e.kind] ?? 'created', reason: e.reason, signal: e.signal, at: performance.now() });
    });
  }

  /** Events of one kind, as "kind:id" strings in arrival order (handy for toEqual). */
  of(kind: SeenEvent['kind']): number[] {
    return this.events.filter((e) => e.kind === kind).map((e) => e.id);
  }

  async next(kind: SeenEvent['kind'], id: number, after = 0, timeoutMs = 10_000): Promise<SeenEvent> {
    const find = () => this.events.find((e) => e.kind === kind && e.id === id && e.at >= after);
    await waitFor(`${kind} event for node ${id}`, () => find() !== undefined, timeoutMs);
    return find() as SeenEvent;
  }

  cancel(): void {
    this.stream.cancel();
  }
}
