/** @module A control event as the API's NodeEvent message. */
import { type NodeEvent as ApiNodeEvent, NodeEventKind } from '../proto/gen/arbor/v1/arbor.js';
import type { NodeEvent } from '../control/index.js';

const KINDS: Record<NodeEvent['kind'], NodeEventKind> = {
  created: NodeEventKind.NODE_EVENT_KIND_CREATED,
  available: NodeEventKind.NODE_EVENT_KIND_AVAILABLE,
  unavailable: NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE,
  exited: NodeEventKind.NODE_EVENT_KIND_EXITED,
};

export function eventMessage(event: NodeEvent): ApiNodeEvent {
  return {
    id: event.id,
    kind: KINDS[event.kind],
    time: event.time,
    reason: event.reason,
    exitCode: event.exitCode,
    signal: event.signal,
  };
}
