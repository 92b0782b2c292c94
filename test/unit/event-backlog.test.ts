/* The gateway's event backlog: the last EVENT_BACKLOG events, oldest first, as a Watch that asks for them gets them. */
import { describe, expect, it } from 'vitest';
import type { Control, NodeEvent } from '../../control/index.js';
import { EventBacklog } from '../../gateway/event-backlog.js';
import { EVENT_BACKLOG } from '../../gateway/limits.js';

/** The one part of the control the backlog uses: subscribe. */
function fakeControl(): { control: Control; emit: (id: number) => void; listeners: () => number } {
  const listeners = new Set<(event: NodeEvent) => void>();
  const control = {
    subscribe: (listener: (event: NodeEvent) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as Control;
  const emit = (id: number): void => {
    for (const l of listeners) l({ kind: 'created', id, time: new Date(), reason: '' });
  };
  return { control, emit, listeners: () => listeners.size };
}

describe('EventBacklog', () => {
  it('keeps the last 100 events, gives the last n oldest first, and stops listening when closed', () => {
    const { control, emit, listeners } = fakeControl();
    const backlog = new EventBacklog(control);
    expect(backlog.recent(10)).toEqual([]);
    for (let id = 1; id <= 250; id++) emit(id);
    expect(EVENT_BACKLOG).toBe(100);
    expect(backlog.recent(3).map((e) => e.id)).toEqual([248, 249, 250]);
    const all = backlog.recent(1000).map((e) => e.id);
    expect(all).toHaveLength(100);
    expect(all[0]).toBe(151);
    expect(backlog.recent(0)).toEqual([]);
    expect(backlog.recent(-5)).toEqual([]);
    backlog.close();
    expect(listeners()).toBe(0);
  });
});
