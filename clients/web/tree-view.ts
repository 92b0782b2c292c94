/**
 * @module The drawing of the tree: an ARIA tree of nodes that are updated in place (keyed by id,
 * only what changed is written; moves animated briefly when few boxes move), with zoom and pan
 * (d3-zoom: wheel, drag, pinch, keys, buttons), collapsible subtrees, a state filter, search and
 * keyboard navigation.
 *
 * The panel (`#tree`, an HTML element: the ARIA tree, and what d3-zoom listens on) holds one
 * `<svg>` whose CSS transform is the zoom. Zooming an SVG group instead makes Chromium lay out
 * every text of the drawing again at each step (it sizes SVG text for the scale it is shown at),
 * which at 400 nodes held the page for most of a frame per zoom step; a CSS transform on the
 * `<svg>` element only repaints it.
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
import { reorder } from './keyed-order.js';
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
/** More boxes than this moving in one redraw jump into place instead (see render). */
const MAX_ANIMATED_MOVES = 40;
/** A redraw that moves boxes within this long of the previous one that did jumps, and so does its refit. */
const CALM_MS = 1000;

export interface TreeViewHooks {
  /** A node was clicked, or Enter pressed on it: show its details. */
  open(id: number): void;
}

export class TreeView {
  private topology: TopologyResponse | undefined;
  private layout: TreeLayout | undefined;
  /** The layout's nodes by id. */
  private at = new Map<number, PlacedNode>();
  /** The elements drawn for each node and edge, updated in place by render. */
  private readonly drawnNodes = new Map<number, DrawnNode>();
  private readonly drawnEdges = new Map<string, SVGPathElement>();
  /**
   * The panel's size, kept by a ResizeObserver: reading it from the DOM after a redraw's changes
   * forces the browser to lay the whole drawing out there and then, once more per redraw.
   */
  private size: { width: number; height: number } | undefined;
  /** The transform the last fit asked for (a redraw that changes no bounds does not move the view). */
  private fitted: ZoomTransform | undefined;
  /** When a redraw last moved boxes. */
  private movedAt = -Infinity;
  private readonly collapsed = new Set<number>();
  /** The node in the tab order. */
  private current: number | undefined;
  private selected: number | undefined;
  private found: number | undefined;
  private filter: ReadonlySet<DrawnState> = new Set();
  private following = true;
  private frame: number | undefined;
  private readonly zoomer: ZoomBehavior<HTMLElement, unknown>;
  /** The zoom now (d3-zoom's, as last applied). */
  private transform: ZoomTransform = zoomIdentity;
  private readonly drawing: SVGSVGElement;
  private readonly edges: SVGGElement;
  private readonly nodes: SVGGElement;
  private readonly empty: HTMLParagraphElement;
  private readonly reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');

  constructor(
    private readonly panel: HTMLElement,
    private readonly hooks: TreeViewHooks,
  ) {
    this.drawing = document.createElementNS(SVG, 'svg');
    // Not a graphic of its own: the treeitems inside belong to the panel's tree.
    this.drawing.setAttribute('role', 'none');
    this.edges = document.createElementNS(SVG, 'g');
    this.edges.setAttribute('class', 'edges');
    this.edges.setAttribute('aria-hidden', 'true');
    this.nodes = document.createElementNS(SVG, 'g');
    this.nodes.setAttribute('class', 'nodes');
    this.empty = document.createElement('p');
    this.empty.className = 'empty';
    this.drawing.append(this.edges, this.nodes);
    panel.replaceChildren(this.drawing, this.empty);

    this.zoomer = zoom<HTMLElement, unknown>()
      .scaleExtent([0.05, 12])
      // d3-zoom's default extent reads the panel's size from the DOM at every zoom step (a forced layout).
      .extent(() => {
        const { width, height } = this.viewSize();
        return [
          [0, 0],
          [width, height],
        ];
      })
      .on('zoom', (event: { transform: ZoomTransform; sourceEvent: unknown }) => {
        const t = event.transform;
        this.transform = t;
        this.drawing.style.transform = `translate(${t.x}px,${t.y}px) scale(${t.k})`;
        panel.dataset.scale = t.k.toFixed(3);
        // A wheel, drag or pinch is the user taking over; the page's own moves have no source event.
        if (event.sourceEvent !== null && event.sourceEvent !== undefined) {
          this.following = false;
          this.fitted = undefined;
        }
      });
    // A double click opens nothing and zooms nothing: clicks are for nodes.
    select(panel).call(this.zoomer).on('dblclick.zoom', null);

    panel.addEventListener('click', (event) => {
      const target = event.target as Element;
      const id = this.idOf(target);
      if (id === undefined) return;
      if (target.closest('.toggle') !== null) this.toggle(id);
      else {
        this.focus(id);
        hooks.open(id);
      }
    });
    panel.addEventListener('keydown', (event) => this.key(event));
    new ResizeObserver((entries) => {
      const box = entries.at(-1)?.contentRect;
      if (box !== undefined) this.size = { width: box.width, height: box.height };
      if (this.following) this.fit(false);
    }).observe(panel);
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

  private viewSize(): { width: number; height: number } {
    if (this.size === undefined) {
      const { width, height } = this.panel.getBoundingClientRect();
      this.size = { width, height };
    }
    return this.size;
  }

  /** Shows all of the tree, and follows it again as it changes. */
  fit(animate = true): void {
    this.following = true;
    const layout = this.layout;
    if (layout === undefined) return;
    const { width, height } = this.viewSize();
    if (width === 0 || height === 0) return;
    const t = fitTransform(layout.bounds, width, height, FIT_MARGIN, MAX_FIT_SCALE);
    const target = zoomIdentity.translate(t.x, t.y).scale(t.k);
    // Redraws that keep the tree's extent (most of them) leave the view alone, and a move under way to it goes on.
    if (animate && this.fitted !== undefined && this.fitted.toString() === target.toString()) return;
    this.moveTo(target, animate);
    this.fitted = target;
  }

  /**
   * Collapses the nodes of the deepest level that still lets the drawing fit with readable ids
   * (each collapsed node shows how many nodes it hides and their worst state), then fits.
   */
  overview(): void {
    const topology = this.topology;
    if (topology === undefined) return;
    const { width, height } = this.viewSize();
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
    this.fitted = undefined;
    select(this.panel)
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
    const { width, height } = this.viewSize();
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
    return this.transform.k;
  }

  private duration(): number {
    return this.reducedMotion.matches ? 0 : MOVE_MS;
  }

  private moveTo(transform: ZoomTransform, animate: boolean): void {
    this.fitted = undefined;
    const selection = select(this.panel);
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
    const { width, height } = this.viewSize();
    const current = this.transform;
    const sx = current.x + k * at.x;
    const sy = current.y + k * at.y;
    const pad = 40;
    if (sx > pad && sx < width - pad && sy > pad && sy < height - pad) return;
    this.following = false;
    this.moveTo(zoomIdentity.translate(width / 2 - k * at.x, height / 2 - k * at.y).scale(k), true);
  }

  private placed(id: number): PlacedNode | undefined {
    return this.at.get(id);
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
    this.at = new Map(layout.placed.map((p) => [p.node.id, p]));
    const at = this.at;
    setText(this.empty, layout.placed.length === 0 ? '(no nodes yet: type create 8 in the console)' : '');
    this.empty.hidden = layout.placed.length > 0;
    if (this.current === undefined || !at.has(this.current)) this.current = layout.placed[0]?.node.id;
    const w = layout.boxW;
    const transform = (p: PlacedNode): string => `translate(${p.x},${p.y})`;
    const path = (e: TreeLayout['edges'][number]): string => {
      const from = at.get(e.from) as PlacedNode;
      const to = at.get(e.to) as PlacedNode;
      return `M${from.x},${from.y + BOX_H / 2}L${to.x},${to.y - BOX_H / 2}`;
    };

    // Moves are animated when few boxes move and the tree was calm before: a rotation near the
    // root moves hundreds, and under a storm of changes every animation is cut short by the next
    // change anyway; each costs a repaint of the whole drawing per frame.
    let moves = 0;
    for (const p of layout.placed) {
      const drawn = this.drawnNodes.get(p.node.id);
      if (drawn !== undefined && written(drawn.g, 'transform') !== transform(p)) moves++;
    }
    const now = performance.now();
    const calm = now - this.movedAt > CALM_MS;
    if (moves > 0) this.movedAt = now;
    const duration = this.duration();
    const animate = !first && duration > 0 && calm && moves <= MAX_ANIMATED_MOVES;

    // Edges: from the bottom of the parent's box to the top of the child's.
    const edgesNow = new Set<string>();
    for (const e of layout.edges) {
      const key = `${e.from}-${e.to}`;
      edgesNow.add(key);
      let edge = this.drawnEdges.get(key);
      const isNew = edge === undefined;
      if (edge === undefined) {
        edge = document.createElementNS(SVG, 'path');
        this.drawnEdges.set(key, edge);
        this.edges.append(edge);
      }
      setAttr(edge, 'class', `edge ${e.side}`);
      moveAttr(edge, 'd', path(e), animate && !isNew ? duration : 0);
    }
    for (const [key, edge] of this.drawnEdges) {
      if (edgesNow.has(key)) continue;
      select(edge).interrupt();
      edge.remove();
      this.drawnEdges.delete(key);
    }

    const filtering = this.filter.size > 0;
    const matches = (p: PlacedNode): boolean =>
      this.filter.has(drawnState(p.node)) || (p.hidden !== undefined && [...this.filter].some((s) => (p.hidden?.states[s] ?? 0) > 0));
    for (const [id, drawn] of this.drawnNodes) {
      if (at.has(id)) continue;
      select(drawn.g).interrupt();
      drawn.g.remove();
      this.drawnNodes.delete(id);
    }
    const roots = layout.placed.filter((q) => q.parent === undefined);
    const wanted: SVGGElement[] = [];
    for (const p of layout.placed) {
      const id = p.node.id;
      let drawn = this.drawnNodes.get(id);
      const isNew = drawn === undefined;
      if (drawn === undefined) {
        drawn = newNode();
        this.drawnNodes.set(id, drawn);
      }
      const { g } = drawn;
      wanted.push(g);
      const parent = p.parent === undefined ? undefined : at.get(p.parent);
      moveAttr(g, 'transform', transform(p), animate && !isNew ? duration : 0);
      const state = drawnState(p.node);
      const looks = {
        class: `node${id === this.found ? ' found' : ''}${filtering && !matches(p) ? ' dimmed' : ''}`,
        state,
        worst: p.hidden?.worst ?? null,
        label: nodeLabel(p.node, p.hidden),
        reason: p.node.reason,
        level: String(p.level + 1),
        setsize: String(parent === undefined ? roots.length : parent.children.length),
        posinset: String((parent === undefined ? roots.indexOf(p) : parent.children.indexOf(id)) + 1),
        expanded: p.hidden !== undefined ? 'false' : p.children.length > 0 ? 'true' : null,
        selected: id === this.selected ? 'true' : 'false',
        tabindex: id === this.current ? '0' : '-1',
        more: p.hidden === undefined ? '' : `+${p.hidden.size}${STATE_SIGN[p.hidden.worst]}`,
        w,
      };
      // Most nodes look as they did (a redraw is mostly one node's change): one comparison skips them.
      const key = JSON.stringify(looks);
      if (drawn.looks === key) continue;
      drawn.looks = key;
      setAttr(g, 'class', looks.class);
      setAttr(g, 'data-node-id', String(id));
      setAttr(g, 'data-state', state);
      setAttr(g, 'data-worst', looks.worst);
      setAttr(g, 'aria-label', looks.label);
      setAttr(g, 'aria-level', looks.level);
      setAttr(g, 'aria-setsize', looks.setsize);
      setAttr(g, 'aria-posinset', looks.posinset);
      setAttr(g, 'aria-expanded', looks.expanded);
      setAttr(g, 'aria-selected', looks.selected);
      setAttr(g, 'tabindex', looks.tabindex);
      setAttr(drawn.box, 'x', String(-w / 2));
      setAttr(drawn.box, 'width', String(w));
      setText(drawn.id, String(id));
      setAttr(drawn.sign, 'x', String(w / 2 - 1));
      // An empty text is not drawn at all (display none): fewer texts for the browser to lay out.
      showText(drawn.sign, STATE_SIGN[state]);
      showText(drawn.more, looks.more);
      setAttr(drawn.toggle, 'transform', `translate(${w / 2},${BOX_H / 2})`);
      setAttr(drawn.toggle, 'display', p.children.length > 0 || p.hidden !== undefined ? null : 'none');
      setText(drawn.toggleText, p.hidden !== undefined ? '+' : '−');
      setText(drawn.title, looks.reason === '' ? looks.label : `${looks.label}: ${looks.reason}`);
    }
    // The DOM follows the tree's pre-order (the order a screen reader reads a flat ARIA tree in), moving as few nodes as it can.
    for (const [g, before] of reorder([...this.nodes.children] as SVGGElement[], wanted)) this.nodes.insertBefore(g, before ?? null);

    if (first || this.following) this.fit(!first && calm);
  }
}

/** What each attribute (or `#text`) of a drawn element was last set to: a redraw writes only what changed. */
const WRITTEN = new WeakMap<Element, Map<string, string | null>>();

function written(el: Element, name: string): string | null | undefined {
  return WRITTEN.get(el)?.get(name);
}

/** Records `value` as written; false when it already was. */
function remember(el: Element, name: string, value: string | null): boolean {
  let mine = WRITTEN.get(el);
  if (mine === undefined) {
    mine = new Map();
    WRITTEN.set(el, mine);
  }
  if (mine.has(name) && mine.get(name) === value) return false;
  mine.set(name, value);
  return true;
}

function setAttr(el: Element, name: string, value: string | null): void {
  if (!remember(el, name, value)) return;
  if (value === null) el.removeAttribute(name);
  else el.setAttribute(name, value);
}

function setText(el: Element, text: string): void {
  if (remember(el, '#text', text)) el.textContent = text;
}

/** Sets a text, and leaves it out of the drawing (display none) while it is empty. */
function showText(el: Element, text: string): void {
  setText(el, text);
  setAttr(el, 'display', text === '' ? 'none' : null);
}

/** Sets an attribute that places the element: over `ms` (a d3 transition), or at once (0, which also stops a move under way). */
function moveAttr(el: Element, name: string, value: string, ms: number): void {
  if (!remember(el, name, value)) return;
  if (ms > 0) select(el).transition().duration(ms).attr(name, value);
  else {
    select(el).interrupt();
    el.setAttribute(name, value);
  }
}

interface DrawnNode {
  /** What the node showed at the last redraw (everything but its place), to skip an unchanged one. */
  looks?: string;
  g: SVGGElement;
  box: SVGRectElement;
  id: SVGTextElement;
  sign: SVGTextElement;
  more: SVGTextElement;
  toggle: SVGGElement;
  toggleText: SVGTextElement;
  title: SVGTitleElement;
}

/** A node's elements, with what never changes already set. */
function newNode(): DrawnNode {
  const make = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string> = {}): SVGElementTagNameMap[K] => {
    const el = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
    return el;
  };
  const g = make('g', { role: 'treeitem' });
  const box = make('rect', { class: 'box', y: String(-BOX_H / 2), height: String(BOX_H), rx: '5' });
  const id = make('text', { class: 'id', dy: '0.35em' });
  const sign = make('text', { class: 'sign', 'aria-hidden': 'true', y: String(-BOX_H / 2 + 1) });
  const more = make('text', { class: 'more', 'aria-hidden': 'true', y: String(BOX_H / 2 + 13) });
  const toggle = make('g', { class: 'toggle', 'aria-hidden': 'true' });
  const toggleText = make('text', { dy: '0.35em' });
  toggle.append(make('circle', { r: '6' }), toggleText);
  const title = make('title');
  g.append(box, id, sign, more, toggle, title);
  return { g, box, id, sign, more, toggle, toggleText, title };
}
