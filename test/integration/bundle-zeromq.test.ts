/**
 * zeromq in the program bundles (scripts/bundle.js, zeromqPlugin): the gateway (and the console)
 * require zeromq's addon by the path the build found, not the zeromq package (the computing
 * process loads the package: cheaper per message, scripts/bundle.js says why); a bundle
 * whose path does not lead to the addon falls back to the package and still runs.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runScript } from '../helpers/cli.js';
import { GATEWAY_MAIN, REPO } from '../helpers/gateway.js';

const NODE_MAIN = `${REPO}dist/computing/bundle/main.js`;
const GATEWAY_PROGRAM = `${REPO}dist/bundle/gateway.cjs`;
/** The bundled load of the addon: `exports.default = require("<relative path>/addon.node")` (minified). */
const FIXED_ADDON = /default=require\("(\.\.?\/[^"]*\.node)"\)/;

let root: string | undefined;
afterEach(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

/** A preload that prints, at exit, the files Node's CommonJS loader loaded (the program's own output comes first). */
function loadedFilesPreload(dir: string): string {
  const path = join(dir, 'loaded.cjs');
  writeFileSync(path, "process.on('exit', () => process.stdout.write(`LOADED ${JSON.stringify(Object.keys(require.cache))}\\n`));\n");
  return path;
}

function loadedFiles(lines: readonly string[]): string[] {
  const line = lines.find((l) => l.startsWith('LOADED '));
  expect(line, lines.join('\n')).toBeDefined();
  return JSON.parse((line as string).slice('LOADED '.length)) as string[];
}

describe('zeromq in the bundles', () => {
  it('the gateway loads the addon the build found, not the package; a computing process loads the package (cheaper per message)', async () => {
    root = mkdtempSync(join(tmpdir(), 'arbor-zmq-'));
    const env = { NODE_OPTIONS: `--require ${loadedFilesPreload(root)}` };
    expect(readFileSync(NODE_MAIN, 'utf8')).not.toMatch(FIXED_ADDON);

    // A spare with its stdin closed: it loads, says it waits for a claim, and exits.
    const node = await runScript(NODE_MAIN, [], '', env);
    expect(node.code).toBe(0);
    expect(node.lines[0]).toBe('{"t":"waiting"}');
    expect(loadedFiles(node.lines).some((f) => f.endsWith('/node_modules/zeromq/lib/index.js'))).toBe(true);

    const gateway = await runScript(GATEWAY_MAIN, ['--version'], '', env);
    expect(gateway.code).toBe(0);
    expect(gateway.lines[0]).toMatch(/^arbor-gateway \d/);
    const gatewayFiles = loadedFiles(gateway.lines);
    expect(gatewayFiles.some((f) => f.endsWith('.node') && f.includes('/zeromq/'))).toBe(true);
    expect(gatewayFiles.filter((f) => f.includes('/node_modules/zeromq/lib/'))).toEqual([]);
  });

  it('a bundle whose addon path leads nowhere falls back to the zeromq package', async () => {
    root = mkdtempSync(join(tmpdir(), 'arbor-zmq-'));
    const env = { NODE_OPTIONS: `--require ${loadedFilesPreload(root)}` };
    // The gateway's program bundle in a directory of its own, two levels down, with the
    // repository's node_modules beside: its relative addon path misses, the package is found.
    // (Its loader defines the module URL the program reads; the copy defines it itself.)
    const dir = join(root, 'a', 'b');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(root, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
    const source = `var __arborImportMetaUrl = require('node:url').pathToFileURL(__filename).href;\n${readFileSync(GATEWAY_PROGRAM, 'utf8')}`;
    const fixed = FIXED_ADDON.exec(source)?.[1] as string;
    writeFileSync(join(dir, 'main.js'), source.replace(fixed, './no-such-dir/addon.node'));

    const gateway = await runScript(join(dir, 'main.js'), ['--version'], '', env);
    expect(gateway.code, gateway.stderr).toBe(0);
    // (Away from the repository it cannot read its package.json: its version reads 'unknown'.)
    expect(gateway.lines[0]).toMatch(/^arbor-gateway /);
    expect(loadedFiles(gateway.lines).some((f) => f.endsWith('/node_modules/zeromq/lib/index.js'))).toBe(true);
  });
});
