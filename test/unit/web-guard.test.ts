/* The web view's request rules (issue 24): the Host check against DNS rebinding, the Origin check
   on state-changing requests, --http-allowed-hosts, the answer to an unparsable request, and the
   bearer scheme's case. Pure functions; the real server is tested in http-hardening.test.ts. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectedToken, matches } from '../../gateway/auth.js';
import { parseGatewayArgs } from '../../gateway/args.js';
import { parseErrorResponse } from '../../gateway/web-server.js';
import { type AllowedHosts, hostAllowed, type HostPolicy, originAllowed, ownNames, parseAllowedHosts } from '../../gateway/web-guard.js';

const PORT = 8123;
const policy = (extra: AllowedHosts = [], listenHost = '127.0.0.1', scheme: 'http' | 'https' = 'http', port = PORT): HostPolicy => ({
  scheme,
  port,
  own: ownNames(listenHost),
  extra,
});
const allowed = (text: string): AllowedHosts => {
  const parsed = parseAllowedHosts(text);
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed.allowed;
};

describe('the Host check', () => {
  it("answers this server's own names on its port, in any case, and nothing else by default", () => {
    const p = policy();
    for (const host of ['127.0.0.1', 'localhost', 'LocalHost', 'localhost.', '[::1]', '[0:0::1]', '127.1']) expect(hostAllowed(`${host}:${PORT}`, p)).toBe(true);
    for (const host of [
      undefined,
      '',
      'localhost',
      `localhost:${PORT + 1}`,
      `evil.example:${PORT}`,
      'evil.example',
      `localhost.evil.example:${PORT}`,
      `evil.example@127.0.0.1:${PORT}`,
      `127.0.0.1:${PORT}/x`,
      `127.0.0.1:${PORT}?`,
      `127.0.0.1:${PORT} `,
      '127.0.0.1:99999',
      `[::1:${PORT}`,
    ]) {
      expect(hostAllowed(host, p), String(host)).toBe(false);
    }
  });

  it('takes a Host without port as the default port of the scheme', () => {
    expect(hostAllowed('localhost', policy([], '127.0.0.1', 'http', 80))).toBe(true);
    expect(hostAllowed('localhost', policy([], '127.0.0.1', 'https', 443))).toBe(true);
    expect(hostAllowed('localhost', policy([], '127.0.0.1', 'https', 80))).toBe(false);
  });

  it('adds the listen address, and still applies on 0.0.0.0', () => {
    expect(hostAllowed(`arbor.lan:${PORT}`, policy([], 'arbor.lan'))).toBe(true);
    expect(hostAllowed(`[fd00::7]:${PORT}`, policy([], '[fd00::7]'))).toBe(true);
    const open = policy([], '0.0.0.0');
    expect(hostAllowed(`0.0.0.0:${PORT}`, open)).toBe(true);
    expect(hostAllowed(`localhost:${PORT}`, open)).toBe(true);
    expect(hostAllowed(`192.168.1.5:${PORT}`, open)).toBe(false);
    expect(hostAllowed(`evil.example:${PORT}`, open)).toBe(false);
  });

  it('refuses any other name on any port (property)', () => {
    const p = policy();
    fc.assert(
      fc.property(fc.domain(), fc.integer({ min: 1, max: 65535 }), (name, port) => {
        fc.pre(name !== 'localhost');
        expect(hostAllowed(`${name}:${port}`, p)).toBe(false);
        expect(hostAllowed(name, p)).toBe(false);
      }),
    );
  });

  it('answers the hosts of --http-allowed-hosts: name on any port, name:port on that port, .domain and names under it', () => {
    const p = policy(allowed(' arbor.test, pinned.test:9000 ,.lan.test,10.0.0.5,[fd00::1]:81,'));
    for (const host of ['arbor.test', 'arbor.test:1', 'ARBOR.test:65535', 'pinned.test:9000', 'lan.test:5', 'a.b.lan.test', '10.0.0.5:7', '[fd00::1]:81']) {
      expect(hostAllowed(host, p), host).toBe(true);
    }
    for (const host of ['x.arbor.test', 'pinned.test', 'pinned.test:9001', 'evillan.test', 'lan.test.evil', '10.0.0.6', '[fd00::1]:80', `evil.example:${PORT}`]) {
      expect(hostAllowed(host, p), host).toBe(false);
    }
    // Any host, even none, with the check off.
    for (const host of [undefined, 'evil.example', 'x y']) expect(hostAllowed(host, policy(allowed('all')))).toBe(true);
    expect(allowed('*')).toBe('all');
  });

  it('refuses a malformed --http-allowed-hosts with the entry in words', () => {
    expect(allowed('')).toEqual([]);
    expect(allowed(' , ')).toEqual([]);
    for (const text of ['bad host', 'a@b', 'a/b', '::1', 'x:0', 'x:70000', '.[::1]', 'all,arbor.test', 'http://x', 'x:']) {
      const parsed = parseAllowedHosts(text);
      expect(parsed, text).toHaveProperty('problem');
      expect((parsed as { problem: string }).problem).toMatch(/--http-allowed-hosts/);
    }
  });

  it('reads --http-allowed-hosts and ARBOR_HTTP_ALLOWED_HOSTS, the flag winning', () => {
    const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      const parsed = parseGatewayArgs(argv, env);
      if (!('run' in parsed)) throw new Error(JSON.stringify(parsed));
      return parsed.run.httpAllowedHosts;
    };
    expect(run([])).toEqual([]);
    expect(run([], { ARBOR_HTTP_ALLOWED_HOSTS: 'env.test' })).toEqual([{ name: 'env.test', port: undefined, subdomains: false }]);
    expect(run(['--http-allowed-hosts', 'flag.test:8080'], { ARBOR_HTTP_ALLOWED_HOSTS: 'env.test' })).toEqual([
      { name: 'flag.test', port: 8080, subdomains: false },
    ]);
    expect(run(['--http-allowed-hosts=all'])).toBe('all');
    expect(parseGatewayArgs(['--http-allowed-hosts', 'a b'], {})).toEqual({
      problem: "--http-allowed-hosts: a b is not a host name, host:port, .domain or IP address (comma-separated; 'all' turns the check off)",
    });
  });
});

describe('the Origin check', () => {
  const host = `127.0.0.1:${PORT}`;
  it('lets a state-changing request through only from its own origin, or without Origin', () => {
    expect(originAllowed('POST', undefined, host, 'http')).toBe(true);
    expect(originAllowed('POST', `http://127.0.0.1:${PORT}`, host, 'http')).toBe(true);
    expect(originAllowed('POST', `http://localhost:${PORT}`, `LOCALHOST:${PORT}`, 'http')).toBe(true);
    expect(originAllowed('POST', 'http://localhost', 'localhost:80', 'http')).toBe(true);
    for (const origin of ['http://evil.example', `http://localhost:${PORT}`, `https://127.0.0.1:${PORT}`, `http://127.0.0.1:${PORT + 1}`, 'null', '', 'x']) {
      expect(originAllowed('POST', origin, host, 'http'), origin).toBe(false);
      expect(originAllowed('PUT', origin, host, 'http'), origin).toBe(false);
    }
    expect(originAllowed('POST', `https://127.0.0.1:${PORT}`, host, 'https')).toBe(true);
    expect(originAllowed('POST', 'http://127.0.0.1', undefined, 'http')).toBe(false);
  });

  it('lets safe methods through from anywhere (they change nothing)', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) expect(originAllowed(method, 'http://evil.example', host, 'http')).toBe(true);
  });
});

describe('the answer to an unparsable request', () => {
  it('is a whole HTTP/1.1 response closing the connection: 431 for headers over the limit, 408 for a timeout, else 400', () => {
    for (const [code, status] of [
      ['HPE_HEADER_OVERFLOW', '431 Request Header Fields Too Large'],
      ['ERR_HTTP_REQUEST_TIMEOUT', '408 Request Timeout'],
      ['HPE_INVALID_METHOD', '400 Bad Request'],
      [undefined, '400 Bad Request'],
    ] as const) {
      const response = parseErrorResponse(code);
      expect(response.startsWith(`HTTP/1.1 ${status}\r\n`)).toBe(true);
      const [head, body] = response.split('\r\n\r\n') as [string, string];
      expect(head).toContain('\r\nconnection: close');
      expect(head).toContain("\r\ncontent-security-policy: default-src 'self'; frame-ancestors 'none'");
      expect(head).toContain(`\r\ncontent-length: ${Buffer.byteLength(body)}`);
    }
  });
});

describe('the bearer token', () => {
  const expected = expectedToken('s3cret');
  it("takes the scheme's name in any case (RFC 7235 section 2.1), and only the exact token", () => {
    for (const header of ['Bearer s3cret', 'bearer s3cret', 'BEARER s3cret', 'bEaReR  s3cret', 'Bearer\ts3cret']) expect(matches(header, expected), header).toBe(true);
    for (const header of [undefined, '', 's3cret', 'Bearer', 'Bearer ', 'Bearers3cret', 'Bearer s3cretx', 'Bearer s3cre', 'Basic s3cret', ' Bearer s3cret']) {
      expect(matches(header, expected), String(header)).toBe(false);
    }
  });

  it('accepts every token sent in any case of the scheme, and refuses every other token (property)', () => {
    const token = fc.string({ minLength: 1, maxLength: 80 }).filter((t) => /^\S/.test(t));
    const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'BeArEr');
    fc.assert(
      fc.property(token, token, scheme, (right, other, name) => {
        expect(matches(`${name} ${right}`, expectedToken(right))).toBe(true);
        expect(matches(`${name} ${other}`, expectedToken(right))).toBe(other === right);
      }),
    );
  });
});
