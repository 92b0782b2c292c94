/**
 * @module `npm run bench`: measures arbor against the parts it is built from, in one run on one
 * machine, prints one table and writes the same figures as JSON to bench/results/.
 *
 *   node dist/bench/run.js [--quick] [--only <phase>[,<phase>...]] [--nodes N]
 *
 * Exit status: 0 when every phase ran, whatever the targets say (a benchmark, not a test);
 * 1 when a phase failed (its rows then say n/a and why); 2 for a usage error.
 */
import { loadavg } from 'node:os';
import { installCleanupHandlers, stopAll } from './children.js';
import { errorText } from './format.js';
import { FULL, QUICK } from './options.js';
import { RESULTS_DIR } from './paths.js';
import { PHASES } from './phases.js';
import { machine, writeResults } from './results.js';
import { unavailableRow } from './row-builders.js';
import { ROW_LABELS, type Row, type RowKey } from './rows.js';
import { renderTable } from './table.js';
import { evaluateTargets } from './targets.js';

const USAGE = [
  'usage: node dist/bench/run.js [--quick] [--only <phase>[,<phase>...]] [--nodes N]',
  '  --quick  tiny counts: checks that every row runs (figures meaningless)',
  '  --only   run only the phases whose name contains one of these words (e.g. --only echo,balanced);',
  '           rows and targets of the others read n/a',
  '  --nodes  nodes of the scale phase (default 400; --quick: 12)',
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
const flagAndValue = new Set([onlyAt, nodesAt].filter((at) => at >= 0).flatMap((at) => [at, at + 1]));
const unknown = argv.filter((a, i) => a !== '--quick' && !flagAndValue.has(i));
if (unknown.length > 0) usageError(`unknown argument ${unknown[0]}`);
const phases = only === undefined ? PHASES : PHASES.filter((p) => only.some((word) => p.name.includes(word)));
if (phases.length === 0) usageError(`--only ${only?.join(',')} matches no phase: ${PHASES.map((p) => p.name).join('; ')}`);
const opts = { ...(argv.includes('--quick') ? QUICK : FULL), ...(nodesText !== undefined && { scaleNodes: Number(nodesText) }) };

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
const title = [
  `arbor bench (${opts.quick ? 'quick: figures meaningless' : 'full'}${only ? `, only ${only.join(',')}` : ''}), ${startedAt.toISOString()}, ${durationSeconds.toFixed(0)} s`,
  `Node ${m.node}, ${m.cpus} × ${m.cpuModel}; load average ${loadAtStart.toFixed(2)} at start, ${loadAtEnd.toFixed(2)} at end` +
    // At the end the load includes this run's own processes; at the start it is other work.
    (loadAtStart > m.cpus / 2 ? ' (other work on this machine: figures are noisy)' : ''),
].join('\n');
process.stdout.write(`${renderTable(title, rows, targets)}\n`);
const file = writeResults(RESULTS_DIR, { startedAt, quick: opts.quick, only, durationSeconds, loadAverage: [loadAtStart, loadAtEnd], rows, targets, errors });
process.stdout.write(`\nJSON: ${file}\n`);
process.exit(errors.length > 0 ? 1 : 0);
