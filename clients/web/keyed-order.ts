/**
 * @module Which elements to move so a list of DOM children ends up in a wanted order, moving as
 * few as possible. Pure.
 *
 * Moving an element in the DOM makes the browser build its boxes again (an SVG text is shaped
 * anew), so putting 400 nodes back in tree order after a rotation cost most of a frame when
 * every misplaced one was moved. The elements that are already in the right relative order (a
 * longest increasing subsequence of their current positions) stay; only the others move. A
 * rotation moves a few nodes in pre-order, so a few elements move.
 */

/**
 * The indexes into `positions` that stay put: a longest strictly increasing subsequence of the
 * non-negative entries (an element's current position; -1 for a new element, which always moves).
 * O(n log n).
 */
export function staying(positions: readonly number[]): Set<number> {
  /** tails[k]: index (into positions) of the smallest last value of an increasing run of length k + 1. */
  const tails: number[] = [];
  const previous = new Array<number>(positions.length).fill(-1);
  positions.forEach((value, i) => {
    if (value < 0) return;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((positions[tails[mid] as number] as number) < value) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) previous[i] = tails[lo - 1] as number;
    tails[lo] = i;
  });
  const kept = new Set<number>();
  for (let i = tails.at(-1) ?? -1; i >= 0; i = previous[i] as number) kept.add(i);
  return kept;
}

/**
 * The moves that turn the list `current` into `wanted` (every element of `current` is in
 * `wanted`; `wanted` may add new ones): each `[element, before]` means "insert element before
 * `before`" (undefined: at the end), applied in the order given.
 */
export function reorder<T>(current: readonly T[], wanted: readonly T[]): [T, T | undefined][] {
  const at = new Map(current.map((item, i) => [item, i]));
  const keep = staying(wanted.map((item) => at.get(item) ?? -1));
  const moves: [T, T | undefined][] = [];
  // From the end: each element goes before the one that follows it in the wanted order, which is already in place.
  let next: T | undefined;
  for (let i = wanted.length - 1; i >= 0; i--) {
    const item = wanted[i] as T;
    if (!keep.has(i)) moves.push([item, next]);
    next = item;
  }
  return moves;
}
