/** @module A control event as the API's NodeEvent message. */
import { type NodeEvent as ApiNodeEvent, nodeEventKindFromJSON } from '../proto/gen/arbor/v1/arbor.js';
import type { NodeEvent } from '../control/index.js';

/** The API's name of an event kind is the control's, upper-cased (`restarted` → NODE_EVENT_KIND_RESTARTED). */
export function eventMessage(event: NodeEvent): ApiNodeEvent {
  return {
    id: event.id,
    kind: nodeEventKindFromJSON(`NODE_EVENT_KIND_${event.kind.toUpperCase()}`),
    time: event.time,
    reason: event.reason,
    exitCode: event.exitCode,
    signal: event.signal,
    pid: event.pid,
  };
}
