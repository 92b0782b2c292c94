/**
 * @module A real arbor-gateway process on an ephemeral port, as a user would run it, with a
 * promise-based client for the calls the benchmark makes.
 */
import { get } from 'node:http';
import type { Readable } from 'node:stream';
import { credentials } from '@grpc/grpc-js';
import {
  ArborServiceClient,
  type CreateResponse,
  type HeartbeatResponse,
  type RemoveResponse,
} from '../proto/gen/arbor/v1/arbor.js';
import { remember, spawnTracked, type Tracked } from './children.js';
import { GATEWAY_MAIN } from './paths.js';
import { unaryCall } from './unary-call.js';

export interface GatewayOptions {
  /** Gateway options (e.g. --data-dir). */
  args?: readonly string[];
  /** Node flags for the gateway process itself (e.g. --cpu-prof). */
  execArgv?: readonly string[];
  /** Extra environment (e.g. NODE_OPTIONS, which the computing processes get too: it is on the allow-list of lib/child-env.ts). */
  env?: Readonly<Record<string, string>>;
}

/**
 * This environment without ARBOR_* settings, so a gateway or CLI started here runs with its
 * defaults (no token, TLS, log level or limits the user happened to export).
 */
export function defaultsEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ARBOR_')));
  return { ...env, ...extra };
}

export class Gateway {
  private readonly clients: ArborServiceClient[] = [];

  private constructor(
    private readonly tracked: Tracked,
    readonly address: string,
    private readonly stderrText: () => string,
    private readonly laterLines: string[],
  ) {}

  static async start(options: GatewayOptions = {}): Promise<Gateway> {
    const tracked = spawnTracked(process.execPath, [...(options.execArgv ?? []), GATEWAY_MAIN, '--listen', '127.0.0.1:0', ...(options.args ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: defaultsEnv(options.env),
    });
    let err = '';
    tracked.proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      // Its latest lines: what explains a failure comes last.
      err = (err + chunk).slice(-40_000);
    });
    const ready = /^arbor-gateway listening on (\S+)$/;
    const later: string[] = [];
    try {
      const line = await tracked.supervised
        .firstLine(tracked.proc.stdout as Readable, {
          timeoutMs: 15_000,
          what: 'the gateway',
          isReady: (first) => ready.test(first),
          onLater: (next) => later.push(next),
        })
        .catch((error: unknown) => {
          throw new Error(`${(error as Error).message}; stderr: ${err}`);
        });
      return new Gateway(tracked, (ready.exec(line) as RegExpExecArray)[1] as string, () => err, later);
    } catch (error) {
      await tracked.stop('SIGKILL');
      throw error;
    }
  }

  /** The first later stdout line that `at` matches (its first group), waited for up to 5 s; `what` names it when it never comes. */
  private async laterLine(at: RegExp, what: string): Promise<string> {
    let line: string | undefined;
    for (const until = Date.now() + 5000; line === undefined && Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
      line = this.laterLines.find((l) => at.test(l));
    }
    if (line === undefined) throw new Error(what);
    return (at.exec(line) as RegExpExecArray)[1] as string;
  }

  /**
   * A gauge from /metrics (the gateway started with `--metrics-listen 127.0.0.1:0`), e.g.
   * `arbor_spare_processes`; waits for the metrics line on stdout.
   */
  async gauge(name: string): Promise<number> {
    const address = await this.laterLine(/^arbor-gateway metrics on (\S+)$/, 'the gateway serves no metrics (start it with --metrics-listen)');
    const text = await new Promise<string>((resolve, reject) => {
      get(`http://${address}/metrics`, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
    if (value === undefined) throw new Error(`no ${name} in /metrics`);
    return Number(value);
  }

  /** The web view's URL (the gateway started with `--http-listen 127.0.0.1:0`); waits for its line on stdout. */
  webUrl(): Promise<string> {
    return this.laterLine(/^arbor-gateway web view on (\S+)$/, 'the gateway serves no web view (start it with --http-listen)');
  }

  /** Where agents join (the gateway started with `--cluster-listen IP:0`); waits for its line on stdout. */
  clusterAddress(): Promise<string> {
    return this.laterLine(/^arbor-gateway cluster on (\S+)$/, 'the gateway takes no agents (start it with --cluster-listen)');
  }

  get pid(): number {
    return this.tracked.pid;
  }

  /** What the gateway wrote on stderr so far (its last 40,000 characters). */
  get stderr(): string {
    return this.stderrText();
  }

  /** A new client (its own HTTP/2 connection); closed when the gateway is stopped. */
  client(): ArborServiceClient {
    const client = new ArborServiceClient(this.address, credentials.createInsecure());
    this.clients.push(client);
    return client;
  }

  /** The computing processes (the gateway's children), remembered for cleanup. */
  nodePids(): number[] {
    return remember(this.pid);
  }

  /** SIGTERM: the gateway stops its nodes and exits; stragglers are killed. */
  async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    await this.tracked.stop('SIGTERM', 10_000);
  }
}

export function create(client: ArborServiceClient, id: number): Promise<CreateResponse> {
  return unaryCall<CreateResponse>((cb) => client.create({ id, parent: undefined }, cb));
}

export function remove(client: ArborServiceClient, id: number): Promise<RemoveResponse> {
  return unaryCall<RemoveResponse>((cb) => client.remove({ id }, cb));
}

export function heartbeat(client: ArborServiceClient, intervalMs: number): Promise<HeartbeatResponse> {
  return unaryCall<HeartbeatResponse>((cb) => client.heartbeat({ intervalMs }, cb));
}
