/**
 * @module The page's recent availability events: the last MAX_EVENTS, newest first, shown in the
 * events panel (filterable by node) and read by the details panel for one node's last events.
 *
 * On load the page asks Watch for the gateway's backlog, so the list starts with what happened
 * before the page opened; after a reconnect it starts over from the backlog again (`clear()`),
 * so no event is listed twice.
 */
import type { NodeEvent } from '../../proto/gen/arbor/v1/arbor.js';
import { eventKindName } from '../format-event.js';
import { parseNodeFilter } from './node-id.js';

/** As many as the gateway keeps (gateway/limits.ts EVENT_BACKLOG). */
export const MAX_EVENTS = 100;

/** One event in words, at the viewer's local time: `12:03:04.250 unavailable 9: not heard from for 4 x 100 ms`. */
export function describeEvent(event: NodeEvent): string {
  const at = event.time ?? new Date();
  const time = `${at.toTimeString().slice(0, 8)}.${String(at.getMilliseconds()).padStart(3, '0')}`;
  // The reason already names a new pid where there is one (created, restarted).
  const reason = event.reason === '' ? '' : `: ${event.reason}`;
  return `${time} ${eventKindName(event.kind)} ${event.id}${reason}`;
}

export class EventsList {
  /** Newest first. */
  private readonly events: NodeEvent[] = [];
  private only: number | undefined;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly filter: HTMLInputElement,
    private readonly note: HTMLElement,
    private readonly onChange: () => void,
  ) {
    filter.addEventListener('input', () => {
      const parsed = parseNodeFilter(filter.value);
      if ('problem' in parsed) {
        note.textContent = parsed.problem;
        return;
      }
      this.only = parsed.id;
      this.render();
    });
  }

  /** Adds events that arrived together (oldest first): one change of the list for all of them. */
  addAll(batch: readonly NodeEvent[]): void {
    const recent = batch.slice(-MAX_EVENTS).reverse();
    this.events.unshift(...recent);
    this.events.length = Math.min(this.events.length, MAX_EVENTS);
    // One element per event, newest on top; a filtered-out one is kept, hidden.
    this.list.prepend(...recent.map((event) => this.item(event)));
    while (this.list.children.length > MAX_EVENTS) this.list.lastElementChild?.remove();
    this.count();
    this.onChange();
  }

  /** Forgets every event (the stream is opened again, with the backlog). */
  clear(): void {
    this.events.length = 0;
    this.list.replaceChildren();
    this.count();
  }

  /** Shows only node `id`'s events (undefined: every node's). */
  show(id: number | undefined): void {
    this.filter.value = id === undefined ? '' : String(id);
    this.only = id;
    this.render();
  }

  /** The last `count` events of node `id`, newest first. */
  of(id: number, count: number): NodeEvent[] {
    return this.events.filter((e) => e.id === id).slice(0, count);
  }

  private item(event: NodeEvent): HTMLLIElement {
    const item = document.createElement('li');
    item.className = `event ${eventKindName(event.kind)}`;
    item.dataset.nodeId = String(event.id);
    item.textContent = describeEvent(event);
    item.hidden = this.only !== undefined && event.id !== this.only;
    return item;
  }

  private render(): void {
    for (const item of this.list.children) (item as HTMLLIElement).hidden = this.only !== undefined && (item as HTMLLIElement).dataset.nodeId !== String(this.only);
    this.count();
  }

  private count(): void {
    const shown = this.only === undefined ? this.events.length : this.events.filter((e) => e.id === this.only).length;
    this.note.textContent = this.only === undefined ? `${shown} of the last ${MAX_EVENTS}` : `${shown} for node ${this.only}`;
  }
}
