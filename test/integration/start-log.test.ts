/**
 * `npm start`'s gateway log (issue 27): by default a file in the runtime directory, with the
 * gateway's warnings told as console lines (not raw pino); `--log-file -` keeps the old stderr.
 * The warning used: listening on 0.0.0.0 without TLS, which the gateway always warns about.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runScript, START_MAIN } from '../helpers/cli.js';

const WARNING = 'listening beyond this machine without TLS';

describe("npm start's gateway log", () => {
  it('goes to a file in the runtime directory; its warnings show as console lines; stdout is the script only', { timeout: 60_000 }, async () => {
    const runtime = mkdtempSync(join(tmpdir(), 'arbor-runtime-'));
    onTestFinished(() => rmSync(runtime, { recursive: true, force: true }));
    const { code, lines, stderr } = await runScript(START_MAIN, ['--listen', '0.0.0.0:0'], 'create 3\nexec 3 a 7\n', { XDG_RUNTIME_DIR: runtime });
    expect(code).toBe(0);
    expect(lines[1]).toBe('Ok: 3');
    expect(stderr).toContain(`arbor: gateway warning: ${WARNING}`);
    expect(stderr).not.toContain('"level"');
    const files = readdirSync(join(runtime, 'arbor'));
    expect(files).toHaveLength(1);
    const logged = readFileSync(join(runtime, 'arbor', files[0] as string), 'utf8').trim().split('\n');
    expect(logged.map((line) => JSON.parse(line) as { msg: string }).some((entry) => entry.msg.includes(WARNING))).toBe(true);
  });

  it('--log-file - leaves it on stderr, as the gateway writes it; --log-file FILE puts it there', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-log-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const toStderr = await runScript(START_MAIN, ['--listen', '0.0.0.0:0', '--log-file', '-'], 'create 3\n');
    expect(toStderr.code).toBe(0);
    expect(toStderr.stderr).toContain(WARNING);
    expect(toStderr.stderr).not.toContain('arbor: gateway warning');
    const file = join(dir, 'gateway.log');
    const toFile = await runScript(START_MAIN, ['--listen', '0.0.0.0:0', `--log-file=${file}`], 'create 3\n');
    expect(toFile.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain(WARNING);
    const bad = await runScript(START_MAIN, ['--listen', '127.0.0.1:0', '--log-file', join(dir, 'missing', 'x.log')], 'create 3\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^arbor: cannot open the gateway's log file .*x\.log.*\(--log-file - logs to stderr\)\n$/);
  });
});
