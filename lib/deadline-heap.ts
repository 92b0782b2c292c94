/**
 * @module A binary min-heap of (deadline, corr) pairs, in two parallel arrays (no object per
 * entry). Lets thousands of requests in flight share one timer instead of one timer each.
 */

export class DeadlineHeap {
  private readonly deadlines: number[] = [];
  private readonly corrs: number[] = [];

  get size(): number {
    return this.deadlines.length;
  }

  /** The earliest deadline, or Infinity when empty. */
  peekDeadline(): number {
    return this.deadlines[0] ?? Infinity;
  }

  peekCorr(): number | undefined {
    return this.corrs[0];
  }

  push(deadline: number, corr: number): void {
    const d = this.deadlines;
    const c = this.corrs;
    let i = d.length;
    d.push(deadline);
    c.push(corr);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((d[parent] as number) <= deadline) break;
      d[i] = d[parent] as number;
      c[i] = c[parent] as number;
      i = parent;
    }
    d[i] = deadline;
    c[i] = corr;
  }

  /** Removes the earliest entry. */
  pop(): void {
    const d = this.deadlines;
    const c = this.corrs;
    const lastDeadline = d.pop();
    const lastCorr = c.pop();
    if (d.length === 0 || lastDeadline === undefined || lastCorr === undefined) return;
    let i = 0;
    const n = d.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && (d[right] as number) < (d[left] as number) ? right : left;
      if ((d[child] as number) >= lastDeadline) break;
      d[i] = d[child] as number;
      c[i] = c[child] as number;
      i = child;
    }
    d[i] = lastDeadline;
    c[i] = lastCorr;
  }
}
