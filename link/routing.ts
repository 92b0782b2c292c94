/**
 * @module The search-tree routing rule, shared by the control (which places nodes) and the
 * computing processes (which forward requests), so both always agree on where an id lives.
 */

export type Hop = 'self' | 'left' | 'right';

/** The next hop from node `self` towards `target`: smaller ids live on the left. */
export function nextHop(self: number, target: number): Hop {
  if (target === self) return 'self';
  return target < self ? 'left' : 'right';
}
