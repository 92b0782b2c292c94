/**
 * @module The side panel with one node's details (opened by a click on the node, or Enter on it):
 * its id, state and why, pid, host, restarts, depth, parent and children, its last events and
 * its names, with buttons to ping it, store and load a value, and remove it. The buttons build
 * the console's own lines (`ping 8`, `exec 8 X 16`...) and run them through the page's API client,
 * so a value is checked and a reply worded exactly as in the console.
 *
 * Names: the panel shows the node's key count. Listing them (paged) waits for the dictionary's
 * `Keys` call; `NamesView` is the one place that will then page through them.
 */
import type { NodeInfo, TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { formatLocalError, formatReply, isFailure } from '../format.js';
import { parseLine } from '../parse-line.js';
import { replicaText, stateName } from '../topology-view.js';
import type { Api } from './api.js';
import { describeEvent, type EventsList } from './events-list.js';
import { drawnState, STATE_SIGN } from './node-state.js';

/** Events of the node listed in the panel. */
const LAST_EVENTS = 8;

export interface DetailsHooks {
  /** Open another node's details (a parent or child button). */
  go(id: number): void;
  /** Collapse or expand the node's subtree in the drawing. */
  toggle(id: number): void;
  isCollapsed(id: number): boolean;
  /** A command may have changed the tree: redraw. */
  changed(): void;
  /** The panel was closed: give the focus back to the drawing. */
  closed(id: number): void;
}

/** The node's names: its count now; later, pages of names through the `Keys` call. */
class NamesView {
  constructor(private readonly into: HTMLElement) {}

  show(node: NodeInfo): void {
    this.into.textContent = `${node.keys} ${node.keys === 1 ? 'name' : 'names'} stored (load one by its name below)`;
  }
}

export class DetailsPanel {
  private id: number | undefined;
  private readonly names: NamesView;
  private confirmRemove = false;

  constructor(
    private readonly panel: HTMLElement,
    private readonly api: Api,
    private readonly events: EventsList,
    private readonly hooks: DetailsHooks,
  ) {
    this.names = new NamesView(this.part('#details-names'));
    this.part<HTMLButtonElement>('#details-close').addEventListener('click', () => this.close());
    panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.close();
    });
    this.part<HTMLButtonElement>('#details-ping').addEventListener('click', () => this.command(`ping ${this.id}`));
    this.part<HTMLButtonElement>('#details-toggle').addEventListener('click', () => {
      if (this.id !== undefined) hooks.toggle(this.id);
      this.refreshToggle();
    });
    const remove = this.part<HTMLButtonElement>('#details-remove');
    remove.addEventListener('click', () => {
      // Two steps: removing deletes the node's data.
      if (!this.confirmRemove) {
        this.confirmRemove = true;
        remove.textContent = `Really remove node ${this.id}? Its data is deleted`;
        return;
      }
      this.resetRemove();
      this.command(`remove ${this.id}`);
    });
    this.part<HTMLFormElement>('#details-store').addEventListener('submit', (event) => {
      event.preventDefault();
      const name = this.part<HTMLInputElement>('#store-name').value.trim();
      const value = this.part<HTMLInputElement>('#store-value').value.trim();
      this.command(`exec ${this.id} ${name || '""'} ${value || '""'}`);
    });
    this.part<HTMLFormElement>('#details-load').addEventListener('submit', (event) => {
      event.preventDefault();
      const name = this.part<HTMLInputElement>('#load-name').value.trim();
      this.command(`exec ${this.id} ${name || '""'}`);
    });
  }

  /** The node shown (undefined when the panel is closed). */
  shown(): number | undefined {
    return this.id;
  }

  open(id: number, topology: TopologyResponse | undefined): void {
    if (this.id !== id) {
      this.resetRemove();
      this.part('#details-result').textContent = '';
    }
    this.id = id;
    this.panel.hidden = false;
    this.update(topology);
    this.part<HTMLElement>('#details-title').focus();
  }

  close(): void {
    const id = this.id;
    this.id = undefined;
    this.panel.hidden = true;
    if (id !== undefined) this.hooks.closed(id);
  }

  /** Shows the node as `topology` has it (called on every change of the tree, and on every event). */
  update(topology: TopologyResponse | undefined): void {
    const id = this.id;
    if (id === undefined) return;
    const node = topology?.nodes.find((n) => n.id === id);
    this.part('#details-title').textContent = `Node ${id}`;
    const facts = this.part('#details-facts');
    const actions = this.part('#details-actions');
    if (node === undefined) {
      facts.replaceChildren(this.fact('state', 'not in the tree (removed)'));
      actions.hidden = true;
      this.part('#details-names').textContent = '';
    } else {
      actions.hidden = false;
      const state = drawnState(node);
      const lifecycle = stateName(node.state);
      const stateText = `${STATE_SIGN[state]} ${state}${lifecycle !== state && lifecycle !== 'running' ? ` (${lifecycle})` : ''}`.trim();
      facts.replaceChildren(
        this.fact('state', stateText),
        ...(node.reason === '' ? [] : [this.fact('why', node.reason)]),
        this.fact('pid', node.pid === 0 ? '–' : String(node.pid)),
        this.fact('host', node.host === '' ? 'local' : node.host),
        this.fact('restarts', String(node.restarts)),
        // --replicas 2: which process leads (the pid above) and where the copy is.
        ...(node.replica === undefined ? [] : [this.fact('copies', `this pid${replicaText(node)}`)]),
        this.fact('depth', String(node.depth)),
        this.fact('parent', node.parent === undefined ? '– (the root)' : this.link(node.parent)),
        this.fact('children', ...this.children(node)),
      );
      this.names.show(node);
      this.refreshToggle();
    }
    const list = this.part('#details-events');
    const last = this.events.of(id, LAST_EVENTS);
    list.replaceChildren(
      ...(last.length === 0
        ? [Object.assign(document.createElement('li'), { textContent: 'none since the gateway started' })]
        : last.map((e) => Object.assign(document.createElement('li'), { textContent: describeEvent(e) }))),
    );
  }

  private refreshToggle(): void {
    if (this.id === undefined) return;
    this.part('#details-toggle').textContent = this.hooks.isCollapsed(this.id) ? 'Expand subtree' : 'Collapse subtree';
  }

  private resetRemove(): void {
    this.confirmRemove = false;
    this.part('#details-remove').textContent = 'Remove…';
  }

  /** Runs one console line about this node and shows its reply. */
  private command(line: string): void {
    const result = this.part('#details-result');
    const parsed = parseLine(line);
    if (parsed.kind === 'invalid') {
      result.textContent = formatLocalError(parsed.message);
      result.className = 'error';
      return;
    }
    if (parsed.kind !== 'exec' && parsed.kind !== 'ping' && parsed.kind !== 'remove') return;
    result.textContent = `${line} …`;
    result.className = '';
    void this.api.run(parsed).then((outcome) => {
      const why = outcome.$case === 'error' && outcome.value.reason !== '' ? `\nwhy: ${outcome.value.reason}` : '';
      result.textContent = `${formatReply(parsed, outcome, 'seed')}${why}`;
      result.className = isFailure(parsed, outcome) ? 'error' : 'ok';
      if (parsed.kind !== 'ping') this.hooks.changed();
    });
  }

  private children(node: NodeInfo): (string | Node)[] {
    const parts: (string | Node)[] = [];
    if (node.left !== undefined) parts.push('left ', this.link(node.left));
    if (node.right !== undefined) parts.push(parts.length > 0 ? ', right ' : 'right ', this.link(node.right));
    return parts.length === 0 ? ['none (a leaf)'] : parts;
  }

  private link(id: number): HTMLButtonElement {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'link';
    button.textContent = String(id);
    button.setAttribute('aria-label', `node ${id}: show its details`);
    button.addEventListener('click', () => this.hooks.go(id));
    return button;
  }

  private fact(term: string, ...value: (string | Node)[]): DocumentFragment {
    const fragment = document.createDocumentFragment();
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.append(...value);
    if (term === 'state') dd.dataset.field = 'state';
    fragment.append(dt, dd);
    return fragment;
  }

  private part<T extends HTMLElement = HTMLElement>(selector: string): T {
    const found = this.panel.querySelector(selector);
    if (found === null) throw new Error(`the details panel has no ${selector}`);
    return found as T;
  }
}
