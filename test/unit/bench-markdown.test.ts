/**
 * `npm run bench -- --markdown`: the table of docs/benchmarks.md. One markdown table whose every
 * line has the header's number of cells (a pipe inside a note must not open a new cell), each row
 * and target under its label, and the count of passing targets.
 */
import { describe, expect, it } from 'vitest';
import { ROW_LABELS, type Row, TARGET_LABELS, type TargetResult } from '../../bench/rows.js';
import { renderMarkdown } from '../../bench/table.js';

/** Cells of a markdown table line, splitting on pipes that are not escaped. */
function cells(line: string): string[] {
  return line
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

describe('renderMarkdown', () => {
  const rows: Row[] = [
    { key: 'echoUnary1', section: 'baselines', value: '890 ops/s', p50Ms: 0.92, p99Ms: 5.23, note: 'a | b', figures: {} },
    { key: 'session', section: 'arbor', value: '24,463 cmds/s', p50Ms: 35, figures: {} },
  ];
  const targets: TargetResult[] = [
    { key: 'sessionVsZmq', measured: '0.62 ×', target: '≥ 0.50 ×', pass: true, detail: '24,463 /s vs 39,442 /s' },
    { key: 'hop', measured: 'n/a', target: '≤ 2.00 ×', pass: undefined },
    { key: 'restart', measured: '1.60 ×', target: '≤ 1.50 ×', pass: false },
  ];
  const md = renderMarkdown('arbor bench (full), 2026-12-02T16:50:05.932Z, 695 s\nNode v20', rows, targets);
  const table = md.split('\n').filter((line) => line.startsWith('|'));

  it('is one table with as many cells on every line', () => {
    const width = cells(table[0] as string).length;
    expect(width).toBe(7);
    for (const line of table) expect(cells(line), line).toHaveLength(width);
    const first = md.split('\n').indexOf(table[0] as string);
    expect(md.split('\n').slice(first, first + table.length)).toEqual(table);
  });

  it('has each row and target under its label, with its verdict', () => {
    expect(table).toContain('| grpc-js echo, unary, concurrency 1 | 890 ops/s | 0.92 ms | 5.23 ms |  |  | a \\| b |');
    expect(table.some((l) => l.startsWith(`| ${ROW_LABELS.session} | 24,463 cmds/s | 35.0 ms |  |`))).toBe(true);
    expect(table).toContain(`| ${TARGET_LABELS.sessionVsZmq} | 0.62 × |  |  | ≥ 0.50 × | PASS | 24,463 /s vs 39,442 /s |`);
    expect(table).toContain(`| ${TARGET_LABELS.hop} | n/a |  |  | ≤ 2.00 × | FAIL (n/a) |  |`);
    expect(table.some((l) => l.startsWith(`| ${TARGET_LABELS.restart} | 1.60 × |`) && l.includes('| FAIL |'))).toBe(true);
    expect(md).toMatch(/^1 of 3 targets pass\.$/m);
  });

  it('keeps the title lines as separate lines of one paragraph', () => {
    expect(md.startsWith('arbor bench (full), 2026-12-02T16:50:05.932Z, 695 s  \nNode v20\n\n|')).toBe(true);
  });
});
