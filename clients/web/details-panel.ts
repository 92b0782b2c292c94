/**
 * @module The side panel with one node's details (opened by a click on the node, or Enter on it):
 * its id, state and why, pid, host, restarts, depth, parent and children, its last events and
 * its names, with buttons to ping it, store and load a value, and remove it. The buttons build
 * the console's own lines (`ping 8`, `exec 8 X 16`...) and run them through the page's API client,
 * so a value is checked and a reply worded exactly as in the console.
 *
 * Names: `NamesView` lists the node's names and values a page at a time through the `Keys` call
 * (the first page when the panel opens; Next and Previous names page on). The page shown is read
 * again when the node's key count changes, after a store from the panel, and at most once a
 * second while the panel is open (a value changed from the CLI keeps the count), and redrawn only
 * when the node's revision (which any store or delete changes) or the page differs.
 */
import { ConnectError } from '@connectrpc/connect';
import type { KeysResponse, NodeInfo, TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
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

/** Names listed per page in the panel. */
export const NAMES_PAGE = 20;
/** The page shown is read again at most this often while nothing says it changed. */
const NAMES_REFRESH_MS = 1000;

/** The node's names and values, a page at a time, through the `Keys` call. */
class NamesView {
  private id: number | undefined;
  /** start_after of each page up to the one shown (the first page starts after ''). */
  private starts: string[] = [''];
  private page: KeysResponse | undefined;
  private keys: number | undefined;
  /** Answers to older requests (another node, another page) are dropped. */
  private asked = 0;
  private readAt = 0;
  private reading = false;
  private shownKey = '';

  constructor(
    private readonly summary: HTMLElement,
    private readonly table: HTMLTableElement,
    private readonly previous: HTMLButtonElement,
    private readonly next: HTMLButtonElement,
    private readonly api: Api,
    private readonly pick: (name: string) => void,
  ) {
    next.addEventListener('click', () => {
      const last = this.page?.entries.at(-1);
      if (this.page?.more !== true || last === undefined) return;
      this.starts.push(last.name);
      this.read();
    });
    previous.addEventListener('click', () => {
      if (this.starts.length < 2) return;
      this.starts.pop();
      this.read();
    });
  }

  /** Shows node `node` (from its first page when it is another node); `force`: read the page again now. */
  show(node: NodeInfo, force = false): void {
    if (this.id !== node.id) {
      this.id = node.id;
      this.starts = [''];
      this.page = undefined;
      this.keys = undefined;
      this.shownKey = '';
      this.table.tBodies[0]?.replaceChildren();
    }
    const counted = this.keys !== node.keys;
    this.keys = node.keys;
    if (force || counted || performance.now() - this.readAt >= NAMES_REFRESH_MS) this.read();
    else this.draw();
  }

  /** The panel was closed or its node removed: no more reads. */
  stop(): void {
    this.id = undefined;
    this.asked++;
  }

  private read(): void {
    const id = this.id;
    if (id === undefined) return;
    const ticket = ++this.asked;
    const startAfter = this.starts.at(-1) ?? '';
    this.readAt = performance.now();
    this.reading = true;
    this.draw();
    this.api.keys({ id, prefix: '', limit: NAMES_PAGE, startAfter }).then(
      (page) => {
        if (ticket !== this.asked) return;
        this.reading = false;
        // Names deleted under the page shown can leave it empty: back to the one before.
        if (page.entries.length === 0 && this.starts.length > 1) {
          this.starts.pop();
          this.read();
          return;
        }
        this.page = page;
        this.draw();
      },
      (error: unknown) => {
        if (ticket !== this.asked) return;
        this.reading = false;
        this.page = undefined;
        this.shownKey = '';
        this.summary.textContent = `${this.count()} stored; cannot list them now: ${ConnectError.from(error).rawMessage}`;
        this.table.hidden = true;
      },
    );
  }

  private count(): string {
    const n = this.keys ?? 0;
    return `${n} ${n === 1 ? 'name' : 'names'}`;
  }

  private draw(): void {
    const page = this.page;
    const first = this.starts.length === 1;
    this.previous.hidden = first;
    this.next.hidden = page?.more !== true;
    this.previous.disabled = this.reading;
    this.next.disabled = this.reading;
    if (page === undefined) {
      this.summary.textContent = `${this.count()} stored${this.reading ? ' (reading…)' : ''}`;
      this.table.hidden = true;
      return;
    }
    const shown = page.entries.length;
    const more = !first || page.more ? `, page ${this.starts.length}: ${shown} ${shown === 1 ? 'name' : 'names'}${page.more ? ', more after' : ''}` : '';
    this.summary.textContent = `${this.count()} stored${more}`;
    this.table.hidden = shown === 0;
    const key = `${page.revision}|${this.starts.at(-1) ?? ''}|${shown}`;
    if (key === this.shownKey) return;
    this.shownKey = key;
    const rows = page.entries.map((entry) => {
      const row = document.createElement('tr');
      const name = document.createElement('th');
      name.scope = 'row';
      const use = document.createElement('button');
      use.type = 'button';
      use.className = 'link';
      use.textContent = entry.name;
      use.title = 'use this name in the store and load fields';
      use.addEventListener('click', () => this.pick(entry.name));
      name.append(use);
      const value = document.createElement('td');
      value.textContent = String(entry.value);
      row.append(name, value);
      return row;
    });
    (this.table.tBodies[0] ?? this.table.createTBody()).replaceChildren(...rows);
  }
}

export class DetailsPanel {
  private id: number | undefined;
  private readonly names: NamesView;
  /** What the facts and events lists show now (JSON), to leave them alone when nothing changed. */
  private shownFacts = '';
  /** A store or delete from the panel: the names are read again at the next update. */
  private namesChanged = false;
  private confirmRemove = false;

  constructor(
    private readonly panel: HTMLElement,
    private readonly api: Api,
    private readonly events: EventsList,
    private readonly hooks: DetailsHooks,
  ) {
    this.names = new NamesView(
      this.part('#details-names'),
      this.part<HTMLTableElement>('#details-keys'),
      this.part<HTMLButtonElement>('#keys-previous'),
      this.part<HTMLButtonElement>('#keys-next'),
      api,
      (name) => {
        this.part<HTMLInputElement>('#store-name').value = name;
        this.part<HTMLInputElement>('#load-name').value = name;
      },
    );
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
    this.shownFacts = '';
    this.id = id;
    this.panel.hidden = false;
    this.update(topology);
    this.part<HTMLElement>('#details-title').focus();
  }

  close(): void {
    const id = this.id;
    this.id = undefined;
    this.names.stop();
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
    const last = this.events.of(id, LAST_EVENTS);
    // Unchanged facts and events are left as they are (a focused parent or child button keeps its focus).
    const shown = JSON.stringify([id, node, last.map(describeEvent)], (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
    const same = shown === this.shownFacts;
    this.shownFacts = shown;
    const forceNames = this.namesChanged;
    this.namesChanged = false;
    if (node === undefined) {
      if (same) return;
      facts.replaceChildren(this.fact('state', 'not in the tree (removed)'));
      actions.hidden = true;
      this.names.stop();
      this.part('#details-names').textContent = '';
      this.part('#details-keys').hidden = true;
      this.part('#keys-previous').hidden = true;
      this.part('#keys-next').hidden = true;
    } else {
      actions.hidden = false;
      this.names.show(node, forceNames);
      this.refreshToggle();
      if (same) return;
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
    }
    const list = this.part('#details-events');
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
      if (parsed.kind === 'exec' && parsed.value !== undefined) this.namesChanged = true;
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
