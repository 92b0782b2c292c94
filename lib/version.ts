/**
 * @module The package version, read from `package.json` so it is stated in one place.
 *
 * The file is found by walking up from this module, because it runs both as `lib/*.ts`
 * (tests), as `dist/lib/*.js` and inside the bundles of `dist/bundle/` (the bins), at different depths.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'arbor';

/** The `version` of the arbor `package.json` above this module, or `unknown` if none is found. */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = readManifest(join(dir, 'package.json'));
    if (manifest?.name === PACKAGE_NAME && typeof manifest.version === 'string') return manifest.version;
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

function readManifest(path: string): { name?: unknown; version?: unknown } | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** What `--version` prints for `program`: the package's version and Node's, e.g. `arbor-gateway 0.1.0 (Node.js v20.20.2)`. */
export function versionLine(program: string): string {
  return `${program} ${packageVersion()} (Node.js ${process.version})`;
}
