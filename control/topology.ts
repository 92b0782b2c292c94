/**
 * @module The binary search tree of computing nodes, ordered by id: who is where. Pure data;
 * the control decides lifecycles and talks to processes.
 */
import { nextHop } from '../computing/protocol/routing.js';

/**
 * The node's process lifecycle: `starting` (placed in the tree, process not yet connected;
 * commands for it wait) → `running` (connected once) → `exited` (its process ended; final).
 * Reachability is separate: see `available`.
 */
export type NodeState = 'starting' | 'running' | 'exited';

export interface TreeNode {
  readonly id: number;
  readonly parent: number | null;
  left: number | null;
  right: number | null;
  state: NodeState;
  /**
   * Reachable through the tree right now: running, heard within 4 x the heartbeat interval,
   * and so is every node above it. Commands to an unavailable node fail fast.
   */
  available: boolean;
  /** OS pid once spawned. */
  pid: number | null;
  /** How the process ended, once `exited`. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
}

export class Topology {
  private readonly nodes = new Map<number, TreeNode>();
  private rootId: number | null = null;

  get root(): number | null {
    return this.rootId;
  }

  get size(): number {
    return this.nodes.size;
  }

  get(id: number): TreeNode | undefined {
    return this.nodes.get(id);
  }

  values(): IterableIterator<TreeNode> {
    return this.nodes.values();
  }

  /** The parent the search tree gives a new `id` (null: it becomes the root). */
  placeFor(id: number): number | null {
    let at = this.rootId;
    let parent: number | null = null;
    while (at !== null) {
      parent = at;
      const node = this.nodes.get(at) as TreeNode;
      at = nextHop(at, id) === 'left' ? node.left : node.right;
    }
    return parent;
  }

  /** Inserts `id` where the search tree places it, in state `starting`. The caller checked it is new. */
  insert(id: number): TreeNode {
    const parent = this.placeFor(id);
    const node: TreeNode = { id, parent, left: null, right: null, state: 'starting', available: false, pid: null, exit: null };
    this.nodes.set(id, node);
    if (parent === null) this.rootId = id;
    else {
      const p = this.nodes.get(parent) as TreeNode;
      if (nextHop(parent, id) === 'left') p.left = id;
      else p.right = id;
    }
    return node;
  }

  /** Removes `id` and everything below it (used when a create fails: only starting nodes hang below it). */
  removeSubtree(id: number): TreeNode[] {
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

  /** `id` and all its descendants, parents before children. */
  subtree(id: number): TreeNode[] {
    const out: TreeNode[] = [];
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
  preorder(): TreeNode[] {
    return this.rootId === null ? [] : this.subtree(this.rootId);
  }

  /** Number of edges from the root to `id` (the root has depth 0). */
  depth(id: number): number {
    let depth = 0;
    for (let node = this.nodes.get(id); node?.parent != null; node = this.nodes.get(node.parent)) depth++;
    return depth;
  }

  /** True when `ancestor` is `id` or lies on the path from the root to `id`. */
  isOnPathTo(ancestor: number, id: number): boolean {
    for (let node = this.nodes.get(id); node !== undefined; node = node.parent === null ? undefined : this.nodes.get(node.parent)) {
      if (node.id === ancestor) return true;
    }
    return false;
  }
}
