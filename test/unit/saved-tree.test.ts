/**
 * What the tree file holds (control/saved-tree.ts): the nodes it must not hold are taken out as
 * search-tree deletions, leaving a valid (and, with AVL on, balanced) tree of the rest; a create,
 * remove or heartbeat change that cannot be saved fails with a status of its own and is taken back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_COUNT, avlViolations, inOrder, insertLeaf, rebalanceFrom, type Shape } from '../../control/balance.js';
import { ArborError } from '../../control/errors.js';
import { keptShape, type LiveTree, SavedTreeKeeper } from '../../control/saved-tree.js';
import type { NodeStorage, SavedTree } from '../../control/storage.js';
import { Topology } from '../../control/topology.js';
import { silentLogger } from '../../lib/logger.js';

const EMPTY: Shape = { root: null, places: new Map() };

function avlOf(ids: readonly number[]): Shape {
  let shape = EMPTY;
  for (const id of new Set(ids)) {
    const placed = insertLeaf(shape, id);
    shape = rebalanceFrom(placed, placed.places.get(id)?.parent ?? null);
  }
  return shape;
}

describe('keptShape', () => {
  it('leaves a binary search tree of exactly the kept ids; AVL stays AVL; nothing dropped: the same shape', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 80 }), fc.func(fc.boolean()), fc.boolean(), (ids, keep, avl) => {
        const shape = avlOf(ids);
        const kept = (id: number): boolean => keep(id);
        const out = keptShape(shape, kept, avl ? ALL_COUNT : undefined);
        const expected = [...new Set(ids)].filter(kept).sort((a, b) => a - b);
        expect(inOrder(out)).toEqual(expected);
        expect(Topology.fromPlaces(out.root, [...out.places.values()])).toBeInstanceOf(Topology);
        if (avl) expect(avlViolations(out)).toEqual([]);
        expect(keptShape(shape, () => true, ALL_COUNT)).toBe(shape);
      }),
      { numRuns: 400 },
    );
  });
});

/** A storage whose saves fail while `failWith` is set; the saved trees are kept. */
class FakeStorage implements NodeStorage {
  readonly fsync = false;
  readonly treeFile = '/data/tree.json';
  saves: SavedTree[] = [];
  failWith: string | undefined;
  logPath(): string | null {
    return null;
  }
  removeLog(): void {}
  saveTree(tree: SavedTree): void {
    if (this.failWith !== undefined) throw Object.assign(new Error(`${this.failWith}: write`), { code: this.failWith });
    this.saves.push(structuredClone(tree));
  }
  get last(): SavedTree | undefined {
    return this.saves.at(-1);
  }
}

function keeperOf(ids: number[], heartbeatMs = 0): { keeper: SavedTreeKeeper; storage: FakeStorage; shape: Topology } {
  const shape = new Topology();
  shape.replace(avlOf(ids));
  const live: LiveTree = { shape, balance: 'avl', starting: () => false, pid: (id) => 1000 + id, remoteHost: () => undefined };
  const storage = new FakeStorage();
  return { keeper: new SavedTreeKeeper(storage, live, heartbeatMs, silentLogger), storage, shape };
}

/** What `f` throws (an ArborError is expected: anything else fails the test). */
function thrown(f: () => void): ArborError {
  try {
    f();
  } catch (error) {
    if (error instanceof ArborError) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

const savedIds = (tree: SavedTree | undefined): number[] => (tree?.nodes.map((n) => n.id) ?? []).sort((a, b) => a - b);

describe('SavedTreeKeeper', () => {
  it('a node being created is not saved until its create is acknowledged', () => {
    const { keeper, storage, shape } = keeperOf([5, 3, 8]);
    shape.insert(9);
    keeper.creating(9);
    keeper.save();
    expect(savedIds(storage.last)).toEqual([3, 5, 8]);
    keeper.acknowledgeCreate(9);
    expect(savedIds(storage.last)).toEqual([3, 5, 8, 9]);
    expect(storage.last?.nodes.find((n) => n.id === 9)?.pid).toBe(1009);
  });

  it('a full disk fails the create with exhausted/"disk full", naming the file; the node stays unsaved', () => {
    const { keeper, storage, shape } = keeperOf([5, 3, 8]);
    shape.insert(9);
    keeper.creating(9);
    storage.failWith = 'ENOSPC';
    const caught = thrown(() => keeper.acknowledgeCreate(9));
    expect(caught).toBeInstanceOf(ArborError);
    expect(caught).toMatchObject({ kind: 'exhausted', reason: 'disk full' });
    expect((caught as Error).message).toBe('Node 9 was not created: cannot save /data/tree.json: no space left on the device (ENOSPC)');
    storage.failWith = undefined;
    keeper.save();
    expect(savedIds(storage.last)).toEqual([3, 5, 8]);
  });

  it('a read-only file system fails a remove with unavailable; the node is saved as before', () => {
    const { keeper, storage } = keeperOf([5, 3, 8]);
    storage.failWith = 'EROFS';
    expect(thrown(() => keeper.decideRemove(3))).toMatchObject({ kind: 'unavailable', message: 'Node 3 was not removed: cannot save /data/tree.json: the file system is read-only (EROFS)' });
    storage.failWith = undefined;
    keeper.save();
    expect(savedIds(storage.last)).toEqual([3, 5, 8]);
    keeper.decideRemove(3);
    expect(savedIds(storage.last)).toEqual([5, 8]);
    // Still in the live shape until the relink takes it out, yet never saved again; then its id is free.
    keeper.save();
    expect(savedIds(storage.last)).toEqual([5, 8]);
  });

  it('a heartbeat interval is saved before it is switched; one that cannot be saved leaves the old one in the file', () => {
    const { keeper, storage } = keeperOf([1], 200);
    storage.failWith = 'ENOSPC';
    expect(thrown(() => keeper.decideHeartbeat(500))).toMatchObject({ kind: 'exhausted', reason: 'disk full', message: 'Heartbeat interval not changed: cannot save /data/tree.json: no space left on the device (ENOSPC)' });
    storage.failWith = undefined;
    keeper.save();
    expect(storage.last?.heartbeatMs).toBe(200);
    keeper.decideHeartbeat(500);
    expect(storage.last?.heartbeatMs).toBe(500);
    keeper.heartbeatBack(200);
    expect(storage.last?.heartbeatMs).toBe(200);
  });
});
