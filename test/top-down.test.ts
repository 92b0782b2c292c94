/**
 * topDown (node-links.ts), the order of a heartbeat switch: every node after its parent, never
 * more than the limit at once, each node once, and siblings in the order their parents finished
 * (a node's second child does not wait for the whole subtree of the first).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topDown } from '../control/node-links.js';
import { balancedOrder } from '../bench/tree.js';

type Children = Map<number, [number | null, number | null]>;

/** The search tree of `ids` inserted in order (duplicates skipped): parent -> [left, right]. */
function searchTree(ids: readonly number[]): { root: number; kids: Children } {
  const root = ids[0] as number;
  const kids: Children = new Map([[root, [null, null]]]);
  for (const id of ids.slice(1)) {
    if (kids.has(id)) continue;
    let at = root;
    for (let next = kids.get(at)?.[id < at ? 0 : 1] ?? null; next !== null; next = kids.get(at)?.[id < at ? 0 : 1] ?? null) at = next;
    (kids.get(at) as [number | null, number | null])[id < at ? 0 : 1] = id;
    kids.set(id, [null, null]);
  }
  return { root, kids };
}

const trees = fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 60 }).map(searchTree);

describe('topDown', () => {
  it('runs every node once, after its parent finished, at most `limit` at once', async () => {
    await fc.assert(
      fc.asyncProperty(trees, fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1 }), async ({ root, kids }, limit, delays) => {
        const parentOf = new Map<number, number>();
        for (const [id, pair] of kids) for (const child of pair) if (child !== null) parentOf.set(child, id);
        const finished = new Set<number>();
        const ran: number[] = [];
        const early: number[] = [];
        let running = 0;
        let most = 0;
        let turn = 0;
        await topDown(root, (id) => kids.get(id) ?? [], limit, async (id) => {
          const parent = parentOf.get(id);
          if (parent !== undefined && !finished.has(parent)) early.push(id);
          ran.push(id);
          most = Math.max(most, ++running);
          for (let i = delays[turn++ % delays.length] as number; i > 0; i--) await Promise.resolve();
          running--;
          finished.add(id);
        });
        expect(early).toEqual([]);
        expect(most).toBeLessThanOrEqual(limit);
        expect([...ran].sort((a, b) => a - b)).toEqual([...kids.keys()].sort((a, b) => a - b));
      }),
    );
  });

  it('takes the children of earlier finished nodes first: a full tree goes level by level at one at a time', async () => {
    const ids = balancedOrder(5); // level order of a full tree of 31
    const { kids } = searchTree(ids);
    const ran: number[] = [];
    await topDown(ids[0] as number, (id) => kids.get(id) ?? [], 1, (id) => Promise.resolve(void ran.push(id)));
    expect(ran).toEqual(ids);
  });

  it('resolves at once for an empty tree', async () => {
    let ran = 0;
    await topDown(null, () => [], 8, () => Promise.resolve(void ran++));
    expect(ran).toBe(0);
  });
});
