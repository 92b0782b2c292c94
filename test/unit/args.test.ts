/**
 * The one argument-parsing mechanism of arbor's programs (lib/args.ts) and the three tables on
 * it: one-line problems, flags over environment over defaults, and a `--help` made from the
 * same table that names every option and its variable.
 */
import { describe, expect, it } from 'vitest';
import { AGENT_OPTIONS, AGENT_USAGE, parseAgentArgs } from '../../agent/args.js';
import { CLI_OPTIONS, USAGE_TEXT } from '../../clients/args.js';
import { START_OPTIONS, START_USAGE_TEXT } from '../../clients/start.js';
import { GATEWAY_OPTIONS, parseGatewayArgs, USAGE } from '../../gateway/args.js';
import { flagOrEnv, helpText, type OptionTable, parseOptions, UsageError, usageErrorLine } from '../../lib/args.js';

const TABLE: OptionTable = {
  target: { type: 'string', short: 't', value: 'ADDR', env: 'X_TARGET', default: 'h:1', help: 'where' },
  json: { type: 'boolean', help: 'JSON' },
};

describe('parseOptions', () => {
  it('reads long, short and inline forms; the last one wins', () => {
    const parsed = parseOptions(TABLE, ['-t', 'a:1', '--json', '--target=b:2']);
    expect(parsed.values).toEqual(new Map<string, string | true>([['target', 'b:2'], ['json', true]]));
  });

  it.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['--bogus=1'], "unknown option '--bogus=1'"],
    [['--target'], 'option --target needs a value'],
    [['-t', '--json'], 'option -t needs a value'],
    [['--target='], 'option --target needs a value'],
    [['--json=yes'], 'option --json takes no value'],
    [['stray'], "unexpected argument 'stray'"],
  ])('%j → %s', (argv, problem) => {
    expect(() => parseOptions(TABLE, argv)).toThrow(new UsageError(problem));
  });

  it('--help and --version win over a mistake beside them', () => {
    expect(parseOptions(TABLE, ['--bogus', '--help']).help).toBe(true);
    expect(parseOptions(TABLE, ['stray', '--version']).version).toBe(true);
  });

  it("stop: options end at the first argument that is not one, which keeps its own '-' words", () => {
    expect(parseOptions(TABLE, ['-t', 'a:1', 'exec', '1', 'a', '-5', '--json'], { positionals: 'stop' }).positionals).toEqual(['exec', '1', 'a', '-5', '--json']);
  });

  it('flags win over the environment; an empty variable counts as unset', () => {
    expect(flagOrEnv(parseOptions(TABLE, ['-t', 'f:1']), TABLE, 'target', { X_TARGET: 'e:1' })).toBe('f:1');
    expect(flagOrEnv(parseOptions(TABLE, []), TABLE, 'target', { X_TARGET: ' e:1 ' })).toBe('e:1');
    expect(flagOrEnv(parseOptions(TABLE, []), TABLE, 'target', { X_TARGET: ' ' })).toBeUndefined();
  });

  it('one error line in every program', () => {
    expect(usageErrorLine('arbor-gateway', "unknown option '--x'")).toBe("arbor-gateway: unknown option '--x' (see arbor-gateway --help)");
  });
});

describe('--help comes from the table', () => {
  it('names every option, its variable and default, then --help and --version', () => {
    const text = helpText(TABLE, { usage: ['Usage: x'] });
    expect(text.split('\n')).toEqual(['Usage: x', '', 'Options:', '  -t, --target ADDR  where (env X_TARGET, default h:1)', '  --json             JSON', '  -h, --help         print this text', "  --version          print the version (and Node's)"]);
  });

  it.each([
    ['arbor', CLI_OPTIONS, USAGE_TEXT],
    ['npm start', START_OPTIONS, START_USAGE_TEXT],
    ['arbor-gateway', GATEWAY_OPTIONS, USAGE],
    ['arbor-agent', AGENT_OPTIONS, AGENT_USAGE],
  ])('%s: every option and every variable is in its --help', (_program, table, text) => {
    for (const [name, spec] of Object.entries(table)) {
      expect(text).toContain(`--${name}`);
      if (spec.env !== undefined) expect(text).toContain(`env ${spec.env}`);
    }
    expect(text).toContain('--help');
    expect(text).toContain('--version');
  });
});

describe('the gateway and the agent on the shared mechanism', () => {
  it('gateway: flags over environment over defaults, and one-line problems', () => {
    const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseGatewayArgs(argv, env);
    expect(run([])).toMatchObject({ run: { listen: '127.0.0.1:50051', requestTimeoutMs: 2000, fsync: false, name: 'local' } });
    expect(run(['--listen', '127.0.0.1:7'], { ARBOR_LISTEN: '127.0.0.1:8', ARBOR_FSYNC: '1' })).toMatchObject({ run: { listen: '127.0.0.1:7', fsync: true } });
    expect(run([], { ARBOR_LISTEN: '127.0.0.1:8' })).toMatchObject({ run: { listen: '127.0.0.1:8' } });
    expect(run(['--fsync', '--watch-buffer=5'])).toMatchObject({ run: { fsync: true, watchBuffer: 5 } });
    expect(run(['--bogus'])).toEqual({ problem: "unknown option '--bogus'" });
    expect(run(['--listen'])).toEqual({ problem: 'option --listen needs a value' });
    expect(run(['--fsync=1'])).toEqual({ problem: 'option --fsync takes no value' });
    expect(run(['--listen', 'nowhere'])).toEqual({ problem: '--listen nowhere: expected host:port' });
    expect(run(['--help'])).toEqual({ help: true });
    expect(run(['--version'])).toEqual({ version: true });
  });

  it('agent: required options, the secret from ARBOR_CLUSTER_SECRET, one-line problems', () => {
    const base = ['--join', 'gw:9', '--name', 'b'];
    expect(parseAgentArgs(base, { ARBOR_CLUSTER_SECRET: '/k' })).toEqual({
      kind: 'run',
      args: { join: 'gw:9', secret: '/k', name: 'b', advertise: undefined, dataDir: undefined, orphanGraceMs: 60000 },
    });
    expect(() => parseAgentArgs(base, {})).toThrow(new UsageError('--cluster-secret FILE (or ARBOR_CLUSTER_SECRET) is required'));
    expect(() => parseAgentArgs([...base, '--bogus'], {})).toThrow(new UsageError("unknown option '--bogus'"));
    expect(parseAgentArgs(['--version'], {})).toEqual({ kind: 'version' });
  });
});
