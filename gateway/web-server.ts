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
 * Every response carries `Content-Security-Policy: default-src 'self'` (the page has no inline
 * script or style). Assets are a fixed list read once from `dist/web/` (no path from the request
 * ever reaches the file system) and served without the token; with ARBOR_TOKEN set, every API
 * call must carry `authorization: Bearer <token>`, compared in constant time as over gRPC.
 * Bad input gets a 4xx, never a crash: unknown path or method 404, wrong HTTP method 405, bad
 * JSON or protobuf 400 (Connect's INVALID_ARGUMENT), a body over WEB_MAX_BODY_BYTES 413 (429,
 * Connect's RESOURCE_EXHAUSTED, when it came without a length).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { fileURLToPath } from 'node:url';
import { ArborServiceService } from '../proto/gen/arbor/v1/arbor.js';
import { splitHostPort } from './address.js';
import type { GatewayContext } from './context.js';
import type { WebApi } from './web-api.js';

/** The largest API request body: the page's commands are a few dozen bytes; a 255-byte name fits many times over. */
export const WEB_MAX_BODY_BYTES = 64 * 1024;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

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

export interface WebOptions {
  /** Require `authorization: Bearer <token>` on API calls. */
  token?: string;
  /** PEM key and certificate: serve HTTPS (the same ones as the gRPC port). */
  tls?: { key: Buffer; cert: Buffer };
  /** Where the bundled assets are; default `dist/web/` beside this module's `dist/gateway/`. */
  assetsDir?: string;
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

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const path = (req.url ?? '/').split('?')[0] as string;
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
  // A client that sends garbage or hangs up mid-request is its own problem, never the gateway's.
  server.on('clientError', (_error, socket) => socket.destroy());
  const { bare, port } = splitHostPort(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bare, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  return {
    server,
    port: typeof bound === 'object' && bound !== null ? bound.port : port,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
