/**
 * @module The ROUTER that bare processes (bare-zmq-node.ts) connect to: resolves a waiter when
 * a process's first message (its pid) arrives, and counts everything else it receives.
 */
import { rmSync } from 'node:fs';
import { Router } from 'zeromq';
import { spawnTracked, type Tracked } from '../children.js';
import { BENCH_DIST, ipcEndpoint } from '../paths.js';

export class BareRouter {
  /** Messages received that were not a first message. */
  received = 0;
  private readonly waiting = new Map<string, () => void>();
  private readonly reading: Promise<void>;

  private constructor(
    private readonly router: Router,
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

  async close(): Promise<void> {
    this.router.close();
    await this.reading.catch(() => undefined);
    rmSync(this.file, { force: true });
  }

  private async read(): Promise<void> {
    for await (const [, body] of this.router) {
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
