import { describe, expect, it } from 'vitest';
import { nextHop } from '../../link/index.js';
import { Topology } from '../../control/topology.js';

function build(ids: number[]): Topology {
  const t = new Topology();
  for (const id of ids) t.insert(id);
  return t;
}

describe('search tree', () => {
  it('inserting 8, 11, 6, 13, 9 gives 8(6, 11(9, 13))', () => {
    const t = build([8, 11, 6, 13, 9]);
    expect(t.root).toBe(8);
    expect(t.get(8)).toMatchObject({ parent: null, left: 6, right: 11 });
    expect(t.get(6)).toMatchObject({ parent: 8, left: null, right: null });
    expect(t.get(11)).toMatchObject({ parent: 8, left: 9, right: 13 });
    expect(t.get(9)).toMatchObject({ parent: 11 });
    expect(t.get(13)).toMatchObject({ parent: 11 });
    expect(t.depth(9)).toBe(2);
  });

  it('places a new id where a search for it ends', () => {
    const t = build([8, 11, 6, 13, 9]);
    expect(t.placeFor(10)).toBe(9);
    expect(t.placeFor(7)).toBe(6);
    expect(t.placeFor(100)).toBe(13);
    expect(new Topology().placeFor(5)).toBeNull();
  });

  it('agrees with the routing rule nodes use to forward', () => {
    const t = build([50, 20, 80, 10, 30, 70, 90, 25]);
    for (const node of t.preorder()) {
      // Walking from the root by nextHop reaches every node along its parent chain.
      let at = t.root as number;
      while (at !== node.id) {
        const hop = nextHop(at, node.id);
        const here = t.get(at)!;
        at = (hop === 'left' ? here.left : here.right) as number;
        expect(at).not.toBeNull();
      }
    }
  });

  it('removes a subtree and unlinks it from its parent', () => {
    const t = build([8, 11, 6, 13, 9]);
    expect(t.removeSubtree(11).map((n) => n.id).sort()).toEqual([11, 13, 9].sort());
    expect(t.get(8)?.right).toBeNull();
    expect(t.size).toBe(2);
    expect(t.isOnPathTo(8, 6)).toBe(true);
    expect(t.isOnPathTo(6, 8)).toBe(false);
  });

  it('a sorted insert order gives a chain', () => {
    const t = build([1, 2, 3, 4, 5]);
    expect(t.depth(5)).toBe(4);
  });
});
