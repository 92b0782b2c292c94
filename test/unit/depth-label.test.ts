/**
 * The `depth` label of arbor_tree_command_duration_seconds (gateway/metrics.ts): one value per
 * depth of any AVL tree the gateway accepts, and a bounded number of values whatever the tree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxAvlDepth } from '../../control/balance.js';
import { DEEPEST_DEPTH_LABEL, depthLabel } from '../../gateway/metrics.js';

describe('depthLabel', () => {
  it('is the depth itself above DEEPEST_DEPTH_LABEL, one shared value from there on', () => {
    fc.assert(
      fc.property(fc.nat({ max: 100_000 }), (depth) => {
        expect(depthLabel(depth)).toBe(depth < DEEPEST_DEPTH_LABEL ? String(depth) : `${DEEPEST_DEPTH_LABEL}+`);
      }),
    );
    expect(new Set(Array.from({ length: 100_000 }, (_, depth) => depthLabel(depth))).size).toBe(DEEPEST_DEPTH_LABEL + 1);
  });

  it('a balanced tree of the most nodes --max-nodes allows never reaches the shared value', () => {
    expect(maxAvlDepth(100_000)).toBeLessThan(DEEPEST_DEPTH_LABEL);
  });
});
