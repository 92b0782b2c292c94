/**
 * @module Prometheus metrics of the gateway (prom-client), served on an opt-in HTTP address
 * (`--metrics-listen`; only then is this module loaded).
 */
import { createServer, type Server } from 'node:http';
import { status as grpcStatus } from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Control } from '../control/index.js';
import { packageVersion } from '../lib/version.js';
import type { CallMetrics } from './call-metrics.js';
import { splitHostPort } from './address.js';

const CODE_NAMES = Object.fromEntries(Object.entries(grpcStatus).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

/** Seconds, from 100 µs up: a command's time in the gateway, and its time in the tree. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Depths from here on share one `depth` label (`32+`), so that an unbalanced tree (`--balance
 * off`, ids created in order) cannot make a label value per node. An AVL tree of the most nodes
 * --max-nodes allows is never that deep (test/unit/depth-label.test.ts), so with `--balance avl`
 * every depth keeps its own label.
 */
export const DEEPEST_DEPTH_LABEL = 32;

/** The `depth` label of a node at `depth` edges below the root. */
export function depthLabel(depth: number): string {
  return depth < DEEPEST_DEPTH_LABEL ? String(depth) : `${DEEPEST_DEPTH_LABEL}+`;
}

export class Metrics implements CallMetrics {
  readonly registry = new Registry();
  private readonly calls = new Counter({
    name: 'arbor_calls_total',
    help: 'Commands answered, by RPC (Session commands as Session/<command>) and gRPC status code.',
    labelNames: ['rpc', 'code'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'arbor_call_duration_seconds',
    help: 'Time from receiving a command to answering it, by RPC.',
    labelNames: ['rpc'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly treeTime = new Histogram({
    name: 'arbor_tree_command_duration_seconds',
    help: "Time a command's request spent in the tree, from sent by the gateway to answered, by the depth of its node (root 0).",
    labelNames: ['depth'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  /** treeTime's children by depth (DEEPEST_DEPTH_LABEL: the deeper ones). */
  private readonly treeTimeAt: Histogram.Internal<'depth'>[] = [];
  /** Per RPC: commands received and not yet answered (read at scrape time, not on the hot path). */
  private readonly open = new Map<string, number>();
  /** Label lookups hash their labels; the hot path keeps the resolved children instead. */
  private readonly children = new Map<string, { calls: Counter.Internal; latency: Histogram.Internal<"rpc"> }>();
  private readonly heartbeatMisses = new Counter({
    name: 'arbor_heartbeat_misses_total',
    help: 'Nodes found silent for 4 x the heartbeat interval.',
    registers: [this.registry],
  });
  private readonly exits = new Counter({
    name: 'arbor_process_exits_total',
    help: 'Computing processes that exited while part of the tree, by how (signal name or exit code).',
    labelNames: ['how'] as const,
    registers: [this.registry],
  });

  constructor(control: Control) {
    // Process and Node.js runtime metrics: memory, heap, GC, event-loop lag, handles.
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'arbor_build_info',
      help: 'Always 1: the arbor version (version) and the Node.js version (node) the gateway runs.',
      labelNames: ['version', 'node'] as const,
      registers: [this.registry],
    }).set({ version: packageVersion(), node: process.version }, 1);
    new Counter({
      name: 'arbor_node_restarts_total',
      help: 'Processes started for a node after its first (restarts in place), by node id, for the nodes in the tree now.',
      labelNames: ['node'] as const,
      registers: [this.registry],
      collect() {
        // The control owns the count (topology); a removed node's series goes with it.
        this.reset();
        for (const node of control.topology().nodes) this.inc({ node: String(node.id) }, node.restarts);
      },
    });
    const open = this.open;
    new Gauge({
      name: 'arbor_in_flight_commands',
      help: 'Commands received and not yet answered, by RPC.',
      labelNames: ['rpc'] as const,
      registers: [this.registry],
      collect() {
        for (const [rpc, count] of open) this.set({ rpc }, count);
      },
    });
    new Gauge({
      name: 'arbor_nodes',
      help: 'Nodes in the tree, by lifecycle state and availability.',
      labelNames: ['state', 'available'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const node of control.topology().nodes) this.inc({ state: node.state, available: String(node.available) });
      },
    });
    new Gauge({
      name: 'arbor_pending_node_requests',
      help: 'Requests sent into the tree and not yet answered (their deadlines share one timer).',
      registers: [this.registry],
      collect() {
        this.set(control.inFlight);
      },
    });
    new Gauge({
      name: 'arbor_heartbeat_interval_seconds',
      help: 'The heartbeat interval in force (0: off).',
      registers: [this.registry],
      collect() {
        this.set(control.heartbeatInterval / 1000);
      },
    });
    new Gauge({
      name: 'arbor_spare_processes',
      help: 'Computing processes started ahead and waiting to be claimed by a create or restart (--pool-size).',
      registers: [this.registry],
      collect() {
        this.set(control.spareProcesses);
      },
    });
    control.subscribe((event) => {
      if (event.kind === 'unavailable' && event.cause === 'silence') this.heartbeatMisses.inc();
      if (event.kind === 'exited') this.exits.inc({ how: event.signal ?? `code ${event.exitCode ?? '?'}` });
    });
    control.observeTreeTimes((depth, seconds) => this.treeTimeAtDepth(depth).observe(seconds));
  }

  private treeTimeAtDepth(depth: number): Histogram.Internal<'depth'> {
    const at = Math.min(depth, DEEPEST_DEPTH_LABEL);
    return (this.treeTimeAt[at] ??= this.treeTime.labels(depthLabel(at)));
  }

  /** Call when a command arrives; call the returned function with its status code when answered. */
  start(rpc: string): (code: number) => void {
    const began = performance.now();
    this.open.set(rpc, (this.open.get(rpc) ?? 0) + 1);
    return (code) => {
      this.open.set(rpc, (this.open.get(rpc) ?? 1) - 1);
      const child = this.child(rpc, code);
      child.calls.inc();
      child.latency.observe((performance.now() - began) / 1000);
    };
  }

  private child(rpc: string, code: number): { calls: Counter.Internal; latency: Histogram.Internal<"rpc"> } {
    const key = `${rpc} ${code}`;
    let child = this.children.get(key);
    if (child === undefined) {
      child = { calls: this.calls.labels(rpc, CODE_NAMES[code] ?? String(code)), latency: this.latency.labels(rpc) };
      this.children.set(key, child);
    }
    return child;
  }
}

/** Serves `GET /metrics` on `address` ("host:port"); resolves with the bound port. */
export async function serveMetrics(metrics: Metrics, address: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  const { bare, port } = splitHostPort(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bare, () => resolve());
  });
  const bound = server.address();
  return { server, port: typeof bound === 'object' && bound !== null ? bound.port : port };
}
