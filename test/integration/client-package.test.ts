/**
 * The library as a user gets it (issue 27): `npm pack`, the tarball installed into an empty
 * project (its dependencies from the registry), and a plain ESM program there that imports
 * `arbor` and runs against a real gateway: create, store, load of 2^63-1, a NOT_FOUND as
 * `'not-found'`, an abort as `'cancelled'`, 10,000 commands on one session, a watch that sees a
 * SIGSTOPped node. Importing the library must not load zeromq (nor pino, the gateway's logger),
 * and its types must type-check in a TypeScript program. Its programs run with `npx arbor -t`.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { REPO, startGateway } from '../helpers/gateway.js';
import { isAlive } from '../helpers/processes.js';

const run = promisify(execFile);
const CONSUMER = `${REPO}test/fixtures/client-package/consumer.js`;
const INSTALL_TIMEOUT_MS = 240_000;

type Fact = Record<string, unknown> & { step: string };

describe('the arbor package, installed from its tarball into an empty project', () => {
  let dir: string;
  let project: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'arbor-package-'));
    project = join(dir, 'project');
    /* --ignore-scripts: the test runs on the dist/ already built (pretest); `prepare` would build it again. */
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO, timeout: INSTALL_TIMEOUT_MS });
    const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack wrote no tarball in ${dir}`);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball)], { cwd: project, timeout: INSTALL_TIMEOUT_MS });
    copyFileSync(CONSUMER, join(project, 'consumer.js'));
  }, INSTALL_TIMEOUT_MS * 2);

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a program that imports it against a real gateway', { timeout: 180_000 }, async () => {
    /* A loaded machine may keep the one node busy past the default 2 s request timeout while it
       works through the 10,000 commands: that would be UNAVAILABLE, not what this test is about. */
    const gateway = await startGateway(['--request-timeout-ms', '30000']);
    const program = startCli(join(project, 'consumer.js'), [gateway.address]);
    /* Whatever happens, no node stays stopped (its gateway's teardown then ends it). */
    onTestFinished(() => {
      for (const line of program.lines) {
        const pid = (JSON.parse(line) as Fact)['pid'];
        if (typeof pid === 'number' && isAlive(pid)) process.kill(pid, 'SIGCONT');
      }
    });
    await expect
      .poll(() => program.lines.some((line) => line.includes('"step":"done"')) || program.proc.exitCode !== null, { timeout: 120_000, interval: 50 })
      .toBe(true)
      .catch(() => {
        throw new Error(`the program did not finish; its output:\n${program.lines.join('\n')}\nstderr: ${program.stderr()}`);
      });
    if (!program.lines.some((line) => line.includes('"step":"done"'))) {
      throw new Error(`the program ended early; its output:\n${program.lines.join('\n')}\nstderr: ${program.stderr()}`);
    }
    await expect.poll(() => program.proc.exitCode, { timeout: 10_000, message: 'the program to exit by itself' }).toBe(0);

    const facts = new Map(program.lines.map((line) => JSON.parse(line) as Fact).map((fact) => [fact.step, fact]));
    const fact = (step: string): Fact => {
      const found = facts.get(step);
      if (found === undefined) throw new Error(`no ${step} line; output:\n${program.lines.join('\n')}\nstderr: ${program.stderr()}`);
      return found;
    };

    const loaded = fact('import');
    expect(loaded['modules']).toContain('@grpc/grpc-js'); // the check sees what is loaded
    expect(loaded['modules']).not.toContain('zeromq');
    expect(loaded['modules']).not.toContain('pino');
    expect(loaded['addons']).toEqual([]);

    expect(fact('create')).toMatchObject({ id: 50 });
    expect(typeof fact('create')['pid']).toBe('number');
    expect(fact('load')).toEqual({ step: 'load', max: '9223372036854775807n', absentIsUndefined: true });
    const ours = { arborError: true, name: 'ArborError', grpcShaped: false };
    expect(fact('not-found')).toMatchObject({ ...ours, code: 'not-found', nodeId: 404, cause: true, message: "Node with id 404 doesn't exist" });
    expect(fact('abort')).toMatchObject({ ...ours, code: 'cancelled', nodeId: 60, cause: true });
    expect(fact('deadline')).toMatchObject({ ...ours, code: 'deadline-exceeded', nodeId: 61 });
    expect(fact('invalid')).toMatchObject({ ...ours, code: 'invalid-argument', nodeId: 50, message: "name 'bad name' is invalid: expected 1 to 255 characters from [A-Za-z0-9]" });
    expect(fact('unreachable')).toMatchObject({ ...ours, code: 'unavailable', nodeId: 1 });
    expect(fact('session')).toEqual({ step: 'session', commands: 10_000, wrong: 0 });
    expect(fact('heartbeat')).toMatchObject({ intervalMs: 100 });

    const seen = fact('watch')['seen'] as { kind: string; reason: string; time: boolean }[];
    expect(seen[0]).toEqual({ kind: 'unavailable', reason: 'not heard from for 4 x 100 ms', time: true });
    expect(seen.at(-1)?.kind).toMatch(/^(available|restarted)$/);
    expect(fact('break')).toMatchObject({ id: 80, kind: 'created' });
    expect(program.stderr()).toBe('');

    /* The programs come with it, and npx passes the options after the program's name on to it.
       (Not after `npx --no arbor`: npx reads `--no` as taking a value, `arbor`, and keeps what follows
       as its own options; `npx --no -- arbor` is the form that never downloads.) */
    for (const npxArgs of [['arbor'], ['--no', '--', 'arbor']]) {
      const npx = await run('npx', [...npxArgs, '-t', gateway.address, 'exec', '50', 'max'], { cwd: project, timeout: 60_000 });
      expect(npx.stdout).toBe("Ok: 50 'max' 9223372036854775807\n");
    }
  });

  it('type-checks a TypeScript program that uses it (types from package.json exports)', { timeout: 180_000 }, async () => {
    writeFileSync(
      join(project, 'typed.ts'),
      [
        "import { ArborClient, ArborError, type ArborErrorCode, type NodeEvent } from 'arbor';",
        "const client = new ArborClient({ target: '127.0.0.1:50051' });",
        "const value: bigint | undefined = await client.load(1, 'a');",
        'const session = client.session();',
        "const stored: Promise<void> = session.store(1, 'a', 2n ** 63n - 1n);",
        'for await (const event of client.watch({ signal: AbortSignal.timeout(10) })) {',
        '  const kind: NodeEvent["kind"] = event.kind;',
        '  void kind;',
        '}',
        "const code: ArborErrorCode = new ArborError('not-found', 'x').code;",
        '// @ts-expect-error values are bigint, never number',
        "await client.store(1, 'a', 1);",
        'export { value, stored, code };',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [`${REPO}node_modules/@types`],
        },
        files: ['typed.ts'],
      }),
    );
    const checked = await run(process.execPath, [`${REPO}node_modules/typescript/bin/tsc`, '-p', project], { timeout: 170_000 }).catch(
      (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? '', failed: error.code }),
    );
    expect(checked).toMatchObject({ stdout: '' });
    expect(checked).not.toHaveProperty('failed');
  });
});
