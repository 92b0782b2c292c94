/**
 * @module `npm run bench`: measures arbor against the parts it is built from, in one run on one
 * machine, prints one table and writes the same figures as JSON to bench/results/.
 *
 *   node dist/bench/run.js [--quick] [--only <phase>[,<phase>...]] [--nodes N] [--markdown]
 *   node dist/bench/run.js --markdown --from bench/results/<run>.json
 *
 * `--markdown` prints the table as markdown (docs/benchmarks.md holds the latest full run's);
 * `--from` prints a saved run's JSON again instead of measuring.
 *
 * Exit status: 0 when every phase ran, whatever the targets say (a benchmark, not a test);
 * 1 when a phase failed (its rows then say n/a and why); 2 for a usage error.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { installCleanupHandlers, stopAll } from './children.js';
import { errorText } from './format.js';
import { FULL, QUICK } from './options.js';
import { RESULTS_DIR } from './paths.js';
import { PHASES } from './phases.js';
import { machine, type Machine, writeResults } from './results.js';
import { unavailableRow } from './row-builders.js';
import { ROW_LABELS, type Row, type RowKey, TARGET_LABELS, type TargetResult } from './rows.js';
import { renderMarkdown, renderTable } from './table.js';
import { evaluateTargets } from './targets.js';

const USAGE = [
  'usage: node dist/bench/run.js [--quick] [--only <phase>[,<phase>...]] [--nodes N] [--markdown]',
  '       node dist/bench/run.js [--markdown] --from <results.json>',
  '  --quick  tiny counts: checks that every row runs (figures meaningless)',
  '  --only   run only the phases whose name contains one of these words (e.g. --only echo,balanced);',
  '           rows and targets of the others read n/a',
  '  --nodes  nodes of the scale phase (default 400; --quick: 12)',
  '  --markdown  print the table as markdown (one table: rows, then targets); the JSON path goes to stderr',
  '  --from   print the run saved in this JSON file (bench/results/) instead of measuring',
].join('\n');

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const usageError = (problem: string): never => {
  process.stderr.write(`bench: ${problem}\n${USAGE}\n`);
  process.exit(2);
};
const onlyAt = argv.indexOf('--only');
const only = onlyAt < 0 ? undefined : (argv[onlyAt + 1] ?? usageError('--only needs a list of phase names')).split(',');
const nodesAt = argv.indexOf('--nodes');
const nodesText = nodesAt < 0 ? undefined : (argv[nodesAt + 1] ?? usageError('--nodes needs a number'));
if (nodesText !== undefined && !/^[1-9]\d{0,4}$/.test(nodesText)) usageError(`--nodes ${nodesText}: expected a whole number from 1 to 99999`);
const fromAt = argv.indexOf('--from');
const from = fromAt < 0 ? undefined : (argv[fromAt + 1] ?? usageError('--from needs a results file'));
const markdown = argv.includes('--markdown');
const flagAndValue = new Set([onlyAt, nodesAt, fromAt].filter((at) => at >= 0).flatMap((at) => [at, at + 1]));
const unknown = argv.filter((a, i) => a !== '--quick' && a !== '--markdown' && !flagAndValue.has(i));
if (unknown.length > 0) usageError(`unknown argument ${unknown[0]}`);
const phases = only === undefined ? PHASES : PHASES.filter((p) => only.some((word) => p.name.includes(word)));
if (phases.length === 0) usageError(`--only ${only?.join(',')} matches no phase: ${PHASES.map((p) => p.name).join('; ')}`);
const opts = { ...(argv.includes('--quick') ? QUICK : FULL), ...(nodesText !== undefined && { scaleNodes: Number(nodesText) }) };

interface TitleFacts {
  startedAt: string;
  quick: boolean;
  only: readonly string[] | undefined;
  durationSeconds: number;
  machine: Machine;
  loadAverage: readonly [number, number];
}

function titleOf(t: TitleFacts): string {
  const [atStart, atEnd] = t.loadAverage;
  return [
    `arbor bench (${t.quick ? 'quick: figures meaningless' : 'full'}${t.only ? `, only ${t.only.join(',')}` : ''}), ${t.startedAt}, ${t.durationSeconds.toFixed(0)} s`,
    `Node ${t.machine.node}, ${t.machine.cpus} × ${t.machine.cpuModel}; load average ${atStart.toFixed(2)} at start, ${atEnd.toFixed(2)} at end` +
      // At the end the load includes this run's own processes; at the start it is other work.
      (atStart > t.machine.cpus / 2 ? ' (other work on this machine: figures are noisy)' : ''),
  ].join('\n');
}

const render = (title: string, rows: readonly Row[], targets: readonly TargetResult[]): string =>
  markdown ? renderMarkdown(title, rows, targets) : renderTable(title, rows, targets);

if (from !== undefined) {
  let saved: { startedAt: string; mode: string; only?: string[]; durationSeconds: number; loadAverage: [number, number]; machine: Machine; rows: Row[]; targets: TargetResult[] };
  try {
    saved = JSON.parse(readFileSync(from, 'utf8')) as typeof saved;
  } catch (error) {
    process.stderr.write(`bench: --from ${from}: ${errorText(error)}\n`);
    process.exit(2);
  }
  const title = titleOf({ ...saved, quick: saved.mode === 'quick', only: saved.only });
  // A run saved by an older build may name rows or targets this one no longer has.
  const rows = saved.rows.filter((r) => r.key in ROW_LABELS);
  const targets = saved.targets.filter((t) => t.key in TARGET_LABELS);
  process.stdout.write(`${render(title, rows, targets)}\n`);
  process.exit(0);
}

installCleanupHandlers();
const startedAt = new Date();
const loadAtStart = loadavg()[0] ?? 0;
const t0 = performance.now();
const measured = new Map<RowKey, Row>();
const errors: string[] = [];

for (const phase of phases) {
  const phaseStart = performance.now();
  process.stderr.write(`bench: ${phase.name}...`);
  try {
    await phase.run(opts, (row) => measured.set(row.key, row));
    process.stderr.write(` ${((performance.now() - phaseStart) / 1000).toFixed(1)} s\n`);
  } catch (error) {
    const why = errorText(error);
    process.stderr.write(` failed: ${why}\n`);
    errors.push(`${phase.name}: ${why}`);
    for (const key of phase.keys) if (!measured.has(key)) measured.set(key, unavailableRow(key, `error: ${why}`));
  } finally {
    await stopAll();
  }
}

const rows = (Object.keys(ROW_LABELS) as RowKey[]).map((key) => measured.get(key) ?? unavailableRow(key, 'not measured'));
const targets = evaluateTargets(rows);
const durationSeconds = (performance.now() - t0) / 1000;
const m = machine();
const loadAtEnd = loadavg()[0] ?? 0;
const title = titleOf({ startedAt: startedAt.toISOString(), quick: opts.quick, only, durationSeconds, machine: m, loadAverage: [loadAtStart, loadAtEnd] });
process.stdout.write(`${render(title, rows, targets)}\n`);
const file = writeResults(RESULTS_DIR, { startedAt, quick: opts.quick, only, durationSeconds, loadAverage: [loadAtStart, loadAtEnd], rows, targets, errors });
// With --markdown stdout is the table alone, ready to paste or redirect into docs/benchmarks.md.
if (markdown) process.stderr.write(`bench: JSON: ${file}\n`);
else process.stdout.write(`\nJSON: ${file}\n`);
process.exit(errors.length > 0 ? 1 : 0);
