/*
 * The web view's HTTP hardening (issue 24), against a real gateway with --http-listen and no token
 * (as `npm start` runs it): a forged Host (DNS rebinding) and a foreign Origin are refused before
 * anything changes, --http-allowed-hosts / ARBOR_HTTP_ALLOWED_HOSTS add hosts, every response
 * forbids framing, a request Node cannot parse gets 431 or 400 instead of a silent close, the
 * bearer scheme's name is case-insensitive, and the API's 405 says what is allowed.
 *
 * Requests go through node:http (fetch will not send a Host of our choosing) or a raw socket.
 */
import { spawnSync } from 'node:child_process';
import { type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { GATEWAY_MAIN, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';

const WEB_LINE = /^arbor-gateway web view on http:\/\/127\.0\.0\.1:(\d+)\/$/;
const API = '/arbor.v1.ArborService/';

/** A gateway with the web view on 127.0.0.1, and the web view's port once it printed it. */
async function webGateway(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ gateway: RunningGateway; port: number }> {
  const gateway = await startGateway(['--http-listen', '127.0.0.1:0', '--pool-size', '0', ...extra], env);
  await expect.poll(() => gateway.stdoutLines.some((line) => WEB_LINE.test(line)), { timeout: 10_000 }).toBe(true);
  const line = gateway.stdoutLines.find((l) => WEB_LINE.test(l)) as string;
  return { gateway, port: Number((WEB_LINE.exec(line) as RegExpExecArray)[1]) };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request to 127.0.0.1:`port` on a fresh connection, with exactly the headers given (Host included). */
function call(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A Connect unary call (JSON) with the Host and any other headers given. */
const api = (port: number, method: string, message: object, headers: Record<string, string>) =>
  call(port, 'POST', `${API}${method}`, { 'content-type': 'application/json', ...headers }, JSON.stringify(message));

/** Sends `bytes` on a raw connection and gives everything the server answered until it closed the connection. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    const timer = setTimeout(() => socket.destroy(new Error(`connection still open after 10 s; answer so far: ${JSON.stringify(answer)}`)), 10_000);
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    // A reset after the answer (the server closes with our bytes unread) still counts as the answer.
    socket.on('error', (error) => (answer === '' ? reject(error) : undefined));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

/** A port other than `port` (nothing listens there for these tests: it only has to differ). */
const otherPort = (port: number): number => (port === 65535 ? 1 : port + 1);

const nodeIds = async (gateway: RunningGateway): Promise<number[]> => (await rpc(gateway.client()).topology()).nodes.map((n) => n.id).sort((a, b) => a - b);

describe('web view: Host and Origin checks', () => {
  it('a request whose Host names another server gets 403 and creates nothing; each refused Host is logged once', async () => {
    const { gateway, port } = await webGateway();
    for (const host of [`evil.example:${port}`, `evil.example:${port}`, 'evil.example', `localhost:${otherPort(port)}`]) {
      const refused = await api(port, 'Create', { id: 7 }, { host });
      expect(refused.status, host).toBe(403);
      expect(refused.body).toContain('--http-allowed-hosts');
    }
    expect((await call(port, 'GET', '/', { host: `evil.example:${port}` })).status).toBe(403);
    expect((await api(port, 'Exec', { id: 7, name: 'X', value: '1' }, { host: `rebound.example:${port}` })).status).toBe(403);
    expect(await nodeIds(gateway)).toEqual([]);

    // The log names each refused Host once, however often it came (the last one's line shows the earlier ones are written).
    await expect.poll(() => gateway.stderr().includes(`"host":"rebound.example:${port}"`), { timeout: 5000 }).toBe(true);
    const lines = gateway.stderr().split('\n').filter((l) => l.includes(`"host":"evil.example:${port}"`));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--http-allowed-hosts');

    // This server's own names pass (the same request, so the refusals above were the Host's doing).
    for (const [id, host] of [[1, `127.0.0.1:${port}`], [2, `localhost:${port}`], [3, `[::1]:${port}`]] as const) {
      const created = await api(port, 'Create', { id }, { host });
      expect(created.status, `${host}: ${created.body}`).toBe(200);
    }
    expect(await nodeIds(gateway)).toEqual([1, 2, 3]);
  });

  it("a state-changing call from another origin is refused; the page's own origin, and none, pass", async () => {
    const { gateway, port } = await webGateway();
    const host = `127.0.0.1:${port}`;
    for (const origin of ['http://evil.example', `http://localhost:${port}`, `http://127.0.0.1:${otherPort(port)}`, `https://${host}`, 'null']) {
      const refused = await api(port, 'Create', { id: 5 }, { host, origin });
      expect(refused.status, origin).toBe(403);
      expect(refused.body).toContain('origin');
    }
    expect(await nodeIds(gateway)).toEqual([]);
    await expect.poll(() => gateway.stderr().includes('"origin":"null"'), { timeout: 5000 }).toBe(true);
    // A GET from a foreign page changes nothing, and is answered (links and images work cross-site).
    expect((await call(port, 'GET', '/', { host, origin: 'http://evil.example' })).status).toBe(200);
    expect((await api(port, 'Create', { id: 5 }, { host, origin: `http://${host}` })).status).toBe(200);
    expect((await api(port, 'Create', { id: 6 }, { host })).status).toBe(200);
    expect(await nodeIds(gateway)).toEqual([5, 6]);
  });

  it('--http-allowed-hosts and ARBOR_HTTP_ALLOWED_HOSTS add hosts; the flag wins; a bad list fails the start', async () => {
    const { gateway, port } = await webGateway(['--http-allowed-hosts', 'arbor.test,.lan.test'], { ARBOR_HTTP_ALLOWED_HOSTS: 'env.test' });
    expect((await api(port, 'Create', { id: 1 }, { host: `arbor.test:${port}`, origin: `http://arbor.test:${port}` })).status).toBe(200);
    expect((await api(port, 'Create', { id: 2 }, { host: 'box.lan.test' })).status).toBe(200);
    expect((await call(port, 'GET', '/', { host: `ARBOR.TEST:${port}` })).status).toBe(200);
    for (const host of [`env.test:${port}`, `evil.example:${port}`, `arbor.test.evil.example:${port}`]) {
      expect((await api(port, 'Create', { id: 9 }, { host })).status, host).toBe(403);
    }
    // Allowed as a Host does not make another origin's calls welcome.
    expect((await api(port, 'Create', { id: 9 }, { host: `arbor.test:${port}`, origin: `http://box.lan.test:${port}` })).status).toBe(403);
    expect(await nodeIds(gateway)).toEqual([1, 2]);

    const fromEnv = await webGateway([], { ARBOR_HTTP_ALLOWED_HOSTS: 'env.test' });
    expect((await api(fromEnv.port, 'Create', { id: 4 }, { host: `env.test:${fromEnv.port}` })).status).toBe(200);
    expect((await api(fromEnv.port, 'Create', { id: 8 }, { host: `arbor.test:${fromEnv.port}` })).status).toBe(403);
    expect(await nodeIds(fromEnv.gateway)).toEqual([4]);

    const bad = spawnSync(process.execPath, [GATEWAY_MAIN, '--http-listen', '127.0.0.1:0', '--http-allowed-hosts', 'evil.example/x'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('--http-allowed-hosts: evil.example/x is not a host name');
  });

  it("'all' turns the Host check off, and says so in the log", async () => {
    const { gateway, port } = await webGateway(['--http-allowed-hosts', 'all']);
    expect((await api(port, 'Create', { id: 3 }, { host: 'proxied.example' })).status).toBe(200);
    expect(await nodeIds(gateway)).toEqual([3]);
    await expect.poll(() => gateway.stderr().includes('Host check off'), { timeout: 5000 }).toBe(true);
  });
});

describe('web view: headers, malformed HTTP, token, methods', () => {
  it('every response forbids framing: CSP frame-ancestors and X-Frame-Options', async () => {
    const { port } = await webGateway();
    const host = `127.0.0.1:${port}`;
    const answers: [string, Answer][] = [
      ['page', await call(port, 'GET', '/', { host })],
      ['script', await call(port, 'GET', '/app.js', { host })],
      ['missing', await call(port, 'GET', '/missing', { host })],
      ['api', await api(port, 'Topology', {}, { host })],
      ['api error', await api(port, 'Ping', { id: 3 }, { host })],
      ['bad json', await call(port, 'POST', `${API}Ping`, { host, 'content-type': 'application/json' }, '{"id": ')],
      ['405', await call(port, 'GET', `${API}Topology`, { host })],
      ['foreign host', await call(port, 'GET', '/', { host: 'evil.example' })],
      ['foreign origin', await api(port, 'Create', { id: 1 }, { host, origin: 'http://evil.example' })],
    ];
    expect(answers.map(([what, a]) => [what, a.status])).toEqual([
      ['page', 200],
      ['script', 200],
      ['missing', 404],
      ['api', 200],
      ['api error', 404],
      ['bad json', 400],
      ['405', 405],
      ['foreign host', 403],
      ['foreign origin', 403],
    ]);
    for (const [what, answer] of answers) {
      expect(answer.headers['content-security-policy'], what).toBe("default-src 'self'; frame-ancestors 'none'");
      expect(answer.headers['x-frame-options'], what).toBe('DENY');
    }
  });

  it('a 20 KiB header gets 431 and a request line GARBAGE gets 400, each closing the connection; the gateway keeps serving', async () => {
    const { gateway, port } = await webGateway();
    const big = await raw(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    expect(big.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(big.toLowerCase()).toContain('\r\nconnection: close\r\n');
    const garbage = await raw(port, 'GARBAGE\r\n\r\n');
    expect(garbage.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(garbage.toLowerCase()).toContain('\r\nconnection: close\r\n');
    // A good request on a raw socket is answered as usual (so the two above were the input's doing).
    const good = await raw(port, `GET /favicon.svg HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(good.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect((await api(port, 'Topology', {}, { host: `127.0.0.1:${port}` })).status).toBe(200);
    expect(gateway.proc.exitCode).toBeNull();
  });

  it('takes the bearer scheme in any case (HTTP and gRPC alike), and answers the API 405 with Allow', async () => {
    const token = 'hardening-token';
    const { gateway, port } = await webGateway([], { ARBOR_TOKEN: token });
    const host = `127.0.0.1:${port}`;
    for (const [authorization, code] of [
      [`bearer ${token}`, 200],
      [`BEARER ${token}`, 200],
      [`Bearer ${token}`, 200],
      ['bearer wrong', 401],
      [token, 401],
    ] as const) {
      expect((await api(port, 'Topology', {}, { host, authorization })).status, authorization).toBe(code);
    }
    // The gRPC port agrees: a lower-case scheme gets through to the core (node 4 does not exist).
    const client = gateway.client();
    const metadata = new Metadata();
    metadata.set('authorization', `bearer ${token}`);
    await expect(
      new Promise((resolve, reject) => client.ping({ id: 4 }, metadata, (error, reply) => (error ? reject(error) : resolve(reply)))),
    ).rejects.toMatchObject({ code: status.NOT_FOUND });

    for (const method of ['GET', 'PUT', 'OPTIONS']) {
      const refused = await call(port, method, `${API}Create`, { host, authorization: `bearer ${token}` });
      expect(refused.status, method).toBe(405);
      expect(refused.headers.allow, method).toBe('POST');
    }
    const page = await call(port, 'DELETE', '/', { host });
    expect(page.status).toBe(405);
    expect(page.headers.allow).toBe('GET, HEAD');
    // An unknown API method is not found, whatever the HTTP method.
    expect((await call(port, 'GET', `${API}Nope`, { host })).status).toBe(404);
  });
});
