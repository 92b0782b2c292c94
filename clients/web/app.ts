/**
 * @module The web view's entry (bundled to dist/web/app.js by `npm run bundle:web`): wires the
 * API client, the tree drawing, the events list, the console and the token form.
 *
 * Changes are pushed: the page holds one Watch stream, and each event both goes into the list
 * and triggers a fresh Topology call (coalesced: one in flight at a time, one more if anything
 * happened meanwhile), so a dead node turns red within the event's own latency, no polling. A
 * command typed here that may reshape the tree (create, remove, heartbeat) also redraws, since a
 * new heartbeat interval or a rotation has no event of its own. If the stream ends (the gateway
 * restarts, the network drops) the page says so and opens it again with backoff.
 */
import { Api, isUnauthenticated } from './api.js';
import { addEvent } from './events-list.js';
import { TokenStore } from './token.js';
import { drawTree } from './tree-svg.js';
import { WebConsole } from './web-console.js';
import { statusCounts } from '../topology-view.js';

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;

function byId<T extends Element>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as unknown as T;
}

function start(): void {
  const tokens = new TokenStore(byId('token-form'), byId('token'), byId('token-note'));
  const api = new Api(window.location.origin, () => tokens.current());
  const svg = byId<SVGSVGElement>('tree');
  const connection = byId<HTMLElement>('connection');
  const events = byId<HTMLOListElement>('events');

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
          const topology = await api.topology();
          drawTree(svg, topology);
          const counts = statusCounts(topology);
          byId('node-count').textContent = String(counts.nodes);
          byId('depth').textContent = counts.depthBound === null ? String(counts.depth) : `${counts.depth} (AVL bound ${counts.depthBound})`;
          byId('heartbeat').textContent = counts.heartbeatIntervalMs === 0 ? 'off' : `${counts.heartbeatIntervalMs} ms`;
          byId('unavailable-count').textContent = String(counts.unavailable);
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

  new WebConsole(api, byId('command-form'), byId('command'), byId('log'), {
    onUnauthenticated: () => void askToken().then(redraw),
    onChange: redraw,
  });

  const watch = async (): Promise<void> => {
    let delay = RETRY_MIN_MS;
    for (;;) {
      const stream = new AbortController();
      try {
        const feed = api.watch(stream.signal);
        // Read the tree once the stream is asked for: an event from then on triggers a redraw.
        redraw();
        setConnection(`live · ${window.location.host}`, false);
        for await (const event of feed) {
          delay = RETRY_MIN_MS;
          addEvent(events, event);
          redraw();
        }
        setConnection('the gateway ended the event stream: reconnecting…', true);
      } catch (error) {
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
  byId<HTMLInputElement>('command').focus();
}

start();
