/**
 * What an operator deploys (issue 28, "Operations"): the gateway's metrics as Prometheus reads
 * them, the Grafana dashboard in deploy/grafana/ (every query names a metric a real gateway
 * exports), and the systemd units in deploy/systemd/ (`systemd-analyze verify` finds nothing).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { REPO, type RunningGateway, startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';

const PACKAGE = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { version: string; bin: Record<string, string> };
const DASHBOARD = `${REPO}deploy/grafana/arbor-dashboard.json`;
const UNITS = `${REPO}deploy/systemd`;

/** A gateway serving metrics, with `--balance off` so that nodes 5, 3, 1 sit at depths 0, 1, 2. */
async function metricsGateway(): Promise<{ gw: RunningGateway; scrape: () => Promise<string> }> {
  const gw = await startGateway(['--metrics-listen', '127.0.0.1:0', '--balance', 'off']);
  await expect.poll(() => gw.stdoutLines.some((l) => /^arbor-gateway metrics on \S+$/.test(l)), { message: 'metrics address', timeout: 5000, interval: 20 }).toBe(true);
  const address = /^arbor-gateway metrics on (\S+)$/.exec(gw.stdoutLines.find((l) => l.startsWith('arbor-gateway metrics on')) as string)?.[1] as string;
  return { gw, scrape: async () => (await fetch(`http://${address}/metrics`)).text() };
}

/**
 * Commands at each depth (1 at depth 0, 2 at depth 1, 3 at depth 2), then node 3's process
 * killed and restarted once: every arbor metric then has a sample (histograms and per-label
 * counters have none before their first event).
 */
async function exercise(gw: RunningGateway, scrape: () => Promise<string>): Promise<string> {
  const api = rpc(gw.client());
  await api.create({ id: 5 });
  const { pid } = await api.create({ id: 3 });
  await api.create({ id: 1 });
  const depths = new Map((await api.topology()).nodes.map((n) => [n.id, n.depth]));
  expect(depths).toEqual(new Map([[5, 0], [3, 1], [1, 2]]));
  for (const [id, times] of [[5, 1], [3, 2], [1, 3]] as const) {
    for (let i = 0; i < times; i++) await api.exec({ id, name: `k${i}`, value: BigInt(i) });
  }
  process.kill(pid, 'SIGKILL');
  await expect.poll(async () => (await scrape()).includes('arbor_node_restarts_total{node="3"} 1'), { message: 'node 3 restarted', timeout: 15_000, interval: 50 }).toBe(true);
  return scrape();
}

/** Every sample name in an exposition (`x_bucket`, `x_count`, ...), and every family name of its TYPE lines. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type !== null) names.add(type[1] as string);
    else if (line !== '' && !line.startsWith('#')) names.add(/^[^{ ]+/.exec(line)?.[0] as string);
  }
  return names;
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);

/** The metric names a PromQL expression reads (not its functions, keywords, labels or numbers). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/label_values\(\s*([^,)]+?)\s*,\s*[a-zA-Z_]\w*\s*\)/g, '$1') // Grafana's variable query: its first argument is the metric
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of bare.matchAll(/(?<![\w.$])[a-zA-Z_:][\w:]*/g)) {
    const word = match[0];
    const rest = bare.slice((match.index ?? 0) + word.length);
    if (/^\s*\(/.test(rest) || PROMQL_WORDS.has(word.toLowerCase())) continue;
    names.push(word);
  }
  return names;
}

/** Every PromQL query of a Grafana dashboard: the panels' targets (`expr`) and the query variables. */
function dashboardQueries(dashboard: unknown): string[] {
  const queries: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'expr' && typeof inner === 'string') queries.push(inner);
        else walk(inner);
      }
    }
  };
  walk(dashboard);
  const variables = (dashboard as { templating?: { list?: { type: string; query: unknown }[] } }).templating?.list ?? [];
  for (const variable of variables) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query?: string }).query;
    if (query !== undefined) queries.push(query);
  }
  return queries;
}

describe('metrics', () => {
  it('metricNames reads the metrics of a query, not its functions, labels or durations', () => {
    expect(
      metricNames('histogram_quantile(0.99, sum by (le, depth) (rate(arbor_tree_command_duration_seconds_bucket{instance=~"$instance", depth!="0"}[$__rate_interval])))'),
    ).toEqual(['arbor_tree_command_duration_seconds_bucket']);
    expect(metricNames('sum(rate(a_total[5m] offset 1h)) / on (x) group_left sum(b) * 1e3 > bool 2')).toEqual(['a_total', 'b']);
    expect(metricNames('label_values(arbor_build_info, instance)')).toEqual(['arbor_build_info']);
  });

  it('exports the build, restarts per node and time in the tree by depth, named by Prometheus conventions', async () => {
    const { gw, scrape } = await metricsGateway();
    const text = await exercise(gw, scrape);

    expect(text).toContain(`arbor_build_info{version="${PACKAGE.version}",node="${process.version}"} 1`);
    expect(text).toContain('# TYPE arbor_node_restarts_total counter');
    expect(text).toContain('arbor_node_restarts_total{node="5"} 0');
    expect(text).toContain('arbor_node_restarts_total{node="3"} 1');
    expect(text).toContain('arbor_node_restarts_total{node="1"} 0');
    expect(text).toContain('# TYPE arbor_tree_command_duration_seconds histogram');
    for (const [depth, count] of [['0', 1], ['1', 2], ['2', 3]] as const) {
      expect(text).toContain(`arbor_tree_command_duration_seconds_count{depth="${depth}"} ${count}`);
      expect(text).toContain(`arbor_tree_command_duration_seconds_bucket{le="+Inf",depth="${depth}"} ${count}`);
      const sum = Number(new RegExp(`^arbor_tree_command_duration_seconds_sum\\{depth="${depth}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(sum).toBeGreaterThan(0);
      expect(sum).toBeLessThan(count * 2); // seconds, not milliseconds: each command took well under the 2 s request timeout
    }
    // The metrics that were there before stay.
    for (const name of ['arbor_calls_total', 'arbor_call_duration_seconds', 'arbor_in_flight_commands', 'arbor_nodes', 'arbor_pending_node_requests', 'arbor_heartbeat_misses_total', 'arbor_process_exits_total', 'arbor_heartbeat_interval_seconds', 'arbor_spare_processes']) {
      expect(text).toContain(`# TYPE ${name} `);
    }

    // Conventions (prometheus.io/docs/practices/naming): snake_case under the arbor_ prefix,
    // counters end in _total, histograms in their base unit, gauges not in _total; every one has help.
    const families = [...text.matchAll(/^# TYPE (arbor_\S+) (\S+)$/gm)].map((m) => ({ name: m[1] as string, type: m[2] as string }));
    expect(families.length).toBeGreaterThanOrEqual(12);
    for (const { name, type } of families) {
      expect(name).toMatch(/^arbor_[a-z][a-z0-9_]*$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_(seconds|bytes)$/);
      if (type === 'gauge') expect(name).not.toMatch(/_total$/);
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
    }
  });

  it('the Grafana dashboard queries only metrics the gateway exports', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; type: string; targets?: unknown[] }[] };
    const queries = dashboardQueries(dashboard);
    const named = new Set(queries.flatMap(metricNames));
    // Each query names a metric, each panel has a query (a row is a heading, not a panel of data).
    for (const query of queries) expect(metricNames(query), query).not.toEqual([]);
    for (const panel of dashboard.panels) if (panel.type !== 'row') expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
    for (const wanted of ['arbor_build_info', 'arbor_node_restarts_total', 'arbor_tree_command_duration_seconds_bucket']) expect(named).toContain(wanted);

    const { gw, scrape } = await metricsGateway();
    const exported = exportedNames(await exercise(gw, scrape));
    expect([...named].filter((name) => !exported.has(name))).toEqual([]);
  });
});

/** systemd-analyze on the PATH, if any (.ci/run installs it: Debian package systemd). */
const SYSTEMD_ANALYZE = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((dir) => dir !== '')
  .map((dir) => join(dir, 'systemd-analyze'))
  .find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
/** Where the units expect the package's programs (`npm install -g` on Debian puts them there). */
const INSTALLED_BIN = '/usr/local/bin/';

describe('systemd units', () => {
  it("pass systemd-analyze verify, with the programs they start being the package's", async (ctx) => {
    if (SYSTEMD_ANALYZE === undefined) {
      const why = 'skipped: systemd-analyze is missing (install the Debian package systemd; .ci/run does)';
      console.warn(`systemd units not verified: ${why}`);
      ctx.skip(why);
    }
    const units = readdirSync(UNITS).filter((name) => name.endsWith('.service')).sort();
    expect(units).toEqual(['arbor-agent@.service', 'arbor-gateway.service']);

    // verify checks that every program ExecStart names is there and executable. The units name
    // the installed bins; this copy names the same bins of this checkout (a directory of links
    // to bin/*.js), so that nothing is installed on the machine running the test.
    const dir = mkdtempSync(join(tmpdir(), 'arbor-units-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'bin'));
    for (const [name, file] of Object.entries(PACKAGE.bin)) symlinkSync(join(REPO, file), join(dir, 'bin', name));
    for (const unit of units) {
      const text = readFileSync(join(UNITS, unit), 'utf8');
      const programs = [...text.matchAll(/\/usr\/local\/bin\/([\w.-]+)/g)].map((m) => m[1] as string);
      expect(programs.length, unit).toBeGreaterThan(0);
      for (const program of programs) expect(Object.keys(PACKAGE.bin), `${unit} starts ${program}`).toContain(program);
      for (const directive of ['User=arbor', 'StateDirectory=', 'RuntimeDirectory=', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'LoadCredential=', 'Restart=on-failure']) {
        expect(text, `${unit}: ${directive}`).toMatch(new RegExp(`^${directive}`, 'm'));
      }
      writeFileSync(join(dir, unit), text.replaceAll(INSTALLED_BIN, `${dir}/bin/`));
    }
    for (const unit of units) {
      // verify only warns (exit 0) about unknown keys and bad values: any output is a finding.
      const { code, output } = await run(SYSTEMD_ANALYZE as string, ['verify', join(dir, unit)]);
      expect({ unit, code, output }).toEqual({ unit, code: 0, output: '' });
    }
    // The check finds a mistake: a misspelt directive and a missing program.
    const broken = readFileSync(join(UNITS, 'arbor-agent@.service'), 'utf8').replace('ProtectSystem=', 'ProtectSystm=').replaceAll(INSTALLED_BIN, `${dir}/missing/`);
    writeFileSync(join(dir, 'broken@.service'), broken);
    const { output } = await run(SYSTEMD_ANALYZE as string, ['verify', join(dir, 'broken@.service')]);
    expect(output).toContain("Unknown key 'ProtectSystm'");
    expect(output).toContain(`${dir}/missing/arbor-agent is not executable`);
  });
});

function run(program: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, output: stdout + stderr });
    });
  });
}
