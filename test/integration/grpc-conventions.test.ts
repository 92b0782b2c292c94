/**
 * What a grpcurl user and an operator expect: reflection that strict clients accept, the
 * standard health service, the Topology RPC and Prometheus metrics.
 */
import { type ClientReadableStream, credentials, loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { describe, expect, it } from 'vitest';
import { bufCurl } from '../helpers/buf-curl.js';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';

describe('gRPC conventions', () => {
  it('reflection serves real descriptors: a strict client lists, describes and calls every service', async () => {
    const gw = await startGateway();
    const base = `http://${gw.address}`;
    const services = await bufCurl(['--list-services', base]);
    expect(services.stderr).toBe('');
    expect(services.stdout.trim().split('\n').sort()).toEqual(['arbor.v1.ArborService', 'grpc.health.v1.Health']);
    const methods = await bufCurl(['--list-methods', base]);
    for (const rpcName of ['Create', 'Exec', 'Ping', 'Heartbeat', 'Session', 'Watch', 'Topology']) {
      expect(methods.stdout).toContain(`arbor.v1.ArborService/${rpcName}`);
    }
    expect(methods.stdout).toContain('grpc.health.v1.Health/Check');

    // Calls made only through reflection, with JSON.
    const created = await bufCurl(['-d', '{"id": 8}', `${base}/arbor.v1.ArborService/Create`]);
    expect(JSON.parse(created.stdout)).toMatchObject({ id: 8, pid: expect.any(Number) as unknown });
    const stored = await bufCurl(['-d', '{"id": 8, "name": "X", "value": "-9223372036854775808"}', `${base}/arbor.v1.ArborService/Exec`]);
    expect(JSON.parse(stored.stdout)).toEqual({ id: 8, name: 'X', found: true, value: '-9223372036854775808' });
    const missing = await bufCurl(['-d', '{"id": 21}', `${base}/arbor.v1.ArborService/Ping`]);
    expect(missing.code).not.toBe(0);
    expect(missing.stdout + missing.stderr).toContain("Node with id 21 doesn't exist");
    const health = await bufCurl([`${base}/grpc.health.v1.Health/Check`]);
    expect(JSON.parse(health.stdout)).toEqual({ status: 'SERVING' });
  });

  it('health turns NOT_SERVING when the gateway starts shutting down', async () => {
    const gw = await startGateway();
    const Health = loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
      grpc: { health: { v1: { Health: ServiceClientConstructor } } };
    };
    const client = new Health.grpc.health.v1.Health(gw.address, credentials.createInsecure());
    const seen: string[] = [];
    const stream = (client.Watch as (req: object) => ClientReadableStream<{ status: string }>)({ service: 'arbor.v1.ArborService' });
    stream.on('data', (res: { status: string }) => seen.push(res.status));
    stream.on('error', () => undefined);
    await expect.poll(() => seen.includes('SERVING'), { message: 'SERVING', timeout: 5000, interval: 20 }).toBe(true);
    gw.proc.kill('SIGTERM');
    await expect.poll(() => seen.includes('NOT_SERVING'), { message: 'NOT_SERVING', timeout: 5000, interval: 20 }).toBe(true);
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
    stream.cancel();
    client.close();
  });

  it('Topology lists every node with links, pid, depth and availability, also after a death', async () => {
    const gw = await startGateway(['--restart', 'never']);
    const api = rpc(gw.client());
    const pids: Record<number, number> = {};
    for (const id of [8, 11, 6, 13, 9]) pids[id] = (await api.create({ id })).pid;
    await api.heartbeat({ intervalMs: 1000 });
    const topology = () =>
      new Promise<{ nodes: { id: number; available: boolean; state: number }[] }>((resolve, reject) =>
        gw.client().topology({}, (error, res) => (error ? reject(error) : resolve(res))),
      );
    const before = await topology();
    expect(before).toEqual({
      root: 8,
      heartbeatIntervalMs: 1000,
      balanced: true,
      depthBound: 2,
      nodes: [
        { id: 8, parent: undefined, left: 6, right: 11, pid: pids[8], depth: 0, available: true, state: 2, restarts: 0, keys: 0, reason: '', host: 'local', readOnly: '' },
        { id: 6, parent: 8, left: undefined, right: undefined, pid: pids[6], depth: 1, available: true, state: 2, restarts: 0, keys: 0, reason: '', host: 'local', readOnly: '' },
        { id: 11, parent: 8, left: 9, right: 13, pid: pids[11], depth: 1, available: true, state: 2, restarts: 0, keys: 0, reason: '', host: 'local', readOnly: '' },
        { id: 9, parent: 11, left: undefined, right: undefined, pid: pids[9], depth: 2, available: true, state: 2, restarts: 0, keys: 0, reason: '', host: 'local', readOnly: '' },
        { id: 13, parent: 11, left: undefined, right: undefined, pid: pids[13], depth: 2, available: true, state: 2, restarts: 0, keys: 0, reason: '', host: 'local', readOnly: '' },
      ],
    });
    process.kill(pids[11]!, 'SIGKILL');
    await expect.poll(async () => (await topology()).nodes.find((n) => n.id === 11)?.state === 3, { message: 'node 11 exited in the topology', timeout: 5000, interval: 20 }).toBe(true);
    const after = await topology();
    expect(after.nodes.map((n) => [n.id, n.available])).toEqual([
      [8, true],
      [6, true],
      [11, false],
      [9, false],
      [13, false],
    ]);
  });

  it('serves Prometheus metrics on --metrics-listen', async () => {
    const gw = await startGateway(['--metrics-listen', '127.0.0.1:0', '--restart', 'never']);
    const metricsLine = await waitForLine(gw.stdoutLines, /^arbor-gateway metrics on (\S+)$/);
    const api = rpc(gw.client());
    const { pid } = await api.create({ id: 5 });
    await api.create({ id: 7 });
    await api.exec({ id: 5, name: 'a', value: 1n });
    await expect(api.exec({ id: 99, name: 'a' })).rejects.toMatchObject({ code: 5 });
    process.kill(pid, 'SIGKILL');
    const scrape = async () => (await fetch(`http://${metricsLine}/metrics`)).text();
    await expect.poll(async () => (await scrape()).includes('arbor_process_exits_total{how="SIGKILL"} 1'), { message: 'exit counted', timeout: 5000, interval: 20 }).toBe(true);
    const text = await scrape();
    expect(text).toContain('arbor_calls_total{rpc="Create",code="OK"} 2');
    expect(text).toContain('arbor_calls_total{rpc="Exec",code="OK"} 1');
    expect(text).toContain('arbor_calls_total{rpc="Exec",code="NOT_FOUND"} 1');
    expect(text).toMatch(/arbor_call_duration_seconds_count\{rpc="Exec"\} 2/);
    expect(text).toContain('arbor_nodes{state="exited",available="false"} 1');
    expect(text).toContain('arbor_nodes{state="running",available="false"} 1'); // 7 hangs below the dead root
    expect(text).toContain('arbor_in_flight_commands{rpc="Exec"} 0');
    expect((await fetch(`http://${metricsLine}/other`)).status).toBe(404);
  });
});

async function waitForLine(lines: string[], pattern: RegExp): Promise<string> {
  await expect.poll(() => lines.some((l) => pattern.test(l)), { message: `stdout line ${pattern}`, timeout: 5000, interval: 20 }).toBe(true);
  return (pattern.exec(lines.find((l) => pattern.test(l)) as string) as RegExpExecArray)[1] as string;
}
