/**
 * @module Where each node of the tree is drawn, and what a collapsed subtree hides. Pure.
 *
 * The geometry is d3-hierarchy's tidy tree (Reingold–Tilford as improved by Buchheim et al.):
 * parents centred over their children, subtrees packed as close as they can go without
 * overlapping, so a balanced tree of n nodes is about n/2 boxes wide rather than n. A binary
 * search tree also needs its sides: a node with only a right child must have it drawn to its
 * right. So a node with one child gets an invisible placeholder on the other side, which takes
 * half a slot. Rows are depths. Ids read from left to right in increasing order.
 *
 * Nodes no link reaches (only in a malformed answer) are drawn as trees of their own, right of
 * the root's. The walks are iterative (d3's `hierarchy` and `tree` are too), so a 5,000-node
 * chain (`--balance off`) does not run out of stack.
 */
import { hierarchy, type HierarchyNode, tree } from 'd3-hierarchy';
import type { NodeInfo, TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { type DrawnState, drawnState, worstState } from './node-state.js';

/** Sizes in layout units (the drawing's px at zoom 1). Font sizes are style.css's. */
export const ID_FONT_PX = 13;
/** An id's digit at ID_FONT_PX, bold, with room to spare (system-ui's digits are tabular). */
const DIGIT_W = 8;
const BOX_PAD = 8;
const MIN_BOX_W = 24;
export const BOX_H = 22;
const SLOT_GAP = 5;
export const LEVEL_H = 56;

export interface PlacedNode {
  node: NodeInfo;
  /** Centre of its box. */
  x: number;
  y: number;
  /** Edges from the drawing's root. */
  level: number;
  /** The drawn node above it (undefined for a root). */
  parent: number | undefined;
  /** Which child of its parent it is. */
  side: 'left' | 'right' | 'root';
  /** Its drawn children, left first (none when collapsed). */
  children: number[];
  /** Set when the node is collapsed and has nodes below it: how many, and the worst state among them. */
  hidden: { size: number; worst: DrawnState; states: Record<DrawnState, number> } | undefined;
}

export interface TreeLayout {
  /** Drawn nodes in pre-order (parent before children, left before right). */
  placed: PlacedNode[];
  edges: { from: number; to: number; side: 'left' | 'right' }[];
  /** The drawing's extent, boxes included. */
  bounds: { minX: number; maxX: number; minY: number; maxY: number };
  /** Width of every box (sized for the longest id). */
  boxW: number;
}

type Datum = { kind: 'top' } | { kind: 'node'; node: NodeInfo; side: PlacedNode['side'] } | { kind: 'gap' };

/** The box width that fits the longest id of `nodes`. */
export function boxWidth(nodes: readonly NodeInfo[]): number {
  const digits = nodes.reduce((most, n) => Math.max(most, String(n.id).length), 1);
  return Math.max(MIN_BOX_W, digits * DIGIT_W + BOX_PAD);
}

export function layoutTree(topology: TopologyResponse, collapsed: ReadonlySet<number> = new Set()): TreeLayout {
  const byId = new Map(topology.nodes.map((n) => [n.id, n]));
  const boxW = boxWidth(topology.nodes);

  // Which nodes hang from which: from the root, each node once (a loop in a malformed answer stops at a node seen).
  const reached = new Set<number>();
  const linksOf = (n: NodeInfo): { left?: NodeInfo; right?: NodeInfo } => {
    const pick = (id: number | undefined): NodeInfo | undefined => {
      const child = id === undefined ? undefined : byId.get(id);
      if (child === undefined || reached.has(child.id)) return undefined;
      reached.add(child.id);
      return child;
    };
    return { left: pick(n.left), right: pick(n.right) };
  };
  const links = new Map<number, { left?: NodeInfo; right?: NodeInfo }>();
  const roots: NodeInfo[] = [];
  const visit = (start: NodeInfo): void => {
    reached.add(start.id);
    roots.push(start);
    const stack = [start];
    while (stack.length > 0) {
      const n = stack.pop() as NodeInfo;
      const l = linksOf(n);
      links.set(n.id, l);
      if (l.right !== undefined) stack.push(l.right);
      if (l.left !== undefined) stack.push(l.left);
    }
  };
  const root = topology.root === undefined ? undefined : byId.get(topology.root);
  if (root !== undefined) visit(root);
  for (const n of topology.nodes) if (!reached.has(n.id)) visit(n);

  // What each collapsed node hides: sizes and states of the subtrees below, bottom-up without recursion.
  const below = new Map<number, Record<DrawnState, number>>();
  const order: NodeInfo[] = [];
  for (const r of roots) {
    const stack = [r];
    while (stack.length > 0) {
      const n = stack.pop() as NodeInfo;
      order.push(n);
      const l = links.get(n.id) ?? {};
      if (l.left !== undefined) stack.push(l.left);
      if (l.right !== undefined) stack.push(l.right);
    }
  }
  for (const n of order.reverse()) {
    const counts: Record<DrawnState, number> = { available: 0, unavailable: 0, starting: 0, restarting: 0, failed: 0 };
    const l = links.get(n.id) ?? {};
    for (const child of [l.left, l.right]) {
      if (child === undefined) continue;
      counts[drawnState(child)]++;
      const theirs = below.get(child.id) as Record<DrawnState, number>;
      for (const s of Object.keys(counts) as DrawnState[]) counts[s] += theirs[s];
    }
    below.set(n.id, counts);
  }

  const top = hierarchy<Datum>({ kind: 'top' }, (d) => {
    if (d.kind === 'top') return roots.map((node) => ({ kind: 'node', node, side: 'root' }));
    if (d.kind === 'gap' || collapsed.has(d.node.id)) return undefined;
    const l = links.get(d.node.id) ?? {};
    if (l.left === undefined && l.right === undefined) return undefined;
    const gap: Datum = { kind: 'gap' };
    return [
      l.left === undefined ? gap : { kind: 'node', node: l.left, side: 'left' },
      l.right === undefined ? gap : { kind: 'node', node: l.right, side: 'right' },
    ];
  });
  const slot = boxW + SLOT_GAP;
  tree<Datum>()
    .nodeSize([slot, LEVEL_H])
    // Placeholders take half a slot; everything else packs as close as siblings do.
    .separation((a, b) => (a.data.kind === 'gap' || b.data.kind === 'gap' ? 0.5 : 1))(top);

  const placed: PlacedNode[] = [];
  const edges: TreeLayout['edges'] = [];
  let minX = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  top.eachBefore((h: HierarchyNode<Datum>) => {
    const d = h.data;
    if (d.kind !== 'node') return;
    const x = h.x ?? 0;
    const y = ((h.y ?? 0) - LEVEL_H) + BOX_H / 2;
    const parent = h.parent?.data.kind === 'node' ? h.parent.data.node.id : undefined;
    const children = (h.children ?? []).flatMap((c) => (c.data.kind === 'node' ? [c.data.node.id] : []));
    const counts = below.get(d.node.id) as Record<DrawnState, number>;
    const size = Object.values(counts).reduce((a, b) => a + b, 0);
    const hidden = collapsed.has(d.node.id) && size > 0 ? { size, worst: worstState(counts), states: counts } : undefined;
    placed.push({ node: d.node, x, y, level: h.depth - 1, parent, side: d.side, children, hidden });
    if (parent !== undefined && d.side !== 'root') edges.push({ from: parent, to: d.node.id, side: d.side });
    minX = Math.min(minX, x - boxW / 2);
    maxX = Math.max(maxX, x + boxW / 2);
    // A collapsed node's count is written below its box.
    maxY = Math.max(maxY, y + BOX_H / 2 + (hidden === undefined ? 0 : 16));
  });
  if (placed.length === 0) return { placed, edges, bounds: { minX: 0, maxX: 0, minY: 0, maxY: 0 }, boxW };
  return { placed, edges, bounds: { minX, maxX, minY: 0, maxY }, boxW };
}

export interface ZoomTransform {
  k: number;
  x: number;
  y: number;
}

/**
 * The zoom that shows all of `bounds` in a `width` x `height` viewport with `margin` around it,
 * centred, never larger than `maxScale` (a small tree is not blown up to giant letters).
 */
export function fitTransform(bounds: TreeLayout['bounds'], width: number, height: number, margin: number, maxScale: number): ZoomTransform {
  const w = Math.max(1, bounds.maxX - bounds.minX);
  const h = Math.max(1, bounds.maxY - bounds.minY);
  const k = Math.max(0.01, Math.min(maxScale, (width - 2 * margin) / w, (height - 2 * margin) / h));
  return { k, x: width / 2 - k * (bounds.minX + w / 2), y: Math.max(margin, height / 2 - (k * h) / 2) - k * bounds.minY };
}

/**
 * Where the arrow keys go from node `id` in the drawing: up to the parent, down to the first
 * child (left, else right), left and right to the neighbour on the same row.
 */
export function neighbour(layout: TreeLayout, id: number, key: 'up' | 'down' | 'left' | 'right'): number | undefined {
  const at = layout.placed.find((p) => p.node.id === id);
  if (at === undefined) return undefined;
  if (key === 'up') return at.parent;
  if (key === 'down') return at.children[0];
  const row = layout.placed.filter((p) => p.level === at.level).sort((a, b) => a.x - b.x);
  const index = row.indexOf(at);
  return row[index + (key === 'left' ? -1 : 1)]?.node.id;
}

/** The ids above `id` (parent first), for unfolding the collapsed ones on a search. */
export function ancestors(topology: TopologyResponse, id: number): number[] {
  const byId = new Map(topology.nodes.map((n) => [n.id, n]));
  const out: number[] = [];
  const seen = new Set([id]);
  let parent = byId.get(id)?.parent;
  while (parent !== undefined && !seen.has(parent)) {
    out.push(parent);
    seen.add(parent);
    parent = byId.get(parent)?.parent;
  }
  return out;
}
