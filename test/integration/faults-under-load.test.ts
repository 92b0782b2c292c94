/**
 * Faults under load, with `--restart never` (a killed node stays down): 16 clients send mixed
 * commands while computing processes are killed at random. The gateway never crashes, every
 * call ends with a result or UNAVAILABLE within its deadline (none hangs), afterwards
 * nothing is left pending, and exactly the nodes below no killed node still answer.
 * (With restarts on, the storm and its history check are in self-healing-storm.test.ts.)
 */
import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it, vi } from 'vitest';
import type { ArborServiceClient, TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { startGateway } from '../helpers/gateway.js';
import { isAlive } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';

const CLIENTS = 16;
/** How long the killer waits at most for the calls that pace it (a bound, not a duration). */
const DURATION_MS = 8000;
const DEADLINE_MS = 5000;
// A create waits for a process start: 48 of them at once on 2 cores, with other test files
// loading the machine, can take seconds each. That is capacity, not the fault handling under
// test; its deadline only catches a create that hangs.
const CREATE_DEADLINE_MS = 30_000;

const deadlineOf = (method: string): number => (method === 'create' ? CREATE_DEADLINE_MS : DEADLINE_MS);

type Outcome = { code: number; ms: number; what: string; method: string };

function call(client: ArborServiceClient, method: 'exec' | 'ping' | 'create', req: object): Promise<Outcome> {
  const began = performance.now();
  return new Promise((resolve) => {
    const what = `${method} ${JSON.stringify(req, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`;
    const done = (error: { code: number } | null) => resolve({ code: error ? error.code : status.OK, ms: performance.now() - began, what, method });
    const fn = client[method].bind(client) as (r: object, m: Metadata, o: object, cb: (e: { code: number } | null) => void) => void;
    fn(req, new Metadata(), { deadline: Date.now() + deadlineOf(method) }, done);
  });
}

describe('faults under load', () => {
  it('16 clients, random SIGKILLs: every call answered in time, nothing leaks', { timeout: 60_000 }, async () => {
    const gw = await startGateway(['--metrics-listen', '127.0.0.1:0', '--restart', 'never']);
    const api = rpc(gw.client());
    const ids = Array.from({ length: 31 }, (_, i) => ((i * 37) % 31) * 10 + 5); // a scrambled order: a bushy tree
    const pids = new Map<number, number>();
    for (const id of ids) pids.set(id, (await api.create({ id })).pid);
    await api.heartbeat({ intervalMs: 100 });

    const outcomes: Outcome[] = [];
    // The load runs until the killer is done and some more (not for a fixed time).
    let stop = false;
    const worker = async (n: number): Promise<void> => {
      const client = gw.client();
      let i = 0;
      while (!stop) {
        const id = ids[(n * 7 + i) % ids.length] as number;
        const pick = i % 4;
        const outcome =
          pick === 0
            ? await call(client, 'exec', { id, name: `k${n}`, value: BigInt(i) })
            : pick === 1
              ? await call(client, 'exec', { id, name: `k${n}` })
              : pick === 2
                ? await call(client, 'ping', { id })
                : i < 12
                  ? await call(client, 'create', { id: 1000 + n * 1000 + i })
                  : await call(client, 'ping', { id });
        outcomes.push(outcome);
        i++;
      }
    };
    const killed = new Set<number>();
    const killer = async (): Promise<void> => {
      for (let k = 0; k < 12; k++) {
        // Paced by the work done, not by the clock: a kill after every few dozen answered calls.
        const answered = outcomes.length;
        await vi.waitFor(() => expect(outcomes.length).toBeGreaterThanOrEqual(answered + 25), { timeout: DURATION_MS, interval: 10 });
        // Never the root as it is now (the creates rotate the tree, so it may move), so that some
        // nodes must still answer at the end.
        const { root } = await api.topology();
        const candidates = ids.filter((id) => id !== root && !killed.has(id));
        const id = candidates[Math.floor(Math.random() * candidates.length)] as number;
        process.kill(pids.get(id)!, 'SIGKILL');
        killed.add(id);
      }
      // Calls after the last kill, too.
      const answered = outcomes.length;
      await vi.waitFor(() => expect(outcomes.length).toBeGreaterThanOrEqual(answered + 100), { timeout: DURATION_MS, interval: 10 });
    };
    const workers = Array.from({ length: CLIENTS }, (_, n) => worker(n));
    await killer().finally(() => (stop = true));
    await Promise.all(workers);

    expect(isAlive(gw.pid)).toBe(true);
    expect(outcomes.length).toBeGreaterThan(CLIENTS * 10);
    const codes = new Set(outcomes.map((o) => o.code));
    const unexpected = outcomes.filter((o) => ![status.OK, status.UNAVAILABLE, status.RESOURCE_EXHAUSTED].includes(o.code));
    expect(unexpected, 'calls that ended otherwise than OK, UNAVAILABLE or RESOURCE_EXHAUSTED').toEqual([]);
    expect(codes.has(status.OK)).toBe(true);
    expect(codes.has(status.UNAVAILABLE)).toBe(true);
    // Nobody waited for the client deadline: failures came from the gateway, fast.
    expect(outcomes.filter((o) => o.ms >= deadlineOf(o.method)), 'calls that waited for the client deadline').toEqual([]);

    const metricsAddress = /metrics on (\S+)/.exec(gw.stdoutLines.join('\n'))?.[1] as string;
    const scrape = async () => (await fetch(`http://${metricsAddress}/metrics`)).text();
    await expect.poll(async () => /^arbor_pending_node_requests 0$/m.test(await scrape()), { message: 'no request pending in the tree', timeout: 5000, interval: 20 }).toBe(true);
    const text = await scrape();
    for (const line of text.split('\n').filter((l) => l.startsWith('arbor_in_flight_commands{'))) expect(line).toMatch(/ 0$/);
    // After the storm: a node answers exactly when neither it nor any node above it was killed.
    const topology = await new Promise<TopologyResponse>((resolve, reject) =>
      gw.client().topology({}, (error, res) => (error ? reject(error) : resolve(res))),
    );
    const parentOf = new Map(topology.nodes.map((n) => [n.id, n.parent]));
    const cutOff = (id: number): boolean => {
      for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) if (killed.has(at)) return true;
      return false;
    };
    expect(killed.size).toBe(12);
    for (const id of ids) expect(await api.ping({ id })).toEqual({ id, available: !cutOff(id) });
    // The root may be one of the created nodes by now: count every node of the tree.
    expect(topology.nodes.filter((n) => !cutOff(n.id)).length).toBeGreaterThan(0);
  });
});
