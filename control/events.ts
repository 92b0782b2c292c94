/**
 * @module Availability events and their subscribers. Listeners are called synchronously and
 * must not block; whoever streams events to a slow reader bounds its own buffer.
 */
import type { DownCause } from './liveness.js';

export type NodeEventKind = 'created' | 'available' | 'unavailable' | 'exited' | 'restarted' | 'failed' | 'removed';

export interface NodeEvent {
  kind: NodeEventKind;
  id: number;
  /** Wall-clock time the control observed it. */
  time: Date;
  reason: string;
  /** For `unavailable`: the node's own exit or silence, or a node above it. */
  cause?: DownCause;
  exitCode?: number;
  signal?: string;
  /** For `created` and `restarted`: the new process. */
  pid?: number;
}

export type EventListener = (event: NodeEvent) => void;

export class EventHub {
  private readonly listeners = new Set<EventListener>();

  get subscribers(): number {
    return this.listeners.size;
  }

  /** Returns the function that unsubscribes. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A listener that throws is dropped, so one bad subscriber cannot stop the others or the core. */
  emit(event: NodeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }
}
