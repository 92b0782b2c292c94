/**
 * The programs' V8 code cache (lib/code-cache.ts) on the real console bundle: written once into
 * a private directory, then used; a corrupt file is ignored (the program runs as without one)
 * and replaced; a directory others may write into is not used at all.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_MAIN } from '../helpers/gateway.js';
import { runScript } from '../helpers/cli.js';

let root: string | undefined;
afterEach(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

const version = async (dir: string): Promise<void> => {
  const run = await runScript(CLI_MAIN, ['--version'], '', { ARBOR_CODE_CACHE: dir });
  expect(run.code).toBe(0);
  expect(run.lines[0]).toMatch(/^arbor \d/);
  expect(run.stderr).toBe('');
};
const files = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.v8'));

describe('code cache', () => {
  it('is written once, private, then read back; a corrupt file is ignored and replaced', async () => {
    root = mkdtempSync(join(tmpdir(), 'arbor-cc-'));
    const dir = join(root, 'cache');
    await version(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const [file] = files(dir);
    expect(file).toMatch(/^arbor-/);
    const path = join(dir, file as string);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const written = readFileSync(path);

    // Used, not written again.
    const mtime = statSync(path).mtimeMs;
    await version(dir);
    expect(statSync(path).mtimeMs).toBe(mtime);

    // V8 takes a corrupt payload without a word: the file's own hash must refuse it.
    const corrupt = Buffer.from(written);
    for (let i = 100; i < corrupt.length; i += 997) corrupt[i] = (corrupt[i] ?? 0) ^ 0xa5;
    writeFileSync(path, corrupt);
    await version(dir);
    expect(readFileSync(path).equals(corrupt)).toBe(false);
    expect(readFileSync(path).subarray(0, 8).toString('latin1')).toBe('ARBORCC1');
  });

  it('is not used in a directory others may write into', async () => {
    root = mkdtempSync(join(tmpdir(), 'arbor-cc-'));
    const open = join(root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    await version(open);
    expect(files(open)).toEqual([]);
  });
});
