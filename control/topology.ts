/**
 * @module The binary search tree of computing nodes, ordered by id: who is where, and nothing
 * else (a node's life is its NodeHandle's). The one owner of the current shape: changes are
 * computed as values first (balance.ts), then taken here whole (`replace`).
 */
import { nextHop } from '../link/routing.js';
import type { Place, Shape } from './balance.js';

export type { Place };

export class Topology {
  private readonly nodes = new Map<number, Place>();
  private rootId: number | null = null;

  get root(): number | null {
    return this.rootId;
  }

  get size(): number {
    return this.nodes.size;
  }

  get(id: number): Place | undefined {
    return this.nodes.get(id);
  }

  has(id: number): boolean {
    return this.nodes.has(id);
  }

  /** The parent the search tree gives a new `id` (null: it becomes the root). */
  placeFor(id: number): number | null {
    let at = this.rootId;
    let parent: number | null = null;
    while (at !== null) {
      parent = at;
      const node = this.nodes.get(at) as Place;
      at = nextHop(at, id) === 'left' ? node.left : node.right;
    }
    return parent;
  }

  /** The shape as a value (a copy: later changes here do not show in it). */
  snapshot(): Shape {
    return { root: this.rootId, places: new Map([...this.nodes].map(([id, p]) => [id, { ...p }])) };
  }

  /** Takes `shape` as the tree from now on (after a relink). */
  replace(shape: Shape): void {
    this.nodes.clear();
    for (const [id, p] of shape.places) this.nodes.set(id, { ...p });
    this.rootId = shape.root;
  }

  /** Inserts `id` where the search tree places it. The caller checked it is new. */
  insert(id: number): Place {
    const parent = this.placeFor(id);
    const node: Place = { id, parent, left: null, right: null };
    this.nodes.set(id, node);
    if (parent === null) this.rootId = id;
    else {
      const p = this.nodes.get(parent) as Place;
      if (nextHop(parent, id) === 'left') p.left = id;
      else p.right = id;
    }
    return node;
  }

  /** Removes `id` and everything below it (used when a create fails: only starting nodes hang below it). */
  removeSubtree(id: number): Place[] {
    const top = this.nodes.get(id);
    if (top === undefined) return [];
    const removed = this.subtree(id);
    for (const node of removed) this.nodes.delete(node.id);
    if (top.parent === null) this.rootId = null;
    else {
      const p = this.nodes.get(top.parent);
      if (p?.left === id) p.left = null;
      if (p?.right === id) p.right = null;
    }
    return removed;
  }

  /** `id` and all its descendants, parents before children (left before right). */
  subtree(id: number): Place[] {
    const out: Place[] = [];
    const stack = [id];
    while (stack.length > 0) {
      const node = this.nodes.get(stack.pop() as number);
      if (node === undefined) continue;
      out.push(node);
      if (node.right !== null) stack.push(node.right);
      if (node.left !== null) stack.push(node.left);
    }
    return out;
  }

  /** Every node, each parent before its children. */
  preorder(): Place[] {
    return this.rootId === null ? [] : this.subtree(this.rootId);
  }

  /** The ids from the root down to `id` (empty when `id` is not in the tree). */
  pathTo(id: number): number[] {
    const path: number[] = [];
    for (let node = this.nodes.get(id); node !== undefined; node = node.parent === null ? undefined : this.nodes.get(node.parent)) {
      path.push(node.id);
    }
    return path.reverse();
  }

  /** Number of edges from the root to `id` (the root has depth 0). */
  depth(id: number): number {
    // Counted up the parents, no path built: metrics ask this for every answered command.
    let depth = -1;
    for (let node = this.nodes.get(id); node !== undefined; node = node.parent === null ? undefined : this.nodes.get(node.parent)) depth++;
    return Math.max(0, depth);
  }

  /** True when `ancestor` is `id` or lies on the path from the root to `id`. */
  isOnPathTo(ancestor: number, id: number): boolean {
    return this.pathTo(id).includes(ancestor);
  }

  /** The children of `id` that exist (left first). */
  children(id: number): number[] {
    const node = this.nodes.get(id);
    if (node === undefined) return [];
    return [node.left, node.right].filter((c): c is number => c !== null);
  }

  /**
   * Rebuilds a tree from saved places. Returns the problem in words when they do not form one
   * binary search tree (a saved file is checked, never trusted).
   */
  static fromPlaces(root: number | null, places: readonly Place[]): Topology | string {
    const t = new Topology();
    for (const p of places) {
      if (t.nodes.has(p.id)) return `node ${p.id} appears twice`;
      t.nodes.set(p.id, { id: p.id, parent: p.parent, left: p.left, right: p.right });
    }
    if (root === null) return places.length === 0 ? t : 'nodes but no root';
    if (!t.nodes.has(root) || t.nodes.get(root)?.parent !== null) return `root ${root} is missing or has a parent`;
    t.rootId = root;
    for (const node of t.nodes.values()) {
      for (const [side, child] of [['left', node.left], ['right', node.right]] as const) {
        if (child === null) continue;
        const c = t.nodes.get(child);
        if (c === undefined) return `node ${node.id} has a ${side} child ${child} that is not in the tree`;
        if (c.parent !== node.id) return `node ${child} is the ${side} child of ${node.id} but names ${c.parent} as its parent`;
        if ((side === 'left') !== child < node.id) return `node ${child} is on the wrong side of ${node.id}`;
      }
      if (node.parent !== null && !t.nodes.has(node.parent)) return `node ${node.id} names a parent ${node.parent} that is not in the tree`;
    }
    const reached = t.preorder();
    if (reached.length !== t.nodes.size) return `${t.nodes.size - reached.length} nodes are not linked from the root`;
    // Every node within the bounds its ancestors set: a binary search tree, not just a tree.
    const bounded = (id: number | null, low: number, high: number): boolean => {
      if (id === null) return true;
      const n = t.nodes.get(id) as Place;
      return id > low && id < high && bounded(n.left, low, id) && bounded(n.right, id, high);
    };
    if (!bounded(root, -Infinity, Infinity)) return 'the ids are not in search-tree order';
    return t;
  }
}
