/**
 * @module The tree's shape as a value, and the AVL rules over it. Pure: every function returns
 * a new shape and leaves its argument alone, so each change can be computed, checked and
 * diffed (`linkChanges`) before a single live process is relinked.
 *
 * Heights count only nodes that `counted` accepts. A node still being created is placed in the
 * tree at once (its id is reserved, commands for it wait), but it does not count for balance
 * until its process is attached, and it is rebalanced then, as one insertion into a tree that
 * was AVL before: so every fix-up is the textbook one (a single or double rotation per unbalanced
 * node, at most |balance| 2), and a rotation carries such nodes along inside the subtrees it
 * moves, never making them the parent of a live node.
 */
import { nextHop } from '../link/routing.js';

/** One node's place: its parent and its two children (null: none). */
export interface Place {
  readonly id: number;
  parent: number | null;
  left: number | null;
  right: number | null;
}

export interface Shape {
  readonly root: number | null;
  readonly places: ReadonlyMap<number, Place>;
}

/** Does node `id` count for heights (its process is attached)? */
export type Counted = (id: number) => boolean;

export const ALL_COUNT: Counted = () => true;

/** One node's new place, as a link message will say it. */
export interface LinkChange {
  id: number;
  parent: number | null;
  left: number | null;
  right: number | null;
}

type Mutable = Map<number, Place>;

const copy = (shape: Shape): { root: number | null; places: Mutable } => ({
  root: shape.root,
  places: new Map([...shape.places].map(([id, p]) => [id, { ...p }])),
});

const get = (places: ReadonlyMap<number, Place>, id: number): Place => {
  const place = places.get(id);
  if (place === undefined) throw new Error(`shape has no node ${id}`);
  return place;
};

/** Effective heights (levels: a counted leaf is 1, nothing is 0), memoised per call. */
function heights(shape: Shape, counted: Counted): (id: number | null) => number {
  const memo = new Map<number, number>();
  const height = (id: number | null): number => {
    if (id === null || !counted(id)) return 0;
    const known = memo.get(id);
    if (known !== undefined) return known;
    const p = get(shape.places, id);
    const h = 1 + Math.max(height(p.left), height(p.right));
    memo.set(id, h);
    return h;
  };
  return height;
}

/** Points `parent`'s slot that held `from` at `to` (or the root). */
function replaceChild(s: { root: number | null; places: Mutable }, parent: number | null, from: number, to: number | null): void {
  if (parent === null) {
    s.root = to;
    return;
  }
  const p = get(s.places, parent);
  if (p.left === from) p.left = to;
  else if (p.right === from) p.right = to;
  else throw new Error(`node ${from} is not a child of ${parent}`);
}

/** Left rotation at `x`: its right child takes its place, `x` becomes that child's left child. */
export function rotateLeft(shape: Shape, x: number): Shape {
  const s = copy(shape);
  const px = get(s.places, x);
  const y = px.right;
  if (y === null) throw new Error(`cannot rotate left at ${x}: no right child`);
  const py = get(s.places, y);
  const middle = py.left;
  replaceChild(s, px.parent, x, y);
  py.parent = px.parent;
  py.left = x;
  px.parent = y;
  px.right = middle;
  if (middle !== null) get(s.places, middle).parent = x;
  return s;
}

/** Right rotation at `x`: its left child takes its place, `x` becomes that child's right child. */
export function rotateRight(shape: Shape, x: number): Shape {
  const s = copy(shape);
  const px = get(s.places, x);
  const y = px.left;
  if (y === null) throw new Error(`cannot rotate right at ${x}: no left child`);
  const py = get(s.places, y);
  const middle = py.right;
  replaceChild(s, px.parent, x, y);
  py.parent = px.parent;
  py.right = x;
  px.parent = y;
  px.left = middle;
  if (middle !== null) get(s.places, middle).parent = x;
  return s;
}

/**
 * Walks from `from` up to the root, rotating at every node whose counted subtrees differ in
 * height by 2 (the AVL fix-up after one insertion below `from`, or one removal there).
 */
export function rebalanceFrom(shape: Shape, from: number | null, counted: Counted = ALL_COUNT): Shape {
  let s = shape;
  let at = from;
  while (at !== null) {
    const height = heights(s, counted);
    const p = get(s.places, at);
    const balance = height(p.left) - height(p.right);
    if (balance > 1) {
      const left = get(s.places, p.left as number);
      if (height(left.left) < height(left.right)) s = rotateLeft(s, p.left as number);
      s = rotateRight(s, at);
    } else if (balance < -1) {
      const right = get(s.places, p.right as number);
      if (height(right.right) < height(right.left)) s = rotateRight(s, p.right as number);
      s = rotateLeft(s, at);
    }
    // After a rotation `at` moved down: its old place is now its new parent's.
    at = get(s.places, at).parent;
    if (balance > 1 || balance < -1) at = at === null ? null : get(s.places, at).parent;
  }
  return s;
}

/** Inserts `id` where a search for it ends (a leaf), without rebalancing. */
export function insertLeaf(shape: Shape, id: number): Shape {
  const s = copy(shape);
  let parent: number | null = null;
  let at = s.root;
  while (at !== null) {
    parent = at;
    const p = get(s.places, at);
    at = nextHop(at, id) === 'left' ? p.left : p.right;
  }
  s.places.set(id, { id, parent, left: null, right: null });
  if (parent === null) s.root = id;
  else if (nextHop(parent, id) === 'left') get(s.places, parent).left = id;
  else get(s.places, parent).right = id;
  return s;
}

/**
 * Removes `id` as a binary-search-tree deletion does: a node with two children is replaced by
 * its in-order successor (the smallest id of its right subtree), which moves up with its own
 * place taken by its right child; otherwise its only child (or nothing) takes its place.
 * Returns the new shape and the lowest node whose subtree lost a level (where a fix-up starts).
 */
export function removeNode(shape: Shape, id: number): { shape: Shape; fixFrom: number | null } {
  const s = copy(shape);
  const gone = get(s.places, id);
  let fixFrom: number | null;
  if (gone.left !== null && gone.right !== null) {
    let successor = gone.right;
    while (get(s.places, successor).left !== null) successor = get(s.places, successor).left as number;
    const ps = get(s.places, successor);
    if (successor === gone.right) {
      fixFrom = successor;
    } else {
      fixFrom = ps.parent;
      // The successor's right child takes the successor's old place.
      replaceChild(s, ps.parent, successor, ps.right);
      if (ps.right !== null) get(s.places, ps.right).parent = ps.parent;
      ps.right = gone.right;
      get(s.places, gone.right).parent = successor;
    }
    ps.left = gone.left;
    get(s.places, gone.left).parent = successor;
    replaceChild(s, gone.parent, id, successor);
    ps.parent = gone.parent;
  } else {
    const child = gone.left ?? gone.right;
    replaceChild(s, gone.parent, id, child);
    if (child !== null) get(s.places, child).parent = gone.parent;
    fixFrom = gone.parent;
  }
  s.places.delete(id);
  return { shape: s, fixFrom };
}

/** The places that differ between two shapes (new or changed nodes), in id order. */
export function linkChanges(before: Shape, after: Shape): LinkChange[] {
  const changes: LinkChange[] = [];
  for (const [id, p] of after.places) {
    const was = before.places.get(id);
    if (was === undefined || was.parent !== p.parent || was.left !== p.left || was.right !== p.right) {
      changes.push({ id, parent: p.parent, left: p.left, right: p.right });
    }
  }
  return changes.sort((a, b) => a.id - b.id);
}

/** `before` with `changes` applied and `removed` taken out: what the relinked tree looks like. */
export function applyChanges(before: Shape, changes: readonly LinkChange[], removed: readonly number[] = []): Shape {
  const s = copy(before);
  for (const id of removed) s.places.delete(id);
  for (const c of changes) s.places.set(c.id, { id: c.id, parent: c.parent, left: c.left, right: c.right });
  const roots = [...s.places.values()].filter((p) => p.parent === null);
  s.root = roots.length === 1 ? (roots[0] as Place).id : null;
  return s;
}

/** `id` and every node below it. */
export function subtreeIds(shape: Shape, id: number): number[] {
  const out: number[] = [];
  const stack = [id];
  while (stack.length > 0) {
    const at = stack.pop() as number;
    const p = shape.places.get(at);
    if (p === undefined) continue;
    out.push(at);
    if (p.left !== null) stack.push(p.left);
    if (p.right !== null) stack.push(p.right);
  }
  return out;
}

/**
 * The nodes whose path from the root changes between two shapes (every node below one whose
 * parent changes, and the removed ones): commands for exactly these must wait while the links
 * change; the rest of the tree keeps flowing.
 */
export function affectedByRelink(before: Shape, after: Shape, removed: readonly number[] = []): Set<number> {
  const affected = new Set<number>();
  const moved = [...before.places.values()].filter((p) => removed.includes(p.id) || after.places.get(p.id)?.parent !== p.parent);
  for (const p of moved) for (const id of subtreeIds(before, p.id)) affected.add(id);
  return affected;
}

/** The ids from the root down, in order (left subtree, node, right subtree). */
export function inOrder(shape: Shape): number[] {
  const out: number[] = [];
  const walk = (id: number | null): void => {
    if (id === null) return;
    const p = get(shape.places, id);
    walk(p.left);
    out.push(id);
    walk(p.right);
  };
  walk(shape.root);
  return out;
}

/** Edges from the root to the deepest node (0 for a lone root or an empty tree). */
export function depthOf(shape: Shape): number {
  const h = heights(shape, ALL_COUNT);
  return Math.max(0, h(shape.root) - 1);
}

/** Every node whose counted subtrees differ in height by more than 1. */
export function avlViolations(shape: Shape, counted: Counted = ALL_COUNT): number[] {
  const height = heights(shape, counted);
  return [...shape.places.values()]
    .filter((p) => counted(p.id) && Math.abs(height(p.left) - height(p.right)) > 1)
    .map((p) => p.id);
}

/**
 * The deepest an AVL tree of `n` nodes can be, in edges: the largest h whose sparsest AVL tree
 * (N(h) = N(h-1) + N(h-2) + 1 nodes, N(1) = 1, N(2) = 2) fits in n nodes, minus one. It stays
 * within 1.44 log2(n + 2).
 */
export function maxAvlDepth(n: number): number {
  if (n <= 1) return 0;
  let [shorter, taller, levels] = [1, 2, 2];
  while (shorter + taller + 1 <= n) {
    [shorter, taller] = [taller, shorter + taller + 1];
    levels++;
  }
  return levels - 1;
}
