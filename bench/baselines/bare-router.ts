/**
 * @module The ROUTER that bare processes (bare-zmq-node.ts) connect to: resolves a waiter when
 * a process's first message (its pid) arrives, and counts everything else it receives. It can
 * also move: a new ROUTER takes its path and the old one closes, so every process reconnects at
 * once, as arbor's nodes do when the control's liveness listener changes (control/liveness.ts).
 */
import { renameSync, rmSync } from 'node:fs';
import { Router } from 'zeromq';
import { spawnTracked, type Tracked } from '../children.js';
import { BENCH_DIST, ipcEndpoint } from '../paths.js';

/** ROUTER_NOTIFY (a libzmq draft option zeromq.js has no name for). */
const ZMQ_ROUTER_NOTIFY = 97;

export class BareRouter {
  /** Messages received that were not a first message. */
  received = 0;
  private readonly waiting = new Map<string, () => void>();
  private reading: Promise<void>;

  private constructor(
    private router: Router,
    readonly endpoint: string,
    private readonly file: string,
  ) {
    this.reading = this.read();
  }

  static async bind(name: string): Promise<BareRouter> {
    const { endpoint, file } = ipcEndpoint(name);
    const router = new Router({ linger: 0 });
    await router.bind(endpoint);
    return new BareRouter(router, endpoint, file);
  }

  /** Spawns a bare process (sending every `intervalMs` when given) and waits for its first message. */
  async start(intervalMs?: number): Promise<Tracked> {
    const args = [`${BENCH_DIST}baselines/bare-zmq-node.js`, this.endpoint, ...(intervalMs === undefined ? [] : [String(intervalMs)])];
    const child = spawnTracked(process.execPath, args, { stdio: ['pipe', 'ignore', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('a bare node sent nothing within 15 s')), 15_000);
        void child.exited.then((code) => reject(new Error(`a bare node exited with ${code}`)));
        this.waiting.set(String(child.pid), () => {
          clearTimeout(timer);
          resolve();
        });
      });
    } catch (error) {
      await child.stop('SIGKILL');
      throw error;
    }
    return child;
  }

  /**
   * A new ROUTER takes this one's path (bound beside it, then renamed over it) and this one
   * closes: resolves with the ms from the close until `processes` have connected to the new one.
   */
  async move(processes: number, timeoutMs: number): Promise<number> {
    const next = new Router({ linger: 0, backlog: 1024 });
    // ROUTER_NOTIFY (connects only): an empty message per connection.
    (next as unknown as { setInt32Option(option: number, value: number): void }).setInt32Option(ZMQ_ROUTER_NOTIFY, 1);
    await next.bind(`ipc://${this.file}.next`);
    renameSync(`${this.file}.next`, this.file);
    const before = this.router;
    const reading = this.reading;
    let connected = 0;
    let all: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (all = resolve));
    this.router = next;
    this.reading = this.read(() => {
      if (++connected === processes) all();
    });
    const start = performance.now();
    before.close();
    await reading.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        arrived,
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${connected} of ${processes} bare processes reconnected within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
    return performance.now() - start;
  }

  async close(): Promise<void> {
    this.router.close();
    await this.reading.catch(() => undefined);
    rmSync(this.file, { force: true });
  }

  private async read(onConnect?: () => void): Promise<void> {
    for await (const [, body] of this.router) {
      if (onConnect !== undefined && body?.length === 0) {
        onConnect();
        continue;
      }
      const waiter = body === undefined || body.length > 10 ? undefined : this.waiting.get(body.toString());
      if (waiter === undefined) {
        this.received++;
        continue;
      }
      this.waiting.delete(body?.toString() ?? '');
      waiter();
    }
  }
}
