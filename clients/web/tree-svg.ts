/**
 * @module Draws the tree into the page's `<svg>`: one `<g class="node">` per node, carrying
 * `data-node-id` and `data-state` (for tests and automation; the colours come from style.css by
 * `data-state`), and a line per parent-child link. Redrawn whole on every change: a tree this
 * page shows is at most a few hundred nodes, well within what a browser redraws in a frame.
 */
import { type NodeInfo, NodeState, type TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { stateName } from '../topology-view.js';
import { drawnState } from './node-state.js';
import { layoutTree } from './tree-layout.js';

const SVG = 'http://www.w3.org/2000/svg';
const BOX_W = 128;
const BOX_H = 70;
const GAP_X = 14;
const GAP_Y = 36;
const MARGIN = 12;

function element<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  return el;
}

function text(x: number, y: number, content: string, className: string): SVGTextElement {
  const el = element('text', { x, y, class: className });
  el.textContent = content;
  return el;
}

/** The lines inside a node's box: its id, pid, host and keys, restarts and state. */
function nodeLines(node: NodeInfo): string[] {
  return [
    `pid ${node.pid === 0 ? '–' : node.pid} · ${node.host === '' ? 'local' : node.host}`,
    `keys ${node.keys} · restarts ${node.restarts}`,
    // The drawn state, and the lifecycle's own word where it says more (exited, stopping).
    drawnState(node) === stateName(node.state) || node.state === NodeState.NODE_STATE_RUNNING
      ? drawnState(node)
      : `${drawnState(node)} (${stateName(node.state)})`,
  ];
}

export function drawTree(svg: SVGSVGElement, topology: TopologyResponse): void {
  const layout = layoutTree(topology);
  const at = new Map(layout.placed.map((p) => [p.node.id, { x: MARGIN + p.column * (BOX_W + GAP_X), y: MARGIN + p.row * (BOX_H + GAP_Y) }]));
  const width = Math.max(1, layout.columns) * (BOX_W + GAP_X) - GAP_X + 2 * MARGIN;
  const height = Math.max(1, layout.rows) * (BOX_H + GAP_Y) - GAP_Y + 2 * MARGIN;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  // Its natural size; style.css lets it shrink to the panel's width (max-width), never grow.
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.replaceChildren();

  for (const edge of layout.edges) {
    const from = at.get(edge.from);
    const to = at.get(edge.to);
    if (from === undefined || to === undefined) continue;
    svg.append(element('line', { x1: from.x + BOX_W / 2, y1: from.y + BOX_H, x2: to.x + BOX_W / 2, y2: to.y, class: `edge ${edge.side}` }));
  }
  for (const { node } of layout.placed) {
    const { x, y } = at.get(node.id) as { x: number; y: number };
    const group = element('g', { class: 'node', 'data-node-id': node.id, 'data-state': drawnState(node), transform: `translate(${x} ${y})` });
    const title = element('title', {});
    title.textContent = node.reason === '' ? `node ${node.id}: ${drawnState(node)}` : `node ${node.id}: ${node.reason}`;
    group.append(title, element('rect', { width: BOX_W, height: BOX_H, rx: 8 }), text(10, 20, String(node.id), 'id'));
    nodeLines(node).forEach((line, index) => group.append(text(10, 36 + index * 14, line, 'detail')));
    svg.append(group);
  }
  if (layout.placed.length === 0) svg.append(text(MARGIN, MARGIN + 16, '(no nodes yet: type create 8 below)', 'empty'));
}
