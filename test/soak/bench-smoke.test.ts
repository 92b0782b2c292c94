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

function runQuick(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${REPO}dist/bench/run.js`, '--quick'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
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
    const { code, stdout, stderr } = await runQuick();
    expect(code, `stderr:\n${stderr}\nstdout:\n${stdout}`).toBe(0);
    for (const label of [...Object.values(ROW_LABELS), ...Object.values(TARGET_LABELS)]) {
      expect(stdout, `row "${label}" missing`).toContain(label);
    }
    expect(stdout).toMatch(/targets pass\./);
    expect(stdout).toMatch(/^JSON: .*bench\/results\/.*-quick\.json$/m);
  });
});
