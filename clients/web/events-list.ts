/**
 * @module The page's list of recent availability events, newest first, at most MAX_EVENTS.
 */
import type { NodeEvent } from '../../proto/gen/arbor/v1/arbor.js';
import { eventKindName } from '../format-event.js';

const MAX_EVENTS = 50;

/** One event in words, at the viewer's local time: `12:03:04.250 unavailable 9: not heard from for 4 x 100 ms`. */
export function describeEvent(event: NodeEvent): string {
  const at = event.time ?? new Date();
  const time = `${at.toTimeString().slice(0, 8)}.${String(at.getMilliseconds()).padStart(3, '0')}`;
  // The reason already names a new pid where there is one (created, restarted).
  const reason = event.reason === '' ? '' : `: ${event.reason}`;
  return `${time} ${eventKindName(event.kind)} ${event.id}${reason}`;
}

export function addEvent(list: HTMLOListElement, event: NodeEvent): void {
  const item = document.createElement('li');
  item.className = `event ${eventKindName(event.kind)}`;
  item.textContent = describeEvent(event);
  list.prepend(item);
  while (list.children.length > MAX_EVENTS) list.lastElementChild?.remove();
}
