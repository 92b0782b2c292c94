/* The web view's DOM reordering (clients/web/keyed-order.ts): the wanted order is reached, and no more elements move than have to. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reorder, staying } from '../../clients/web/keyed-order.js';

/** Applies the moves to a copy of `list`, as insertBefore would. */
function apply<T>(list: readonly T[], moves: [T, T | undefined][]): T[] {
  const out = [...list];
  for (const [item, before] of moves) {
    const from = out.indexOf(item);
    if (from >= 0) out.splice(from, 1);
    out.splice(before === undefined ? out.length : out.indexOf(before), 0, item);
  }
  return out;
}

/** The longest increasing subsequence's length, by the quadratic textbook method. */
function lisLength(values: readonly number[]): number {
  const best = values.map(() => 1);
  for (let i = 0; i < values.length; i++) for (let j = 0; j < i; j++) if ((values[j] as number) < (values[i] as number)) best[i] = Math.max(best[i] as number, (best[j] as number) + 1);
  return Math.max(0, ...best);
}

describe('keyed reorder', () => {
  it('keeps a longest increasing run and moves new elements', () => {
    expect([...staying([0, 1, 2, 3])].sort()).toEqual([0, 1, 2, 3]);
    expect(staying([3, 0, 1, 2]).size).toBe(3);
    expect(staying([-1, 0, -1, 1]).has(0)).toBe(false);
    expect(reorder(['a', 'b', 'c'], ['a', 'b', 'c'])).toEqual([]);
    // One element from the front to the back: one move, not two.
    expect(reorder(['a', 'b', 'c'], ['b', 'c', 'a'])).toEqual([['a', undefined]]);
  });

  it('reaches the wanted order with the fewest moves (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { maxLength: 60 }), fc.uniqueArray(fc.integer({ min: 501, max: 600 }), { maxLength: 5 }), fc.integer(), (old, added, seed) => {
        // The wanted order: the old elements shuffled by the seed, with the new ones mixed in.
        const wanted = [...old, ...added].map((v, i) => ({ v, key: Math.imul(v + 1, seed | 1) ^ i })).sort((a, b) => a.key - b.key).map((x) => x.v);
        const moves = reorder(old, wanted);
        expect(apply(old, moves)).toEqual(wanted);
        const at = new Map(old.map((v, i) => [v, i]));
        expect(moves.length).toBe(wanted.length - lisLength(wanted.filter((v) => at.has(v)).map((v) => at.get(v) as number)));
      }),
    );
  });
});
