/**
 * @module Availability events (Session responses with tag 0), printed as they happen.
 *
 * Pure. In text (both formats) only the assignment's two lines exist: a node became unavailable,
 * or is available again; created/exited events print nothing there. `--json` prints every event
 * as `{"event":"unavailable","id":9,"time":"...","reason":"..."}` (plus `exitCode`/`signal` for
 * exits, `pid` for created and restarted); the `event` member (instead of `line`) tells events
 * from replies.
 */
import { type NodeEventKind, nodeEventKindToJSON } from '../proto/gen/arbor/v1/arbor.js';
import type { NodeEvent } from './lib/types.js';

/** `restarted` for NODE_EVENT_KIND_RESTARTED (the generated name, shortened; for tests reading the wire). */
export const eventKindName = (kind: NodeEventKind): string => nodeEventKindToJSON(kind).replace(/^NODE_EVENT_KIND_/, '').toLowerCase();

/** The text line of an event, or `undefined` for events the text formats do not show. */
export function formatEvent(event: NodeEvent): string | undefined {
  switch (event.kind) {
    case 'unavailable':
      return `Heartbit: node ${event.id} is unavailable now`;
    case 'available':
      return `Heartbit: node ${event.id} is available again`;
    default:
      return undefined;
  }
}

/** The JSON line of an event. */
export function formatJsonEvent(event: NodeEvent): string {
  return JSON.stringify({
    event: event.kind,
    id: event.id,
    time: event.time.toISOString(),
    reason: event.reason === '' ? undefined : event.reason,
    exitCode: event.exitCode,
    signal: event.signal,
    pid: event.pid,
  });
}

/**
 * At a prompt only (scripts keep the lines above, byte for byte): a restart is told as one line,
 * `node 11 restarted (its process was killed by SIGKILL), now pid 4242`, with the reason its
 * `exited` event gave. So this remembers, per node, why its process last exited.
 */
export class RestartNotes {
  private readonly exits = new Map<number, string>();

  /** The line for `event` at a prompt, or `undefined` for none. */
  line(event: NodeEvent): string | undefined {
    switch (event.kind) {
      case 'exited':
        this.exits.set(event.id, event.reason);
        return undefined;
      case 'restarted': {
        const why = this.exits.get(event.id);
        this.exits.delete(event.id);
        return `node ${event.id} restarted${why === undefined || why === '' ? '' : ` (${why})`}${event.pid === undefined ? '' : `, now pid ${event.pid}`}`;
      }
      case 'removed':
        this.exits.delete(event.id);
        return formatEvent(event);
      default:
        return formatEvent(event);
    }
  }
}
