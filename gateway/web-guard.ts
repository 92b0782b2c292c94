/**
 * @module Which requests the web view answers at all, as pure rules (web-server.ts applies them).
 *
 * Host check, against DNS rebinding: a page on `evil.example` can point its own name at
 * 127.0.0.1 and then call this port "same-origin", so CORS cannot stop it; the one thing such a
 * request cannot fake is its `Host` header, which still names `evil.example`. So a request is
 * answered only when its Host names this server: the listen address, `localhost`, `127.0.0.1` or
 * `[::1]`, each with the port the server listens on (the scheme's default port when the header
 * has none), or a host given by `--http-allowed-hosts`. The rule holds on every listen address,
 * 0.0.0.0 included: a wider listen address lets more machines connect, it does not make every
 * name safe. Anchors: Vite's `server.allowedHosts` (GHSA-vg6x-rcgg-rjx6), webpack-dev-server's
 * `allowedHosts` (CVE-2018-14732), Jupyter's host check.
 *
 * `--http-allowed-hosts` is comma-separated: `name` (any port), `name:port`, `.domain` (the
 * domain and every name under it, as Vite and webpack-dev-server read a leading dot), IPv4 and
 * bracketed IPv6 literals likewise. `all` (or `*`) alone turns the Host check off, like Vite's
 * `true` and webpack-dev-server's `'all'`: for a proxy that rewrites Host, never for a browser
 * on an open network.
 *
 * Origin check, against cross-site requests: a state-changing request (any method but GET, HEAD
 * or OPTIONS) whose `Origin` header names another origin than the request's own (this server's
 * scheme and the Host it came to) is refused; `Origin: null` too. Requests without an Origin
 * (curl, buf curl, the CLI's tools) pass: browsers send one on every such request, so its absence
 * is not a browser acting for a foreign page (OWASP CSRF Prevention Cheat Sheet).
 */

/** One entry of `--http-allowed-hosts`. */
export interface HostRule {
  /** Normalised: lower case, no trailing dot, IPv6 bracketed (`[::1]`), IPv4 in dotted quads. */
  name: string;
  /** Only this port; undefined: any port. */
  port: number | undefined;
  /** `.domain`: the name itself and every name under it. */
  subdomains: boolean;
}

/** What `--http-allowed-hosts` allows besides this server's own names: `'all'` turns the Host check off. */
export type AllowedHosts = 'all' | readonly HostRule[];

export type Scheme = 'http' | 'https';

// A name or an IP literal, and an optional port: nothing a URL parser would read as user info, path or query.
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i;

/** A `Host` value split and normalised the way the WHATWG URL parser does (browsers send it so); undefined when it is no host. */
export function parseHost(value: string, scheme: Scheme): { name: string; port: number } | undefined {
  if (!HOST.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(`${scheme}://${value}`);
  } catch {
    return undefined;
  }
  const name = url.hostname.replace(/\.$/, '');
  if (name === '') return undefined;
  return { name, port: url.port === '' ? defaultPort(scheme) : Number(url.port) };
}

export const defaultPort = (scheme: Scheme): number => (scheme === 'https' ? 443 : 80);

/** Parses `--http-allowed-hosts` (see the module's comment); the problem in words when an entry is no host. */
export function parseAllowedHosts(text: string): { allowed: AllowedHosts } | { problem: string } {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.some((entry) => entry === 'all' || entry === '*')) {
    return entries.length === 1 ? { allowed: 'all' } : { problem: `--http-allowed-hosts ${text}: 'all' turns the Host check off and goes alone` };
  }
  const rules: HostRule[] = [];
  for (const entry of entries) {
    const subdomains = entry.startsWith('.');
    const body = subdomains ? entry.slice(1) : entry;
    const hasPort = /:\d+$/.test(body) && (!body.startsWith('[') || body.includes(']:'));
    // The name is normalised as parseHost does for a request's Host; the port is taken as written.
    const parsed = parseHost(hasPort ? body : `${body}:1`, 'http');
    if (parsed === undefined || (subdomains && parsed.name.startsWith('['))) {
      return { problem: `--http-allowed-hosts: ${entry} is not a host name, host:port, .domain or IP address (comma-separated; 'all' turns the check off)` };
    }
    const port = hasPort ? Number(/:(\d+)$/.exec(body)?.[1]) : undefined;
    if (port !== undefined && (port < 1 || port > 65535)) return { problem: `--http-allowed-hosts: ${entry}: port out of range` };
    rules.push({ name: parsed.name, port, subdomains });
  }
  return { allowed: rules };
}

export interface HostPolicy {
  scheme: Scheme;
  /** The port the server listens on. */
  port: number;
  /** This server's own names (the listen address's host, localhost, 127.0.0.1, [::1]), valid with `port` only. */
  own: readonly string[];
  extra: AllowedHosts;
}

/** The own names of a server listening on `listenHost` (as written in its address, IPv6 bracketed). */
export function ownNames(listenHost: string): string[] {
  const names = new Set(['localhost', '127.0.0.1', '[::1]']);
  const listen = parseHost(listenHost, 'http');
  if (listen !== undefined) names.add(listen.name);
  return [...names];
}

/** Whether a request whose `Host` header is `header` may be answered. */
export function hostAllowed(header: string | undefined, policy: HostPolicy): boolean {
  if (policy.extra === 'all') return true;
  if (header === undefined) return false;
  const host = parseHost(header, policy.scheme);
  if (host === undefined) return false;
  if (host.port === policy.port && policy.own.includes(host.name)) return true;
  return policy.extra.some(
    (rule) =>
      (rule.port === undefined || rule.port === host.port) &&
      (host.name === rule.name || (rule.subdomains && host.name.endsWith(`.${rule.name}`))),
  );
}

/** Methods that change nothing, which the Origin check lets through (browsers send no-cors GETs for images and links). */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request with method `method` and header `origin` may be answered, when it came to
 * `host` (its Host header, already allowed) on a `scheme` server: safe methods and requests
 * without Origin always; any other only from its own origin.
 */
export function originAllowed(method: string | undefined, origin: string | undefined, host: string | undefined, scheme: Scheme): boolean {
  if (origin === undefined || SAFE_METHODS.has(method ?? 'GET')) return true;
  if (host === undefined) return false;
  try {
    return new URL(origin).origin === new URL(`${scheme}://${host}`).origin;
  } catch {
    // `null` (sandboxed frames, file: pages) and anything else that is no origin.
    return false;
  }
}
