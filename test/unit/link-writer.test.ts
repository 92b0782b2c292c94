import { describe, expect, it } from 'vitest';
import type { Dealer, Router } from 'zeromq';
import { LinkWriter } from '../../link/link-writer.js';

/** A socket that records what is sent (a Router's send has the routing id first) and can fail sends. */
function fakeSocket(fail = false): { socket: Dealer | Router; sent: Buffer[][] } {
  const sent: Buffer[][] = [];
  const socket = {
    send: (msg: Buffer | Buffer[]): Promise<void> => {
      sent.push(Array.isArray(msg) ? msg : [msg]);
      return fail ? Promise.reject(new Error('EHOSTUNREACH')) : Promise.resolve();
    },
  } as unknown as Dealer | Router;
  return { socket, sent };
}

const rec = (byte: number): Buffer => Buffer.from([byte]);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await turn();
};

describe('LinkWriter', () => {
  it('sends one record of a turn as it is', async () => {
    const { socket, sent } = fakeSocket();
    const writer = new LinkWriter(socket, () => undefined);
    writer.push(null, rec(1));
    await settle();
    expect(sent).toEqual([[rec(1)]]);
    expect(writer.idle).toBe(true);
  });

  it('batches the records of a turn per peer, in the order pushed', async () => {
    const { socket, sent } = fakeSocket();
    const writer = new LinkWriter(socket, () => undefined);
    writer.push('a', rec(1));
    writer.push('b', rec(2));
    writer.push('a', rec(3));
    await settle();
    expect(sent).toEqual([
      [Buffer.from('a', 'latin1'), Buffer.from([1, 3])],
      [Buffer.from('b', 'latin1'), rec(2)],
    ]);
  });

  it('sends records pushed while a send is under way after it', async () => {
    const { socket, sent } = fakeSocket();
    const writer = new LinkWriter(socket, () => undefined);
    writer.push(null, rec(1));
    await turn();
    writer.push(null, rec(2));
    writer.push(null, rec(3));
    await settle();
    expect(sent.flat()).toEqual([rec(1), Buffer.from([2, 3])]);
    writer.push(null, rec(4));
    await settle();
    expect(sent.flat()).toEqual([rec(1), Buffer.from([2, 3]), rec(4)]);
  });

  it('hands the records of a failed send to onUndeliverable, alone or batched', async () => {
    const { socket } = fakeSocket(true);
    const failed: [string | null, Buffer[]][] = [];
    const writer = new LinkWriter(socket, (peer, records) => failed.push([peer, records]));
    writer.push('a', rec(1));
    await settle();
    writer.push('a', rec(2));
    writer.push('a', rec(3));
    await settle();
    expect(failed).toEqual([
      ['a', [rec(1)]],
      ['a', [rec(2), rec(3)]],
    ]);
    expect(writer.idle).toBe(true);
  });

  it('sends a record pushed alone on an idle link at once', async () => {
    const { socket, sent } = fakeSocket();
    const writer = new LinkWriter(socket, () => undefined);
    const sending = writer.pushAlone(null, rec(7));
    expect(sending).toBeDefined();
    expect(sent).toEqual([[rec(7)]]);
    await sending;
    writer.push(null, rec(8));
    expect(writer.pushAlone(null, rec(9))).toBeUndefined();
    await settle();
    expect(sent.flat()).toEqual([rec(7), Buffer.from([8, 9])]);
  });
});
