/**
 * @module The drawing of the tree in the page's `<svg>`: an ARIA tree of nodes that are updated in
 * place (keyed by id, moves animated briefly), with zoom and pan (d3-zoom: wheel, drag, pinch,
 * keys, buttons), collapsible subtrees, a state filter, search and keyboard navigation.
 *
 * Each node is a `<g role="treeitem">` carrying `data-node-id` and `data-state` (for tests and
 * automation; colours and border patterns come from style.css by `data-state`, the sign inside
 * the box from node-state.ts), named `node <id>, <state>, <n> names`. The tree is flat in the DOM,
 * its structure said by aria-level, aria-setsize and aria-posinset, as the ARIA tree pattern
 * allows. One node at a time is in the tab order (roving tabindex); the arrow keys move it.
 *
 * Until the user zooms or pans, the drawing follows the tree: every change refits it to the
 * panel. The fit button (or the 0 key) returns to that.
 */
import { select } from 'd3-selection';
import 'd3-transition';
import { zoom, type ZoomBehavior, zoomIdentity, type ZoomTransform } from 'd3-zoom';
import type { TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { type DrawnState, drawnState, nodeLabel, STATE_SIGN } from './node-state.js';
import { ancestors, BOX_H, fitTransform, ID_FONT_PX, layoutTree, neighbour, type PlacedNode, type TreeLayout } from './tree-layout.js';

const SVG = 'http://www.w3.org/2000/svg';
/** The fit never magnifies beyond this: a three-node tree keeps letters of a sensible size. */
const MAX_FIT_SCALE = 1.6;
const FIT_MARGIN = 16;
/** The overview keeps the levels whose ids are at least this big at fit (px on screen). */
const READABLE_PX = 12;
/** A found node is shown with its id at least this big (px on screen). */
const FOUND_LABEL_PX = 18;
const MOVE_MS = 250;
const ZOOM_STEP = 1.4;

export interface TreeViewHooks {
  /** A node was clicked, or Enter pressed on it: show its details. */
  open(id: number): void;
}

export class TreeView {
  private topology: TopologyResponse | undefined;
  private layout: TreeLayout | undefined;
  private readonly collapsed = new Set<number>();
  /** The node in the tab order. */
  private current: number | undefined;
  private selected: number | undefined;
  private found: number | undefined;
  private filter: ReadonlySet<DrawnState> = new Set();
  private following = true;
  private frame: number | undefined;
  private readonly zoomer: ZoomBehavior<SVGSVGElement, unknown>;
  private readonly viewport: SVGGElement;
  private readonly edges: SVGGElement;
  private readonly nodes: SVGGElement;
  private readonly empty: SVGTextElement;
  private readonly reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly hooks: TreeViewHooks,
  ) {
    this.viewport = document.createElementNS(SVG, 'g');
    this.viewport.setAttribute('class', 'viewport');
    this.edges = document.createElementNS(SVG, 'g');
    this.edges.setAttribute('class', 'edges');
    this.edges.setAttribute('aria-hidden', 'true');
    this.nodes = document.createElementNS(SVG, 'g');
    this.nodes.setAttribute('class', 'nodes');
    this.empty = document.createElementNS(SVG, 'text');
    this.empty.setAttribute('class', 'empty');
    this.empty.setAttribute('x', '16');
    this.empty.setAttribute('y', '28');
    this.viewport.append(this.edges, this.nodes);
    svg.replaceChildren(this.viewport, this.empty);

    this.zoomer = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.05, 12])
      .on('zoom', (event: { transform: ZoomTransform; sourceEvent: unknown }) => {
        this.viewport.setAttribute('transform', event.transform.toString());
        svg.dataset.scale = event.transform.k.toFixed(3);
        // A wheel, drag or pinch is the user taking over; the page's own moves have no source event.
        if (event.sourceEvent !== null && event.sourceEvent !== undefined) this.following = false;
      });
    // A double click opens nothing and zooms nothing: clicks are for nodes.
    select(svg).call(this.zoomer).on('dblclick.zoom', null);

    svg.addEventListener('click', (event) => {
      const target = event.target as Element;
      const id = this.idOf(target);
      if (id === undefined) return;
      if (target.closest('.toggle') !== null) this.toggle(id);
      else {
        this.focus(id);
        hooks.open(id);
      }
    });
    svg.addEventListener('keydown', (event) => this.key(event));
    new ResizeObserver(() => {
      if (this.following) this.fit(false);
    }).observe(svg);
  }

  /** The tree changed: draw it (in the next frame; several changes within one frame draw once). */
  update(topology: TopologyResponse): void {
    this.topology = topology;
    this.frame ??= requestAnimationFrame(() => {
      this.frame = undefined;
      this.render();
    });
  }

  /** Whether node `id` is in the tree now. */
  has(id: number): boolean {
    return this.topology?.nodes.some((n) => n.id === id) ?? false;
  }

  /** Shows all of the tree, and follows it again as it changes. */
  fit(animate = true): void {
    this.following = true;
    const layout = this.layout;
    if (layout === undefined) return;
    const { width, height } = this.svg.getBoundingClientRect();
    if (width === 0 || height === 0) return;
    const t = fitTransform(layout.bounds, width, height, FIT_MARGIN, MAX_FIT_SCALE);
    this.moveTo(zoomIdentity.translate(t.x, t.y).scale(t.k), animate);
  }

  /**
   * Collapses the nodes of the deepest level that still lets the drawing fit with readable ids
   * (each collapsed node shows how many nodes it hides and their worst state), then fits.
   */
  overview(): void {
    const topology = this.topology;
    if (topology === undefined) return;
    const { width, height } = this.svg.getBoundingClientRect();
    const deepest = topology.nodes.reduce((most, n) => Math.max(most, n.depth), 0);
    for (let keep = deepest; keep >= 0; keep--) {
      const collapsed = topology.nodes.filter((n) => n.depth === keep && (n.left !== undefined || n.right !== undefined)).map((n) => n.id);
      const layout = layoutTree(topology, new Set(collapsed));
      if (keep === 0 || fitTransform(layout.bounds, width, height, FIT_MARGIN, MAX_FIT_SCALE).k * ID_FONT_PX >= READABLE_PX) {
        this.collapsed.clear();
        for (const id of collapsed) this.collapsed.add(id);
        break;
      }
    }
    this.following = true;
    this.render();
  }

  /** Expands every collapsed subtree, and fits. */
  expandAll(): void {
    this.collapsed.clear();
    this.following = true;
    this.render();
  }

  zoomBy(factor: number): void {
    this.following = false;
    select(this.svg)
      .transition()
      .duration(this.duration())
      .call((t) => this.zoomer.scaleBy(t, factor));
  }

  /** Collapses or expands the subtree below `id`. */
  toggle(id: number): void {
    if (!this.collapsed.delete(id)) this.collapsed.add(id);
    this.render();
  }

  isCollapsed(id: number): boolean {
    return this.collapsed.has(id);
  }

  /** Dims every node not in one of `states` (none: nothing dimmed). */
  setFilter(states: ReadonlySet<DrawnState>): void {
    this.filter = states;
    this.render();
  }

  /** Marks the node whose details are shown. */
  select(id: number | undefined): void {
    this.selected = id;
    this.render();
  }

  /** Unfolds the way to node `id`, zooms to it (readable), highlights and focuses it. False if there is none. */
  find(id: number): boolean {
    if (this.topology === undefined || !this.has(id)) return false;
    for (const above of ancestors(this.topology, id)) this.collapsed.delete(above);
    this.found = id;
    this.render();
    const at = this.placed(id);
    if (at === undefined) return false;
    const { width, height } = this.svg.getBoundingClientRect();
    const k = Math.max(this.scale(), FOUND_LABEL_PX / ID_FONT_PX);
    this.following = false;
    this.moveTo(zoomIdentity.translate(width / 2 - k * at.x, height / 2 - k * at.y).scale(k), true);
    this.focus(id);
    return true;
  }

  /** Puts node `id` in the tab order and focuses it, panning it into view if it is outside. */
  focus(id: number): void {
    this.current = id;
    this.render();
    const el = this.element(id);
    if (el === undefined) return;
    el.focus({ preventScroll: true });
    this.reveal(id);
  }

  private scale(): number {
    return Number(this.svg.dataset.scale ?? '1');
  }

  private duration(): number {
    return this.reducedMotion.matches ? 0 : MOVE_MS;
  }

  private moveTo(transform: ZoomTransform, animate: boolean): void {
    const selection = select(this.svg);
    if (animate && this.duration() > 0) {
      selection
        .transition()
        .duration(this.duration())
        .call((t) => this.zoomer.transform(t, transform));
    } else selection.interrupt().call((s) => this.zoomer.transform(s, transform));
  }

  /** Pans so node `id` is inside the panel (no move when it already is). */
  private reveal(id: number): void {
    const at = this.placed(id);
    if (at === undefined) return;
    const k = this.scale();
    const { width, height } = this.svg.getBoundingClientRect();
    const current = this.currentTransform();
    const sx = current.x + k * at.x;
    const sy = current.y + k * at.y;
    const pad = 40;
    if (sx > pad && sx < width - pad && sy > pad && sy < height - pad) return;
    this.following = false;
    this.moveTo(zoomIdentity.translate(width / 2 - k * at.x, height / 2 - k * at.y).scale(k), true);
  }

  private currentTransform(): { x: number; y: number } {
    const match = /translate\(([-\d.e]+),\s*([-\d.e]+)\)/.exec(this.viewport.getAttribute('transform') ?? '');
    return match === null ? { x: 0, y: 0 } : { x: Number(match[1]), y: Number(match[2]) };
  }

  private placed(id: number): PlacedNode | undefined {
    return this.layout?.placed.find((p) => p.node.id === id);
  }

  private element(id: number): SVGGElement | undefined {
    return this.nodes.querySelector<SVGGElement>(`[data-node-id="${id}"]`) ?? undefined;
  }

  private idOf(target: Element): number | undefined {
    const node = target.closest('.node');
    return node === null ? undefined : Number((node as SVGGElement).dataset.nodeId);
  }

  private key(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === '+' || event.key === '=') this.zoomBy(ZOOM_STEP);
    else if (event.key === '-' || event.key === '_') this.zoomBy(1 / ZOOM_STEP);
    else if (event.key === '0') this.fit();
    else {
      const id = this.idOf(event.target as Element);
      const layout = this.layout;
      if (id === undefined || layout === undefined) return;
      const moves: Record<string, 'up' | 'down' | 'left' | 'right'> = { ArrowUp: 'up', ArrowDown: 'down', ArrowLeft: 'left', ArrowRight: 'right' };
      const move = moves[event.key];
      if (move !== undefined) {
        // Down on a collapsed node opens it first, as the tree pattern's Right does.
        if (move === 'down' && this.collapsed.has(id)) this.toggle(id);
        const next = neighbour(this.layout as TreeLayout, id, move);
        if (next !== undefined) this.focus(next);
      } else if (event.key === 'Home') {
        const first = layout.placed[0];
        if (first !== undefined) this.focus(first.node.id);
      } else if (event.key === 'End') {
        const last = layout.placed.at(-1);
        if (last !== undefined) this.focus(last.node.id);
      } else if (event.key === 'Enter') this.hooks.open(id);
      else if (event.key === ' ') this.toggle(id);
      else return;
    }
    event.preventDefault();
  }

  private render(): void {
    const topology = this.topology;
    if (topology === undefined) return;
    const layout = layoutTree(topology, this.collapsed);
    const first = this.layout === undefined || (this.layout.placed.length === 0 && layout.placed.length > 0);
    this.layout = layout;
    this.empty.textContent = layout.placed.length === 0 ? '(no nodes yet: type create 8 in the console)' : '';
    if (this.current === undefined || !layout.placed.some((p) => p.node.id === this.current)) this.current = layout.placed[0]?.node.id;
    const duration = this.duration();
    const w = layout.boxW;
    const at = new Map(layout.placed.map((p) => [p.node.id, p]));

    // Edges: from the bottom of the parent's box to the top of the child's.
    const path = (e: TreeLayout['edges'][number]): string => {
      const from = at.get(e.from) as PlacedNode;
      const to = at.get(e.to) as PlacedNode;
      return `M${from.x},${from.y + BOX_H / 2}L${to.x},${to.y - BOX_H / 2}`;
    };
    select(this.edges)
      .selectAll<SVGPathElement, TreeLayout['edges'][number]>('path')
      .data(layout.edges, (e) => `${e.from}-${e.to}`)
      .join(
        (enter) => enter.append('path').attr('d', path),
        (update) => {
          update.filter((e, i, all) => (all[i] as SVGPathElement).getAttribute('d') !== path(e)).transition().duration(duration).attr('d', path);
          return update;
        },
      )
      .attr('class', (e) => `edge ${e.side}`);

    const filtering = this.filter.size > 0;
    const matches = (p: PlacedNode): boolean =>
      this.filter.has(drawnState(p.node)) || (p.hidden !== undefined && [...this.filter].some((s) => (p.hidden?.states[s] ?? 0) > 0));
    const transform = (p: PlacedNode): string => `translate(${p.x},${p.y})`;

    const groups = select(this.nodes)
      .selectAll<SVGGElement, PlacedNode>('g.node')
      .data(layout.placed, (p) => String(p.node.id))
      .join(
        (enter) => {
          const g = enter.append('g').attr('class', 'node').attr('role', 'treeitem').attr('transform', transform);
          g.append('rect').attr('class', 'box');
          g.append('text').attr('class', 'id').attr('dy', '0.35em');
          g.append('text').attr('class', 'sign').attr('aria-hidden', 'true');
          g.append('text').attr('class', 'more').attr('aria-hidden', 'true');
          const toggle = g.append('g').attr('class', 'toggle').attr('aria-hidden', 'true');
          toggle.append('circle').attr('r', 6);
          toggle.append('text').attr('dy', '0.35em');
          g.append('title');
          return g;
        },
        (update) => {
          update.filter((p, i, all) => (all[i] as SVGGElement).getAttribute('transform') !== transform(p)).transition().duration(duration).attr('transform', transform);
          return update;
        },
      );
    const siblings = (p: PlacedNode): number => (p.parent === undefined ? layout.placed.filter((q) => q.parent === undefined).length : (at.get(p.parent)?.children.length ?? 1));
    const position = (p: PlacedNode): number =>
      p.parent === undefined ? layout.placed.filter((q) => q.parent === undefined).indexOf(p) + 1 : (at.get(p.parent)?.children.indexOf(p.node.id) ?? 0) + 1;
    groups
      .attr('data-node-id', (p) => p.node.id)
      .attr('data-state', (p) => drawnState(p.node))
      .attr('data-worst', (p) => p.hidden?.worst ?? null)
      .attr('aria-label', (p) => nodeLabel(p.node, p.hidden))
      .attr('aria-level', (p) => p.level + 1)
      .attr('aria-setsize', siblings)
      .attr('aria-posinset', position)
      .attr('aria-expanded', (p) => (p.hidden !== undefined ? 'false' : p.children.length > 0 ? 'true' : null))
      .attr('aria-selected', (p) => (p.node.id === this.selected ? 'true' : 'false'))
      .attr('tabindex', (p) => (p.node.id === this.current ? 0 : -1))
      .classed('found', (p) => p.node.id === this.found)
      .classed('dimmed', (p) => filtering && !matches(p));
    groups.select('rect.box').attr('x', -w / 2).attr('y', -BOX_H / 2).attr('width', w).attr('height', BOX_H).attr('rx', 5);
    groups.select('text.id').text((p) => p.node.id);
    groups
      .select('text.sign')
      .attr('x', w / 2 - 1)
      .attr('y', -BOX_H / 2 + 1)
      .text((p) => STATE_SIGN[drawnState(p.node)]);
    groups
      .select('text.more')
      .attr('y', BOX_H / 2 + 13)
      .text((p) => (p.hidden === undefined ? '' : `+${p.hidden.size}${STATE_SIGN[p.hidden.worst]}`));
    const toggles = groups.select<SVGGElement>('g.toggle').attr('transform', `translate(${w / 2},${BOX_H / 2})`);
    toggles.attr('display', (p) => (p.children.length > 0 || p.hidden !== undefined ? null : 'none'));
    toggles.select('text').text((p) => (p.hidden !== undefined ? '+' : '−'));
    groups.select('title').text((p) => (p.node.reason === '' ? nodeLabel(p.node, p.hidden) : `${nodeLabel(p.node, p.hidden)}: ${p.node.reason}`));

    if (first || this.following) this.fit(!first);
  }
}
