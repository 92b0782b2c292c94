/**
 * The pure AVL rules over the tree's shape (control/balance.ts), with random sequences of
 * inserts and removes: the tree stays a binary search tree with consistent links, every node's
 * subtrees differ in height by at most one, and the link changes of each step take the old
 * shape exactly to the new one. Nodes still starting do not count for balance and are carried
 * along by rotations, never made the parent of a live node.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALL_COUNT,
  applyChanges,
  avlViolations,
  type Counted,
  depthOf,
  inOrder,
  insertLeaf,
  linkChanges,
  maxAvlDepth,
  rebalanceFrom,
  removeNode,
  rotateLeft,
  rotateRight,
  type Shape,
} from '../../control/balance.js';
import { Topology } from '../../control/topology.js';

const EMPTY: Shape = { root: null, places: new Map() };

function insertAvl(shape: Shape, id: number, counted: Counted = ALL_COUNT): Shape {
  const placed = insertLeaf(shape, id);
  return rebalanceFrom(placed, placed.places.get(id)?.parent ?? null, counted);
}

function removeAvl(shape: Shape, id: number): Shape {
  const { shape: removed, fixFrom } = removeNode(shape, id);
  return rebalanceFrom(removed, fixFrom);
}

/** Links consistent, a binary search tree, everything reachable (the checks a saved tree gets). */
function expectValid(shape: Shape, ids: Iterable<number>): void {
  const sorted = [...ids].sort((a, b) => a - b);
  expect(inOrder(shape)).toEqual(sorted);
  expect(Topology.fromPlaces(shape.root, [...shape.places.values()])).toBeInstanceOf(Topology);
}

const op = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), id: fc.integer({ min: 0, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
);

describe('AVL over the shape', () => {
  it('random inserts and removes keep the search order, consistent links and the AVL rule, and the bound', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        let shape = EMPTY;
        const ids = new Set<number>();
        for (const o of ops) {
          const before = shape;
          let removed: number[] = [];
          if (o.kind === 'insert') {
            if (ids.has(o.id)) continue;
            shape = insertAvl(shape, o.id);
            ids.add(o.id);
          } else {
            if (ids.size === 0) continue;
            const id = [...ids][o.pick % ids.size] as number;
            shape = removeAvl(shape, id);
            ids.delete(id);
            removed = [id];
          }
          expectValid(shape, ids);
          expect(avlViolations(shape)).toEqual([]);
          expect(depthOf(shape)).toBeLessThanOrEqual(maxAvlDepth(ids.size));
          expect(depthOf(shape)).toBeLessThanOrEqual(1.44 * Math.log2(ids.size + 2));
          // The link changes of the step take the old shape exactly to the new one.
          expect(applyChanges(before, linkChanges(before, shape), removed)).toEqual(shape);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('rotations keep the in-order sequence and change only the three links they must', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 3, maxLength: 60 }), fc.nat(), fc.boolean(), (ids, pick, left) => {
        let shape = EMPTY;
        for (const id of ids) shape = insertLeaf(shape, id);
        const candidates = [...shape.places.values()].filter((p) => (left ? p.right : p.left) !== null);
        if (candidates.length === 0) return;
        const at = candidates[pick % candidates.length]!.id;
        const rotated = left ? rotateLeft(shape, at) : rotateRight(shape, at);
        expectValid(rotated, ids);
        // x, y, the middle subtree's root and x's old parent: at most four places change.
        expect(linkChanges(shape, rotated).length).toBeLessThanOrEqual(4);
      }),
      { numRuns: 400 },
    );
  });

  it('nodes still starting do not count and are carried along, never above a live node', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { minLength: 2, maxLength: 80 }), fc.array(fc.boolean(), { minLength: 80, maxLength: 80 }), (ids, slow) => {
        // Each id is reserved at once (a leaf where the search ends); it attaches, and is
        // rebalanced, once its parent is attached, as a create waits for its parent; some are
        // slow to start and attach only at the end.
        let shape = EMPTY;
        const live = new Set<number>();
        const counted: Counted = (id) => live.has(id);
        const waiting: number[] = [];
        const attachReady = (): void => {
          for (let again = true; again; ) {
            again = false;
            for (const id of [...waiting]) {
              const parent = shape.places.get(id)?.parent ?? null;
              if (parent !== null && !live.has(parent)) continue;
              waiting.splice(waiting.indexOf(id), 1);
              live.add(id);
              shape = rebalanceFrom(shape, parent, counted);
              again = true;
            }
          }
        };
        ids.forEach((id, i) => {
          shape = insertLeaf(shape, id);
          waiting.push(id);
          if (!slow[i]) attachReady();
          expectValid(shape, ids.slice(0, i + 1));
          // No starting node has a live node below it, and the live part is AVL all along.
          for (const p of shape.places.values()) {
            if (!live.has(p.id)) for (const c of [p.left, p.right]) if (c !== null) expect(live.has(c)).toBe(false);
          }
          expect(avlViolations(shape, counted)).toEqual([]);
        });
        attachReady();
        expect(live.size).toBe(ids.length);
        expect(avlViolations(shape)).toEqual([]);
        expectValid(shape, ids);
      }),
      { numRuns: 300 },
    );
  });

  it('sorted inserts of 1..127 give a tree of depth 6, where a plain search tree is a chain of 126', () => {
    let avl = EMPTY;
    let plain = EMPTY;
    for (let id = 1; id <= 127; id++) {
      avl = insertAvl(avl, id);
      plain = insertLeaf(plain, id);
    }
    expect(depthOf(avl)).toBe(6);
    expect(depthOf(plain)).toBe(126);
  });

  it('removal replaces a node with two children by its in-order successor', () => {
    let shape = EMPTY;
    for (const id of [8, 4, 12, 2, 6, 10, 14, 11]) shape = insertLeaf(shape, id);
    const { shape: after, fixFrom } = removeNode(shape, 8);
    expect(after.root).toBe(10);
    expect(after.places.get(10)).toEqual({ id: 10, parent: null, left: 4, right: 12 });
    expect(after.places.get(12)).toEqual({ id: 12, parent: 10, left: 11, right: 14 });
    expect(fixFrom).toBe(12);
  });

  it('the AVL depth bound for n nodes, from the sparsest AVL trees', () => {
    expect([0, 1, 2, 3, 4, 7, 12, 20, 33, 54, 88, 127].map(maxAvlDepth)).toEqual([0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8]);
  });
});
