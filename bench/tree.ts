/**
 * @module The tree shapes the benchmark builds: a perfectly balanced search tree (inserted
 * level by level, so every create finds its parent running) and a chain from sorted inserts.
 */

/** Ids 1..2^levels-1 in level order: the root is 2^(levels-1), each level halves the gaps. */
export function balancedOrder(levels: number): number[] {
  const ids: number[] = [];
  for (let level = 0; level < levels; level++) {
    const step = 2 ** (levels - level);
    for (let id = step / 2; id < 2 ** levels; id += step) ids.push(id);
  }
  return ids;
}

/** Depth of `id` in the balanced tree of `levels` levels (the root has depth 0). */
export function balancedDepth(id: number, levels: number): number {
  let trailingZeros = 0;
  while (((id >> trailingZeros) & 1) === 0) trailingZeros++;
  return levels - 1 - trailingZeros;
}

/** Sorted inserts make a chain: 1 is the root, `length` the deepest node (depth length - 1). */
export function chainOrder(length: number): number[] {
  return Array.from({ length }, (_, i) => i + 1);
}
