/**
 * KeyFeed: key events leave in the order their commands were sent to each node, whatever order
 * the replies come back in (a node's waves can let a later reply pass an earlier one, shown
 * below with ReplyWaves itself); failed commands leave a gap, not a stall; without subscribers
 * nothing is tracked.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encode } from '../../link/index.js';
import { ReplyWaves } from '../../computing/reply-waves.js';
import type { KeyEvent } from '../../control/index.js';
import { KeyFeed } from '../../control/key-feed.js';

const put = (id: number, value: number): KeyEvent => ({ id, name: 'x', kind: 'put', value: BigInt(value) });

describe('KeyFeed', () => {
  afterEach(() => vi.useRealTimers());

  it('a node may send a later reply before an earlier one: its own reply in a frame without children passes a held wave', () => {
    vi.useFakeTimers();
    const up: number[] = [];
    const waves = new ReplyWaves((r) => up.push(r.readUInt32LE(3)), () => 0);
    // Frame 1: our own store (corr 1) and one for each child (corr 2, 3): held until both children answer.
    waves.begin();
    waves.reply(encode({ kind: 'value', corr: 1, node: 2, found: true, added: true, value: 1n }));
    waves.forwarded(encode({ kind: 'store', corr: 2, node: 1, name: 'x', value: 1n }));
    waves.forwarded(encode({ kind: 'store', corr: 3, node: 3, name: 'x', value: 1n }));
    waves.end();
    // Frame 2: only our own store of the same name (corr 4): it leaves at once.
    waves.begin();
    waves.reply(encode({ kind: 'value', corr: 4, node: 2, found: true, added: false, value: 2n }));
    waves.end();
    expect(up).toEqual([4]);
    waves.stop();
  });

  it('emits each node\'s events in the order sent, whatever order they settle in; failures leave no event and no stall', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.boolean()), { maxLength: 40 }).chain((sends) =>
          fc.tuple(fc.constant(sends), fc.shuffledSubarray([...sends.keys()], { minLength: sends.length, maxLength: sends.length })),
        ),
        ([sends, settleOrder]) => {
          const feed = new KeyFeed();
          const seen: KeyEvent[] = [];
          feed.subscribe((e) => seen.push(e));
          const places = sends.map(([id]) => feed.sent(id));
          for (const i of settleOrder) {
            const [id, ok] = sends[i]!;
            feed.settle(id, places[i], ok ? put(id, i) : null);
          }
          for (const id of [1, 2, 3]) {
            const expected = sends.flatMap(([node, ok], i) => (node === id && ok ? [i] : []));
            expect(seen.filter((e) => e.id === id).map((e) => Number(e.value))).toEqual(expected);
          }
        },
      ),
    );
  });

  it('takes no place while nobody listens', () => {
    const feed = new KeyFeed();
    expect(feed.sent(1)).toBeUndefined();
    const stop = feed.subscribe(() => undefined);
    expect(feed.sent(1)).toBe(0);
    stop();
    // Places still open for node 1 keep counting, so its order holds until they settle.
    expect(feed.sent(1)).toBe(1);
    expect(feed.sent(2)).toBeUndefined();
  });
});
