/**
 * @module The web view's entry (bundled to dist/web/app.js by `npm run bundle:web`): wires the
 * API client, the tree drawing, the details panel, the events list, the header's counts and
 * filters, the search, the console and the token form.
 *
 * Changes are pushed: the page holds one Watch stream. Events are taken in batches, one per
 * animation frame (a storm of them costs one redraw a frame, not one each): the batch goes into
 * the list, is applied to the tree the page holds (so a dead node turns red within the event's
 * own latency), and triggers a fresh Topology call (coalesced: one in flight at a time, one more
 * if anything happened meanwhile) that brings what events do not say (moves, new nodes). A new
 * heartbeat interval, a store's key count or a rotation's moves have no event of their own, so
 * while the stream is up and the page is visible it also reads Topology once a second when
 * nothing else did; the header and the drawing follow a change made from anywhere (the CLI, the
 * API) without a reload. The stream asks for the gateway's backlog first, so the events list
 * starts with what happened before the page opened. If the stream ends (the gateway restarts,
 * the network drops) the page says so and opens it again with backoff.
 */
import type { NodeEvent, TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { statusCounts } from '../topology-view.js';
import { Api, isUnauthenticated } from './api.js';
import { applyEvent } from './apply-event.js';
import { DetailsPanel } from './details-panel.js';
import { EventsList, MAX_EVENTS } from './events-list.js';
import { parseNodeFilter } from './node-id.js';
import { type DrawnState, drawnState, stateCounts } from './node-state.js';
import { TokenStore } from './token.js';
import { TreeView } from './tree-view.js';
import { WebConsole } from './web-console.js';

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;
/** Filter matches listed by id under the drawing; beyond it, a count. */
const MAX_LISTED = 40;
/** How often the page reads the tree when no event made it do so (see the module's comment). */
const LIVE_REFRESH_MS = 1000;
/** A batch of events waits at most this long for an animation frame (none come in a hidden tab). */
const BATCH_MAX_WAIT_MS = 250;

/** Sets an element's text only when it differs (an unchanged header is not laid out again). */
function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

function byId<T extends Element>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as unknown as T;
}

function start(): void {
  const tokens = new TokenStore(byId('token-form'), byId('token'), byId('token-note'));
  const api = new Api(window.location.origin, () => tokens.current());
  const connection = byId<HTMLElement>('connection');
  let topology: TopologyResponse | undefined;

  let asking: Promise<string> | undefined;
  /** One token prompt at a time, however many calls were refused. */
  const askToken = (): Promise<string> => {
    asking ??= tokens.ask().finally(() => (asking = undefined));
    return asking;
  };

  const setConnection = (text: string, down: boolean): void => {
    connection.textContent = text;
    connection.classList.toggle('down', down);
  };

  const view = new TreeView(byId('tree'), { open: (id) => showDetails(id) });
  const events = new EventsList(byId('events'), byId('events-filter'), byId('events-note'), () => details.update(topology));
  const details: DetailsPanel = new DetailsPanel(byId('details-panel'), api, events, {
    go: (id) => {
      view.focus(id);
      showDetails(id);
    },
    toggle: (id) => view.toggle(id),
    isCollapsed: (id) => view.isCollapsed(id),
    changed: () => redraw(),
    closed: (id) => {
      view.select(undefined);
      view.focus(id);
    },
  });
  function showDetails(id: number): void {
    view.select(id);
    details.open(id, topology);
  }

  // Zoom buttons.
  byId('zoom-in').addEventListener('click', () => view.zoomBy(1.4));
  byId('zoom-out').addEventListener('click', () => view.zoomBy(1 / 1.4));
  byId('zoom-fit').addEventListener('click', () => view.fit());
  byId('overview').addEventListener('click', () => view.overview());
  byId('expand-all').addEventListener('click', () => view.expandAll());

  // Search by id.
  const searchNote = byId<HTMLElement>('search-note');
  byId<HTMLFormElement>('search').addEventListener('submit', (event) => {
    event.preventDefault();
    const parsed = parseNodeFilter(byId<HTMLInputElement>('search-id').value);
    if ('problem' in parsed) searchNote.textContent = parsed.problem;
    else if (parsed.id === undefined) searchNote.textContent = 'type a node id';
    else searchNote.textContent = view.find(parsed.id) ? `node ${parsed.id}` : `no node ${parsed.id} in the tree`;
  });

  // State filters: dim the nodes in no chosen state, list the ones in one.
  const chosen = new Set<DrawnState>();
  const filterNote = byId<HTMLElement>('filter-note');
  const describeFilter = (): void => {
    if (chosen.size === 0 || topology === undefined) {
      filterNote.replaceChildren();
      return;
    }
    const ids = topology.nodes.filter((n) => chosen.has(drawnState(n))).map((n) => n.id);
    const label = `${[...chosen].join(' or ')}: ${ids.length === 0 ? 'none' : ''}`;
    const buttons = ids.slice(0, MAX_LISTED).map((id) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'link';
      b.textContent = String(id);
      b.addEventListener('click', () => view.find(id));
      return b;
    });
    filterNote.replaceChildren(label, ...buttons, ids.length > MAX_LISTED ? ` and ${ids.length - MAX_LISTED} more` : '');
  };
  for (const button of document.querySelectorAll<HTMLButtonElement>('#filters button.filter')) {
    button.addEventListener('click', () => {
      const state = button.dataset.state as DrawnState;
      if (!chosen.delete(state)) chosen.add(state);
      button.setAttribute('aria-pressed', String(chosen.has(state)));
      view.setFilter(new Set(chosen));
      describeFilter();
    });
  }

  let shownAt = 0;
  const show = (tree: TopologyResponse): void => {
    topology = tree;
    shownAt = performance.now();
    view.update(tree);
    const counts = statusCounts(tree);
    setText(byId('node-count'), String(counts.nodes));
    setText(byId('depth'), counts.depthBound === null ? String(counts.depth) : `${counts.depth} (AVL bound ${counts.depthBound})`);
    setText(byId('heartbeat'), counts.heartbeatIntervalMs === 0 ? 'off' : `${counts.heartbeatIntervalMs} ms`);
    const states = stateCounts(tree.nodes);
    for (const [state, n] of Object.entries(states)) setText(byId(`${state}-count`), String(n));
    details.update(tree);
    describeFilter();
  };

  let refreshing = false;
  let again = false;
  const refresh = async (): Promise<void> => {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      do {
        again = false;
        try {
          show(await api.topology());
        } catch (error) {
          if (!isUnauthenticated(error)) throw error;
          await askToken();
          again = true;
        }
      } while (again);
    } finally {
      refreshing = false;
    }
  };
  const redraw = (): void => {
    refresh().catch((error: unknown) => setConnection(`cannot read the tree: ${error instanceof Error ? error.message : String(error)}`, true));
  };

  new WebConsole(api, byId('command-form'), byId('command'), byId('log'), byId('completions'), {
    onUnauthenticated: () => void askToken().then(redraw),
    onChange: redraw,
  });

  // Events of one animation frame, applied together.
  const pending: NodeEvent[] = [];
  let scheduled = false;
  const flush = (): void => {
    if (!scheduled) return;
    scheduled = false;
    const batch = pending.splice(0);
    if (batch.length === 0) return;
    events.addAll(batch);
    // Drawn at once from the events themselves, then confirmed (and completed) by Topology.
    if (topology !== undefined) show(batch.reduce(applyEvent, topology));
    redraw();
  };
  const queue = (event: NodeEvent): void => {
    pending.push(event);
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(flush);
    setTimeout(flush, BATCH_MAX_WAIT_MS);
  };

  let live = false;
  setInterval(() => {
    if (live && !document.hidden && performance.now() - shownAt >= LIVE_REFRESH_MS) redraw();
  }, LIVE_REFRESH_MS);

  const watch = async (): Promise<void> => {
    let delay = RETRY_MIN_MS;
    for (;;) {
      const stream = new AbortController();
      try {
        const feed = api.watch(stream.signal, MAX_EVENTS);
        // Read the tree once the stream is asked for: an event from then on triggers a redraw.
        redraw();
        setConnection(`live · ${window.location.host}`, false);
        // The backlog comes again on every (re)connection: start the list over.
        pending.length = 0;
        events.clear();
        live = true;
        for await (const event of feed) {
          delay = RETRY_MIN_MS;
          queue(event);
        }
        live = false;
        setConnection('the gateway ended the event stream: reconnecting…', true);
      } catch (error) {
        live = false;
        if (isUnauthenticated(error)) {
          setConnection('waiting for the token', true);
          await askToken();
          continue;
        }
        setConnection(`disconnected (${error instanceof Error ? error.message : String(error)}): reconnecting…`, true);
      }
      stream.abort();
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(RETRY_MAX_MS, delay * 2);
    }
  };
  void watch();
}

start();
