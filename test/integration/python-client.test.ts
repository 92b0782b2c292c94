/**
 * A Python client generated from `proto/` alone (as docs/api.md's "From another language" shows)
 * calls Keys and Delete on a real gateway. It needs protoc with the gRPC Python plugin and a
 * Python with grpcio and protobuf: with grpcio-tools (`python3 -m grpc_tools.protoc`), or
 * Debian's protobuf-compiler, protobuf-compiler-grpc, python3-grpcio and python3-protobuf
 * (which .ci/run installs when they are missing). Without them the test is skipped, saying why.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { REPO, startGateway } from '../helpers/gateway.js';

const ok = (command: string, args: string[]): boolean => spawnSync(command, args, { encoding: 'utf8' }).status === 0;

/** A Python that imports grpc and protobuf, and how to run protoc for it; or why there is none. */
function pythonTools(): { python: string; protoc: (out: string) => [string, string[]] } | string {
  const pythons = ['python3', '/usr/bin/python3'].filter((p) => ok(p, ['-c', 'import grpc, google.protobuf']));
  const python = pythons[0];
  if (python === undefined) return 'no python3 with grpcio and protobuf (pip install grpcio-tools, or apt-get install python3-grpcio python3-protobuf)';
  const args = (out: string): string[] => ['-Iproto', `--python_out=${out}`, `--grpc_python_out=${out}`, 'proto/arbor/v1/arbor.proto'];
  if (ok(python, ['-c', 'import grpc_tools.protoc'])) return { python, protoc: (out) => [python, ['-m', 'grpc_tools.protoc', ...args(out)]] };
  const plugin = spawnSync('sh', ['-c', 'command -v grpc_python_plugin'], { encoding: 'utf8' }).stdout.trim();
  if (!ok('protoc', ['--version']) || plugin === '') return 'no protoc with the gRPC Python plugin (pip install grpcio-tools, or apt-get install protobuf-compiler protobuf-compiler-grpc)';
  return { python, protoc: (out) => ['protoc', [`--plugin=protoc-gen-grpc_python=${plugin}`, ...args(out)]] };
}

const tools = pythonTools();

describe('a Python client generated from proto/', () => {
  it.skipIf(typeof tools === 'string')(`calls Keys and Delete${typeof tools === 'string' ? ` (skipped: ${tools})` : ''}`, { timeout: 60_000 }, async () => {
    const { python, protoc } = tools as Exclude<typeof tools, string>;
    const out = mkdtempSync(join(tmpdir(), 'arbor-py-'));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    const [command, args] = protoc(out);
    const generated = spawnSync(command, args, { cwd: REPO, encoding: 'utf8' });
    expect(generated.stderr).toBe('');
    expect(generated.status).toBe(0);

    const gw = await startGateway();
    const run = spawnSync(python, [join(REPO, 'test/python/keys_delete.py'), gw.address], {
      encoding: 'utf8',
      timeout: 45_000,
      env: { ...process.env, PYTHONPATH: out, PYTHONDONTWRITEBYTECODE: '1' },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      { pages: [[['a', '-1'], ['b', '2']], [['c', '9223372036854775807']]] },
      { deleted: [true, false] },
      { left: ['b', 'c'] },
      { missing: 'NOT_FOUND' },
    ]);
  });
});
