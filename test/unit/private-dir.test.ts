/**
 * The private-directory rule (lib/private-dir.ts): the pure verdict on an owner and a mode, and
 * ensurePrivateDir on real directories (made 0700 with its parents; found ones refused when
 * another user owns them or group or others can write into them, and left as they were).
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ensurePrivateDir, PrivateDirError, privateDirProblem } from '../../lib/private-dir.js';

const DIR = 0o040000;
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
const tmp = (): string => (dir = mkdtempSync(join(tmpdir(), 'arbor-private-')));
const modeOf = (path: string): number => statSync(path).mode & 0o7777;

describe('privateDirProblem', () => {
  it('accepts exactly the directories of this user that group and others cannot write', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 0, max: 0o7777 }), fc.boolean(), (owner, uid, mode, isDirectory) => {
        const problem = privateDirProblem('/d', { uid: owner, mode: DIR | mode, isDirectory }, uid);
        const ok = isDirectory && owner === uid && (mode & 0o022) === 0;
        expect(problem === undefined).toBe(ok);
        // A refusal names the path; one about owner or mode names what was found and a fix.
        if (problem !== undefined) expect(problem).toContain('/d');
        if (problem !== undefined && isDirectory) {
          expect(problem).toContain(`owner uid ${owner}`);
          expect(problem).toContain(`mode 0${mode.toString(8).padStart(3, '0')}`);
          expect(problem).toContain('Fix:');
        }
      }),
    );
  });

  it('says chmod for an open mode, and not to reuse a directory of another user', () => {
    expect(privateDirProblem('/srv/a', { uid: 7, mode: DIR | 0o777, isDirectory: true }, 7)).toBe(
      '/srv/a is not a private directory: found owner uid 7, mode 0777; it must belong to uid 7 and not be writable by group or others (0700). Fix: chmod 700 /srv/a',
    );
    const names = (uid: number): string | undefined => ({ 0: 'root', [NOBODY]: 'nobody' })[uid];
    expect(privateDirProblem('/srv/a', { uid: NOBODY, mode: DIR | 0o700, isDirectory: true }, 0, names)).toBe(
      "/srv/a is not a private directory: found owner uid 65534 (nobody), mode 0700; it must belong to uid 0 (root) and not be writable by group or others (0700). Fix: remove it (its content may be someone else's) and it is created again, or choose another directory",
    );
    expect(privateDirProblem('/srv/a', { uid: 0, mode: 0o100600, isDirectory: false }, 0)).toBe('/srv/a is not a directory: remove it or choose another directory');
    // Readable by others is the owner's choice; only writing decides what the nodes read back.
    expect(privateDirProblem('/srv/a', { uid: 0, mode: DIR | 0o755, isDirectory: true }, 0)).toBeUndefined();
  });
});

describe('ensurePrivateDir', () => {
  it('creates a missing directory and its missing parents 0700', () => {
    const base = tmp();
    const path = join(base, 'state', 'arbor-agent', 'b');
    ensurePrivateDir(path);
    for (const p of [join(base, 'state'), join(base, 'state', 'arbor-agent'), path]) expect(modeOf(p)).toBe(0o700);
    ensurePrivateDir(path); // found as made: accepted
  });

  it('refuses a directory that group or others can write, naming path, owner, mode and fix, and leaves it as it was', () => {
    const path = join(tmp(), 'open');
    mkdirSync(path);
    chmodSync(path, 0o777);
    expect(() => ensurePrivateDir(path)).toThrow(PrivateDirError);
    expect(() => ensurePrivateDir(path)).toThrow(new RegExp(`^${path} is not a private directory: found owner uid \\d+.*mode 0777.*Fix: chmod 700 ${path}$`));
    expect(modeOf(path)).toBe(0o777);
    chmodSync(path, 0o775);
    expect(() => ensurePrivateDir(path)).toThrow(/mode 0775/);
  });

  it.skipIf(!isRoot)("refuses another user's directory, whatever its mode (needs root for chown)", () => {
    const path = join(tmp(), 'theirs');
    mkdirSync(path, { mode: 0o700 });
    chownSync(path, NOBODY, NOBODY);
    expect(() => ensurePrivateDir(path)).toThrow(/found owner uid 65534 \(nobody\), mode 0700; it must belong to uid 0 \(root\)/);
  });

  it('refuses a file in the way, and a path it cannot create', () => {
    const base = tmp();
    writeFileSync(join(base, 'file'), '');
    expect(() => ensurePrivateDir(join(base, 'file'))).toThrow(`${join(base, 'file')} is not a directory`);
    expect(() => ensurePrivateDir(join(base, 'file', 'sub'))).toThrow(`cannot use ${join(base, 'file', 'sub')}: a part of the path is not a directory (ENOTDIR)`);
  });
});
