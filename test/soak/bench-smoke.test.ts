/**
 * The benchmark's smoke run: `node dist/bench/run.js --quick` must finish with exit 0 and print
 * every row of the table (every measurement and every target). It asserts nothing about speed:
 * quick-mode figures are meaningless, and a shared machine makes timings noisy anyway.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROW_LABELS, TARGET_LABELS } from '../../bench/rows.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${REPO}dist/bench/run.js`, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --quick', () => {
  it('runs every phase and prints every row', { timeout: 150_000 }, async () => {
    const { code, stdout, stderr } = await runBench(['--quick']);
    expect(code, `stderr:\n${stderr}\nstdout:\n${stdout}`).toBe(0);
    for (const label of [...Object.values(ROW_LABELS), ...Object.values(TARGET_LABELS)]) {
      expect(stdout, `row "${label}" missing`).toContain(label);
    }
    expect(stdout).toMatch(/targets pass\./);
    const json = /^JSON: (.*bench\/results\/.*-quick\.json)$/m.exec(stdout)?.[1];
    expect(json, stdout).toBeDefined();

    // The saved run again, as the markdown table of docs/benchmarks.md: one table row per row and target.
    const md = await runBench(['--markdown', '--from', json as string]);
    expect(md.code, md.stderr).toBe(0);
    const tableRows = md.stdout.split('\n').filter((line) => line.startsWith('| '));
    for (const label of [...Object.values(ROW_LABELS), ...Object.values(TARGET_LABELS)]) {
      expect(tableRows.some((line) => line.startsWith(`| ${label.replace(/\|/g, '\\|')} |`)), `markdown row "${label}" missing`).toBe(true);
    }
    expect(md.stdout).toMatch(/^\d+ of \d+ targets pass\.$/m);
  });
});
