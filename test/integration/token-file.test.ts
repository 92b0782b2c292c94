/**
 * The bearer token from a file (`--token-file` / ARBOR_TOKEN_FILE, gateway/auth.ts `tokenFrom`):
 * required as ARBOR_TOKEN's is, never in the gateway's environment; a file others may read, an
 * empty one, or both sources at once stop the start with one line and exit 2.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { GATEWAY_MAIN, startGateway } from '../helpers/gateway.js';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-token-file-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function tokenFile(dir: string, content: string, mode: number): string {
  const path = join(dir, 'token');
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}

/** Runs a gateway that must refuse to start; its exit status and stderr. */
function refusedStart(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [GATEWAY_MAIN, '--listen', '127.0.0.1:0', '--pool-size', '0', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ARBOR_TOKEN: '', ...env },
  });
  return { status: r.status, stderr: r.stderr };
}

describe('the bearer token from a file', () => {
  it('is required as ARBOR_TOKEN is, and is not in the gateway environment', async () => {
    const file = tokenFile(tempDir(), 'f1le-token\n', 0o600);
    const gw = await startGateway(['--token-file', file]);
    const client = gw.client();
    const ping = (md: Metadata) => new Promise((resolve, reject) => client.ping({ id: 1 }, md, (e, r) => (e ? reject(e) : resolve(r))));
    await expect(ping(new Metadata())).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    const md = new Metadata();
    md.set('authorization', 'Bearer f1le-token'); // the trailing newline is not part of it
    await expect(ping(md)).rejects.toMatchObject({ code: status.NOT_FOUND }); // past the check: node 1 does not exist
    const environ = readFileSync(`/proc/${gw.proc.pid}/environ`, 'latin1');
    expect(environ).not.toContain('f1le-token');
  });

  it('refuses a file group or others may read, an empty file, and both sources at once: exit 2, one line', () => {
    const dir = tempDir();
    const open = tokenFile(dir, 'abc\n', 0o644);
    const readable = refusedStart(['--token-file', open]);
    expect(readable.status).toBe(2);
    expect(readable.stderr).toBe(`arbor-gateway: --token-file ${open}: group or others may read it (mode 644); chmod 600 it\n`);

    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n', { mode: 0o600 });
    expect(refusedStart([], { ARBOR_TOKEN_FILE: empty })).toEqual({ status: 2, stderr: `arbor-gateway: --token-file ${empty}: empty\n` });

    const good = join(dir, 'good');
    writeFileSync(good, 'x\n', { mode: 0o600 });
    expect(refusedStart(['--token-file', good], { ARBOR_TOKEN: 'y' })).toEqual({
      status: 2,
      stderr: 'arbor-gateway: ARBOR_TOKEN and --token-file (ARBOR_TOKEN_FILE) are both set: keep one\n',
    });
    const missing = refusedStart(['--token-file', join(dir, 'nope')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^arbor-gateway: --token-file .*nope: cannot open it \(ENOENT\)\n$/);
  });
});
