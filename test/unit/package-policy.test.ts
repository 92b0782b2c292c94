/**
 * package.json's install-script policy and Node range (issue 28, "Operations"), against the
 * lockfile: every dependency with an install script is reviewed in `allowScripts` (npm 11 warns
 * about the others, and a later npm skips them), and `engines.node` is a range every locked
 * package accepts, but for the build-time tools whose range is only a support statement.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/gateway.js';

interface Locked {
  dev?: boolean;
  optional?: boolean;
  hasInstallScript?: boolean;
  engines?: { node?: string };
}
const manifest = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { engines: { node: string }; allowScripts: Record<string, boolean> };
const lock = JSON.parse(readFileSync(`${REPO}package-lock.json`, 'utf8')) as { packages: Record<string, Locked> };
const locked = Object.entries(lock.packages)
  .filter(([path]) => path !== '')
  .map(([path, entry]) => ({ name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), ...entry }));
// semver comes with the toolchain (typescript-eslint, dependency-cruiser), not as a dependency of ours.
const semver = createRequire(import.meta.url)('semver') as { subset: (sub: string, dom: string) => boolean };

/**
 * Build-time tools whose `engines` range is narrower than ours, and why that is fine. Each must
 * be a devDependency only (never installed with the published package).
 */
const NARROWER_ENGINES: Record<string, string> = {
  // >=22 since protobuf-es dropped Node 20 from its CI at Node 20's end of life (protobuf-es#1488:
  // "doesn't mean it will stop working right away"). It generates proto/gen-es/ in `npm run
  // build` and runs on Node 20: the generated code is what every test compiles and runs.
  '@bufbuild/protoc-gen-es': '>=22',
};

describe('package.json', () => {
  it('allowScripts covers exactly the locked packages that have install scripts', () => {
    const withScripts = [...new Set(locked.filter((p) => p.hasInstallScript === true).map((p) => p.name))].sort();
    expect(Object.keys(manifest.allowScripts).map((key) => key.replace(/(.)@.*$/, '$1')).sort()).toEqual(withScripts);
  });

  it('engines.node is within every locked package\'s range, but for the listed build-time tools', () => {
    const narrower = locked
      .filter((p) => p.engines?.node !== undefined && !semver.subset(manifest.engines.node, p.engines.node))
      .map((p) => ({ name: p.name, node: p.engines?.node, devOnly: p.dev === true }));
    expect(narrower).toEqual(Object.entries(NARROWER_ENGINES).map(([name, node]) => ({ name, node, devOnly: true })));
  });
});
