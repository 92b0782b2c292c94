/**
 * @module The printed table: measured rows by section, then the targets with PASS/FAIL.
 */
import { ms } from './format.js';
import { ROW_LABELS, type Row, TARGET_LABELS, type TargetResult } from './rows.js';

const LABEL = 44;
const VALUE = 22;
const LAT = 10;

function rowLine(row: Row): string {
  const cells = [
    `  ${ROW_LABELS[row.key].padEnd(LABEL)}`,
    row.value.padStart(VALUE),
    (row.p50Ms === undefined ? '' : ms(row.p50Ms)).padStart(LAT),
    (row.p99Ms === undefined ? '' : ms(row.p99Ms)).padStart(LAT),
  ];
  return `${cells.join(' ')}${row.note ? `  ${row.note}` : ''}`.trimEnd();
}

function targetLine(t: TargetResult): string {
  const verdict = t.pass === undefined ? 'FAIL (n/a)' : t.pass ? 'PASS' : 'FAIL';
  const cells = [`  ${TARGET_LABELS[t.key].padEnd(LABEL)}`, t.measured.padStart(VALUE), t.target.padStart(LAT + 2), ` ${verdict}`];
  return `${cells.join(' ')}${t.detail ? `  (${t.detail})` : ''}`;
}

export function renderTable(title: string, rows: readonly Row[], targets: readonly TargetResult[]): string {
  const header = (name: string): string =>
    `${name.padEnd(LABEL + 2)} ${'value'.padStart(VALUE)} ${'p50'.padStart(LAT)} ${'p99'.padStart(LAT)}  notes`;
  const out = [title, ''];
  for (const [section, name] of [
    ['baselines', 'Baselines'],
    ['arbor', 'arbor'],
  ] as const) {
    out.push(header(name));
    for (const row of rows.filter((r) => r.section === section)) out.push(rowLine(row));
    out.push('');
  }
  out.push(`${'Targets (ratios within this run)'.padEnd(LABEL + 2)} ${'measured'.padStart(VALUE)} ${'target'.padStart(LAT + 2)}  result`);
  for (const t of targets) out.push(targetLine(t));
  const passed = targets.filter((t) => t.pass === true).length;
  out.push('', `${passed} of ${targets.length} targets pass.`);
  return out.join('\n');
}

/** A cell of a markdown table: pipes escaped, never empty-looking. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * The same figures as one markdown table (`--markdown`), for docs/benchmarks.md: the title as a
 * paragraph, then a table whose rows are the measured rows by section and then the targets, each
 * target with its bound and PASS or FAIL, and the count of passing targets.
 */
export function renderMarkdown(title: string, rows: readonly Row[], targets: readonly TargetResult[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  const out = [title.split('\n').join('  \n'), '', line(['', 'measured', 'p50', 'p99', 'target', 'result', 'notes']), line(['---', '--:', '--:', '--:', '--:', '---', '---'])];
  for (const [section, name] of [
    ['baselines', 'Baselines'],
    ['arbor', 'arbor'],
  ] as const) {
    out.push(line([`**${name}**`, '', '', '', '', '', '']));
    for (const row of rows.filter((r) => r.section === section)) {
      out.push(line([ROW_LABELS[row.key], row.value, row.p50Ms === undefined ? '' : ms(row.p50Ms), row.p99Ms === undefined ? '' : ms(row.p99Ms), '', '', row.note ?? '']));
    }
  }
  out.push(line(['**Targets (ratios within this run)**', '', '', '', '', '', '']));
  for (const t of targets) {
    const verdict = t.pass === undefined ? 'FAIL (n/a)' : t.pass ? 'PASS' : 'FAIL';
    out.push(line([TARGET_LABELS[t.key], t.measured, '', '', t.target, verdict, t.detail ?? '']));
  }
  const passed = targets.filter((t) => t.pass === true).length;
  out.push('', `${passed} of ${targets.length} targets pass.`);
  return out.join('\n');
}
