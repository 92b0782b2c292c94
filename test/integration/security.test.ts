/**
 * Security and bounds at the gRPC boundary: optional TLS, optional bearer token, the node
 * limit, and the message size limit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ArborServiceClient } from '../../proto/gen/arbor/v1/arbor.js';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';

function selfSignedCert(): { dir: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-tls-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { dir, cert, key };
}

describe('security', () => {
  it('serves TLS with --tls-cert/--tls-key; a plaintext client cannot talk to it', async () => {
    const { cert, key } = selfSignedCert();
    const gw = await startGateway(['--tls-cert', cert, '--tls-key', key]);
    const tls = new ArborServiceClient(gw.address, credentials.createSsl(readFileSync(cert)));
    onTestFinished(() => tls.close());
    expect(await rpc(tls).create({ id: 3 })).toMatchObject({ id: 3 });
    const plain = rpc(gw.client());
    await expect(plain.ping({ id: 3 })).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });

  it('warns when it listens beyond loopback without TLS, and not on loopback', async () => {
    const open = await startGateway(['--listen', '0.0.0.0:0']);
    await expect.poll(() => open.stderr().includes('listening beyond this machine without TLS'), { message: 'the warning', timeout: 5000, interval: 20 }).toBe(true);
    await open.stop();
    const local = await startGateway();
    await rpc(local.client()).create({ id: 1 }); // by now the gateway has logged its start
    expect(local.stderr()).not.toContain('without TLS');
  });

  it('with ARBOR_TOKEN set, calls without the bearer token get UNAUTHENTICATED', async () => {
    const gw = await startGateway([], { ARBOR_TOKEN: 's3cret-token' });
    const client = gw.client();
    const withToken = (token: string) => {
      const md = new Metadata();
      md.set('authorization', `Bearer ${token}`);
      return md;
    };
    const ping = (md: Metadata) =>
      new Promise((resolve, reject) => client.ping({ id: 1 }, md, (e, r) => (e ? reject(e) : resolve(r))));
    await expect(ping(new Metadata())).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    await expect(ping(withToken('wrong'))).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    // The right token passes the check: the call reaches the core (node 1 does not exist).
    await expect(ping(withToken('s3cret-token'))).rejects.toMatchObject({ code: status.NOT_FOUND });
    // The scheme's name is case-insensitive (RFC 7235 section 2.1); the token is not.
    for (const scheme of ['bearer', 'BEARER']) {
      const md = new Metadata();
      md.set('authorization', `${scheme} s3cret-token`);
      await expect(ping(md)).rejects.toMatchObject({ code: status.NOT_FOUND });
    }
    const upper = new Metadata();
    upper.set('authorization', 'bearer S3CRET-TOKEN');
    await expect(ping(upper)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('refuses creates beyond --max-nodes with RESOURCE_EXHAUSTED', async () => {
    const gw = await startGateway(['--max-nodes', '2']);
    const api = rpc(gw.client());
    await api.create({ id: 1 });
    await api.create({ id: 2 });
    await expect(api.create({ id: 3 })).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: 'node limit reached: the tree holds 2 nodes (gateway option --max-nodes)',
    });
  });

  it('refuses an oversized request and keeps serving', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    await api.create({ id: 1 });
    await expect(api.exec({ id: 1, name: 'x'.repeat(600_000) })).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(await api.exec({ id: 1, name: 'x', value: 1n })).toMatchObject({ found: true });
  });
});
