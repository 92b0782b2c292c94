import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inArrivalOrder } from '../../gateway/session.js';

describe('inArrivalOrder', () => {
  it('sorts results by their commands arrival, keeping equal numbers (events) in place', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20), { maxLength: 60 }), (order) => {
        const results = order.map((_, i) => ({ tag: BigInt(i + 1), result: undefined }));
        const sorted = inArrivalOrder(results, order);
        expect(sorted).toHaveLength(results.length);
        const ranks = sorted.map((r) => order[Number(r.tag) - 1] as number);
        for (let i = 1; i < ranks.length; i++) {
          expect(ranks[i]).toBeGreaterThanOrEqual(ranks[i - 1] as number);
          if (ranks[i] === ranks[i - 1]) expect(sorted[i]!.tag).toBeGreaterThan(sorted[i - 1]!.tag);
        }
      }),
    );
  });
});
