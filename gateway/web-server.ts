/**
 * @module The web view's HTTP listener (`--http-listen`): the page's static assets, and the
 * ArborService over the Connect protocol (`connect-service.ts`) for the page to call.
 *
 * Why Connect beside grpc-js, not a custom SSE + JSON channel: the page then is a client of the
 * public API as it is (same service, same messages, same status codes, Watch as a server
 * stream), with a generated client instead of hand-written routes, and `buf curl --protocol
 * connect` or any Connect/gRPC-Web-style client can use the same port. Browsers cannot do bidi
 * streams, so Session is the one RPC not served here.
 *
 * Every response carries `Content-Security-Policy: default-src 'self'; frame-ancestors 'none'`
 * (the page has no inline script or style) and `X-Frame-Options: DENY` (no site may frame the
 * console and trick clicks into it; the header for browsers without CSP level 2). A request whose
 * Host does not name this server gets 403 (DNS rebinding), as does a state-changing request from
 * another origin (web-guard.ts has the rules; `--http-allowed-hosts` lists more hosts). Assets are
 * a fixed list read once from `dist/web/` (no path from the request ever reaches the file
 * system) and served without the token; with ARBOR_TOKEN set, every API call must carry
 * `authorization: Bearer <token>` (the scheme's name in any case), checked as over gRPC.
 * Bad input gets a 4xx, never a crash: unknown path or method 404, wrong HTTP method 405 with
 * `Allow`, bad JSON or protobuf 400 (Connect's INVALID_ARGUMENT), a body over WEB_MAX_BODY_BYTES
 * 413 (429, Connect's RESOURCE_EXHAUSTED, when it came without a length); a request Node's parser
 * refuses gets 431 (headers over its limit) or 400 with `Connection: close`, not a silent close.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ArborServiceService } from '../proto/gen/arbor/v1/arbor.js';
import { splitHostPort } from './address.js';
import type { GatewayContext } from './context.js';
import type { WebApi } from './web-api.js';
import { type AllowedHosts, hostAllowed, type HostPolicy, originAllowed, ownNames } from './web-guard.js';

/** The largest API request body: the page's commands are a few dozen bytes; a 255-byte name fits many times over. */
export const WEB_MAX_BODY_BYTES = 64 * 1024;

export const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** Refused Host and Origin values logged, each once: a page retrying in a loop cannot flood the log, and memory stays bounded. */
const REFUSALS_LOGGED = 64;

/** The bundled files (`npm run bundle:web`), by the path they are served at. */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
  '/app.js.map': { file: 'app.js.map', type: 'application/json' },
  '/style.css.map': { file: 'style.css.map', type: 'application/json' },
};

// `/arbor.v1.ArborService/`: the service's paths are the same under Connect as under gRPC.
const API_PREFIX = ArborServiceService.create.path.replace(/[^/]+$/, '');
/** The service's methods: each is POST only over Connect (none is marked idempotent, so none is served by GET). */
const API_METHODS: ReadonlySet<string> = new Set(Object.values(ArborServiceService).map((method) => method.path));

export interface WebOptions {
  /** Require `authorization: Bearer <token>` on API calls. */
  token?: string;
  /** PEM key and certificate: serve HTTPS (the same ones as the gRPC port). */
  tls?: { key: Buffer; cert: Buffer };
  /** Where the bundled assets are; default `dist/web/` beside this module's `dist/gateway/`. */
  assetsDir?: string;
  /** Hosts answered besides this server's own names (`--http-allowed-hosts`); default none. */
  allowedHosts?: AllowedHosts;
}

export interface WebServer {
  server: Server;
  port: number;
  /** Stops listening and cuts open connections (Watch streams are ended by the gateway's shutdown first). */
  close(): void;
}

function loadAssets(dir: string): Map<string, { body: Buffer; type: string }> | string {
  const loaded = new Map<string, { body: Buffer; type: string }>();
  try {
    for (const [path, { file, type }] of Object.entries(ASSETS)) loaded.set(path, { body: readFileSync(`${dir}/${file}`), type });
  } catch (error) {
    return `the web view's assets are missing from ${dir} (run 'npm run bundle:web'): ${error instanceof Error ? error.message : String(error)}`;
  }
  return loaded;
}

function plain(res: ServerResponse, code: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', ...extra }).end(`${text}\n`);
}

/** True the first time each value is seen (up to `limit` values; false after that). */
function firstSight(limit: number): (value: string) => boolean {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value) || seen.size >= limit) return false;
    seen.add(value);
    return true;
  };
}

/** Node's parser errors that have a status of their own; any other is 400. */
const PARSE_STATUS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

/** The whole HTTP/1.1 response to a request Node's parser refused (`code`: the error's code), closing the connection. */
export function parseErrorResponse(code: string | undefined): string {
  const [status, reason] = PARSE_STATUS[code ?? ''] ?? [400, 'Bad Request'];
  const body = `${reason}\n`;
  const headers = Object.entries({ ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length), connection: 'close' });
  return `HTTP/1.1 ${status} ${reason}\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n${body}`;
}

/** Serves the web view on `address` ("host:port"; port 0 picks a free one); resolves once it listens. */
export async function serveWeb(ctx: GatewayContext, address: string, options: WebOptions = {}): Promise<WebServer> {
  const dir = options.assetsDir ?? fileURLToPath(new URL('../web', import.meta.url));
  const assets = loadAssets(dir);
  if (typeof assets === 'string') ctx.log.warn({ dir }, assets);

  // Connect and the protobuf-es schemas load at the first API call, not at the gateway's start
  // (npm start turns the web view on, and its first reply should not wait for them).
  let api: Promise<WebApi> | undefined;
  const callApi = (req: IncomingMessage, res: ServerResponse): void => {
    api ??= import('./web-api.js').then((m) => m.webApi(ctx, WEB_MAX_BODY_BYTES, options.token));
    api.then(
      (handler) => handler(req, res),
      (error: unknown) => plain(res, 500, `the web API could not be loaded: ${error instanceof Error ? error.message : String(error)}`),
    );
  };

  const scheme = options.tls === undefined ? 'http' : 'https';
  const { host: listenHost, bare, port: listenPort } = splitHostPort(address);
  // The port is the bound one (known once listening, before any request comes).
  const policy: HostPolicy = { scheme, port: listenPort, own: ownNames(listenHost), extra: options.allowedHosts ?? [] };
  const newHost = firstSight(REFUSALS_LOGGED);
  const newOrigin = firstSight(REFUSALS_LOGGED);
  // The response in progress on each connection: a parse error after its headers went out must not write into it.
  const current = new WeakMap<Duplex, ServerResponse>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    current.set(req.socket, res);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const host = req.headers.host;
    if (!hostAllowed(host, policy)) {
      const shown = (host ?? '(none)').slice(0, 200);
      if (newHost(shown)) {
        ctx.log.warn({ host: shown }, 'web view: refused a request whose Host is not this server (DNS rebinding?); --http-allowed-hosts lists more hosts');
      }
      plain(res, 403, `Blocked request: the host ${JSON.stringify(shown)} is not allowed. To allow it, start the gateway with --http-allowed-hosts (env ARBOR_HTTP_ALLOWED_HOSTS).`);
      return;
    }
    const origin = req.headers.origin;
    if (!originAllowed(req.method, origin, host, scheme)) {
      const shown = (origin ?? '').slice(0, 200);
      if (newOrigin(shown)) ctx.log.warn({ origin: shown, method: req.method }, 'web view: refused a state-changing request from another origin');
      plain(res, 403, `Blocked request: a ${req.method ?? '?'} from the origin ${JSON.stringify(shown)}, not this page's.`);
      return;
    }
    const path = (req.url ?? '/').split('?')[0] as string;
    if (API_METHODS.has(path) && req.method !== 'POST') {
      plain(res, 405, `method ${req.method ?? '?'} not allowed: API calls use POST (the Connect protocol)`, { allow: 'POST' });
      return;
    }
    if (path.startsWith(API_PREFIX)) {
      // Refused before it is read, with the plain status; a body without a length meets readMaxBytes.
      if (Number(req.headers['content-length'] ?? 0) > WEB_MAX_BODY_BYTES) {
        plain(res, 413, `request body over ${WEB_MAX_BODY_BYTES} bytes`, { connection: 'close' });
        return;
      }
      callApi(req, res);
      return;
    }
    const asset = typeof assets === 'string' ? undefined : assets.get(path);
    if (asset === undefined) {
      plain(res, 404, typeof assets === 'string' && path === '/' ? assets : `not found: ${path.slice(0, 200)}`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      plain(res, 405, `method ${req.method ?? '?'} not allowed: use GET`, { allow: 'GET, HEAD' });
      return;
    }
    res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };

  const server = options.tls === undefined ? createHttpServer(handle) : createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handle);
  // A request the parser refuses gets its status in words, then the connection closes; it never
  // reaches `handle` and never harms the gateway. Written only when no response is half sent on
  // that connection (Node's own rule), so a Watch stream's bytes are never cut by a status line.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const res = current.get(socket);
    if (error.code !== 'ECONNRESET' && socket.writable && (res === undefined || !res.headersSent || res.writableEnded)) {
      socket.write(parseErrorResponse(error.code));
    }
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, bare, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  policy.port = typeof bound === 'object' && bound !== null ? bound.port : listenPort;
  if (policy.extra === 'all') ctx.log.warn('web view: Host check off (--http-allowed-hosts all): any web page may reach it by DNS rebinding');
  return {
    server,
    port: policy.port,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
