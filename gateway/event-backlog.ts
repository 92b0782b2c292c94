/**
 * @module The gateway's last EVENT_BACKLOG events, for a Watch that asks for the recent past
 * (WatchRequest.backlog): a page opened on a running tree shows what happened before it.
 *
 * It subscribes to the control before any Watch can, so an event is recorded here before a feed
 * sees it; a feed reads `recent()` and subscribes in the same turn of the event loop, so the
 * past it gets and the live events that follow neither overlap nor leave a gap.
 */
import type { Control, NodeEvent } from '../control/index.js';
import { EVENT_BACKLOG } from './limits.js';

export class EventBacklog {
  private readonly events: NodeEvent[] = [];
  private readonly unsubscribe: () => void;

  constructor(control: Control, private readonly size = EVENT_BACKLOG) {
    this.unsubscribe = control.subscribe((event) => {
      this.events.push(event);
      // At most `size` kept: a copy per event would cost more than this shift of 100 references.
      if (this.events.length > this.size) this.events.shift();
    });
  }

  /** The last `count` events (at most `size`), oldest first. */
  recent(count: number): NodeEvent[] {
    return count <= 0 ? [] : this.events.slice(-Math.min(count, this.size));
  }

  close(): void {
    this.unsubscribe();
  }
}
