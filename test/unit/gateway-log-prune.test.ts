import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultLogFile, KEPT_LOGS, logsToPrune } from '../../clients/gateway-log.js';

describe("npm start's default gateway logs", () => {
  it('keeps the newest `keep` logs and never chooses a file of another name', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: fc.oneof(fc.nat(99_999).map((n) => `gateway-${n}.log`), fc.string()), mtimeMs: fc.nat(1_000) }), { maxLength: 40 }),
        fc.nat(15),
        (files, keep) => {
          const unique = [...new Map(files.map((f) => [f.name, f])).values()];
          const pruned = logsToPrune(unique, keep);
          const logs = unique.filter((f) => /^gateway-\d+\.log$/.test(f.name));
          expect(pruned.length).toBe(Math.max(0, logs.length - keep));
          for (const name of pruned) expect(name).toMatch(/^gateway-\d+\.log$/);
          const kept = logs.filter((f) => !pruned.includes(f.name));
          const newestPruned = Math.max(-1, ...logs.filter((f) => pruned.includes(f.name)).map((f) => f.mtimeMs));
          for (const file of kept) expect(file.mtimeMs).toBeGreaterThanOrEqual(newestPruned);
        },
      ),
    );
  });

  it('a new run deletes the oldest logs beyond the kept number, and nothing else', () => {
    const base = mkdtempSync(join(tmpdir(), 'arbor-log-prune-'));
    try {
      const dir = join(base, 'arbor');
      defaultLogFile({ XDG_RUNTIME_DIR: base }); // makes the private dir
      for (let i = 0; i < KEPT_LOGS + 5; i++) {
        const file = join(dir, `gateway-${1000 + i}.log`);
        writeFileSync(file, 'x');
        utimesSync(file, 1_000 + i, 1_000 + i);
      }
      writeFileSync(join(dir, 'notes.txt'), 'mine');
      const path = defaultLogFile({ XDG_RUNTIME_DIR: base });
      writeFileSync(path, 'new');
      const left = readdirSync(dir).sort();
      expect(left).toContain('notes.txt');
      const logs = left.filter((name) => name.startsWith('gateway-'));
      expect(logs).toHaveLength(KEPT_LOGS);
      expect(logs).not.toContain('gateway-1000.log');
      expect(logs).toContain(`gateway-${1000 + KEPT_LOGS + 4}.log`);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
