/**
 * @module Availability events (Session responses with tag 0), printed as they happen.
 *
 * Pure. In text (both formats) only the assignment's two lines exist: a node became unavailable,
 * or is available again; created/exited events print nothing there. `--json` prints every event
 * as `{"event":"unavailable","id":9,"time":"...","reason":"..."}` (plus `exitCode`/`signal` for
 * exits); the `event` member (instead of `line`) tells events from replies.
 */
import { NodeEventKind, type NodeEvent } from '../proto/gen/arbor/v1/arbor.js';

const KIND_NAMES: Record<NodeEventKind, string> = {
  [NodeEventKind.NODE_EVENT_KIND_UNSPECIFIED]: 'unspecified',
  [NodeEventKind.NODE_EVENT_KIND_CREATED]: 'created',
  [NodeEventKind.NODE_EVENT_KIND_AVAILABLE]: 'available',
  [NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE]: 'unavailable',
  [NodeEventKind.NODE_EVENT_KIND_EXITED]: 'exited',
  [NodeEventKind.UNRECOGNIZED]: 'unrecognized',
};

/** The text line of an event, or `undefined` for events the text formats do not show. */
export function formatEvent(event: NodeEvent): string | undefined {
  switch (event.kind) {
    case NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE:
      return `Heartbit: node ${event.id} is unavailable now`;
    case NodeEventKind.NODE_EVENT_KIND_AVAILABLE:
      return `Heartbit: node ${event.id} is available again`;
    default:
      return undefined;
  }
}

/** The JSON line of an event. */
export function formatJsonEvent(event: NodeEvent): string {
  return JSON.stringify({
    event: KIND_NAMES[event.kind] ?? 'unrecognized',
    id: event.id,
    time: event.time?.toISOString(),
    reason: event.reason === '' ? undefined : event.reason,
    exitCode: event.exitCode,
    signal: event.signal,
  });
}
