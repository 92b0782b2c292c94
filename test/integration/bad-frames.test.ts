/**
 * The ZeroMQ boundary: a raw socket connects to a computing node's endpoint and to the
 * control's, and sends garbage of every kind. Both drop it, log it once per kind (the node's
 * line reaches the gateway log with its id), and keep serving.
 */
import { dirname } from 'node:path';
import { Dealer } from 'zeromq';
import { describe, expect, it, onTestFinished } from 'vitest';
import { encode, HEADER_BYTES } from '../../link/index.js';
import { startGateway } from '../helpers/gateway.js';
import { isAlive, listenEndpointOf } from '../helpers/processes.js';
import { rpc } from '../helpers/rpc.js';


function garbage(): (Buffer | Buffer[])[] {
  const unknownKind = Buffer.from(encode({ kind: 'ping', corr: 1, node: 8 }));
  unknownKind[2] = 250;
  const badLength = Buffer.alloc(HEADER_BYTES);
  badLength.writeUInt16LE(5, 0);
  return [
    Buffer.from('hello, this is not a frame'), // truncated / bad length
    [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')], // wrong frame count
    unknownKind,
    badLength,
    encode({ kind: 'value', corr: 77, node: 8, found: true, added: false, value: 1n }), // a reply from a stranger
    Buffer.alloc(0),
  ];
}

async function attack(endpoint: string, routingId: string): Promise<void> {
  const raw = new Dealer({ routingId, linger: 0 });
  onTestFinished(() => raw.close());
  raw.connect(endpoint);
  for (const message of garbage()) await raw.send(message);
  // Oversized: libzmq cuts the connection before any of it reaches the program.
  await raw.send(Buffer.alloc(1024 * 1024, 7));
}

describe('bad frames on the ZeroMQ links', () => {
  it('a computing node drops garbage from a stranger, logs it with its id, and keeps serving', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    const root = await api.create({ id: 8 });
    await api.create({ id: 4 });
    await attack(listenEndpointOf(root.pid), 'stranger');
    // A stranger's frames are held briefly (a child may connect a moment before its parent
    // hears of it), then dropped and logged.
    await expect.poll(() => /"node":8.*dropped input \(downlink unknown peer\)/.test(gw.stderr()), { message: 'the node drop logged by the gateway', timeout: 5000, interval: 20 }).toBe(true);
    expect(isAlive(root.pid)).toBe(true);
    expect(await api.exec({ id: 4, name: 'k', value: 5n })).toMatchObject({ value: 5n });
    expect(await api.ping({ id: 8 })).toEqual({ id: 8, available: true });
    // Logged once per kind, not once per frame.
    const lines = gw.stderr().split('\n').filter((l) => l.includes('downlink unknown peer'));
    expect(lines).toHaveLength(1);
  });

  it('the control drops garbage on its own endpoint and keeps serving', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    const root = await api.create({ id: 8 });
    const controlEndpoint = `ipc://${dirname(listenEndpointOf(root.pid).replace(/^ipc:\/\//, ''))}/control`;
    await attack(controlEndpoint, '8'); // even pretending to be the root
    await attack(controlEndpoint, 'intruder');
    await expect.poll(() => gw.stderr().includes('dropped input from the tree'), { message: 'the control drop logged', timeout: 5000, interval: 20 }).toBe(true);
    expect(await api.exec({ id: 8, name: 'k', value: -1n })).toMatchObject({ value: -1n });
    expect(isAlive(gw.pid)).toBe(true);
  });
});
