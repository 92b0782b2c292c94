// `npm run bundle` (part of `npm run build`): one file per program, from the compiled dist/.
//
// A program started as one file skips resolving and reading hundreds of modules, which was most
// of the gateway's and the console's start-up (issue "A script runs faster..."): every create
// starts a node, every script starts a console, `npm start` starts both. Bundles live in
// dist/bundle/ (the computing node in dist/computing/bundle/), one directory below dist/ like
// the modules they come from, so their paths relative to import.meta.url stay the same.
//
// Each program is two files: `<name>.cjs`, the program as one CommonJS-style script, and
// `<name>.js`, a small ES module loader that runs it through V8's code cache
// (lib/code-cache.ts): a start then reads back the functions an earlier run compiled instead of
// compiling its megabyte again (Node 20 caches no ES module code). The loader keeps the name
// every caller spawns or imports (`node dist/bundle/gateway.js`, bin/, control/process.ts).
import { readFileSync, rmSync } from 'node:fs';
import process from 'node:process';
import { build } from 'esbuild';

// Whitespace and syntax minified: V8 parses every byte of a bundle at start, and the console's
// and the gateway's bundles were a megabyte. Identifiers are kept, so that stack traces and CPU
// profiles read as the sources do.
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
};

// Packages loaded through createRequire (native zeromq, and what is loaded only when used: health,
// reflection, prom-client, pino-pretty) stay outside: esbuild does not follow createRequire.
// proto-loader (and protobufjs under it) is required by grpc-js only for channelz and ORCA,
// which arbor does not use: left outside, it is never read.
// A dynamic import() of our own modules becomes a lazy initialiser in the one file: its code is
// read with the rest (from the cache) but runs only when asked for, as before.
const program = {
  ...common,
  format: 'cjs',
  external: ['zeromq', '@grpc/proto-loader'],
  // The loader passes its own URL: paths relative to import.meta.url stay those of dist/bundle/x.js.
  define: { 'import.meta.url': '__arborImportMetaUrl' },
};

/** Program name → its compiled entry, where it goes, and the names its loader re-exports. */
const PROGRAMS = [
  { name: 'gateway', entry: 'dist/gateway/main.js', dir: 'dist/bundle', exports: [] },
  { name: 'arbor', entry: 'dist/clients/main.js', dir: 'dist/bundle', exports: ['main', 'runCli', 'runConsole'] },
  { name: 'agent', entry: 'dist/agent/main.js', dir: 'dist/bundle', exports: [] },
];

function loaderSource({ name, file, exports }, encoding) {
  const run = `runProgram(import.meta.url, ${JSON.stringify(name)}, ${JSON.stringify(`${file ?? name}.cjs`)}, ${JSON.stringify(encoding)})`;
  if (exports.length === 0) return `import { runProgram } from './dist/lib/code-cache.js';\n${run};\n`;
  return `import { runProgram } from './dist/lib/code-cache.js';\nconst program = ${run};\n${exports.map((e) => `export const ${e} = program.${e};`).join('\n')}\n`;
}

// The computing node stays one ES module: its bundle is small, and the loader's own modules
// (vm, crypto) cost a node's start more than its compile saves.
const node = { ...common, format: 'esm', entryPoints: ['dist/computing/main.js'], outfile: 'dist/computing/bundle/main.js' };

// `npm start`'s own program is small and spawns the gateway first thing: it stays one ES module
// (no loader, nothing compiled before the spawn), and the console it runs next (its dynamic
// import of clients/cli.js) is the console's program, dist/bundle/arbor.js, cached, loaded while
// the gateway boots.
const consoleProgram = {
  name: 'the console program',
  setup(b) {
    b.onResolve({ filter: /^\.\/cli\.js$/ }, (args) => (args.importer.endsWith('/clients/start.js') ? { path: './arbor.js', external: true } : undefined));
  },
};
const start = {
  ...common,
  format: 'esm',
  entryPoints: ['dist/clients/start.js'],
  outfile: 'dist/bundle/start.js',
  plugins: [consoleProgram],
  external: ['zeromq', '@grpc/proto-loader'],
  banner: { js: "import { createRequire as __arborCreateRequire } from 'node:module'; const require = __arborCreateRequire(import.meta.url);" },
};

// Stale chunks of an earlier layout must not linger.
for (const dir of ['dist/bundle', 'dist/computing/bundle']) rmSync(dir, { recursive: true, force: true });

/** Builds the program, then its loader: told to decode the program as latin1 when it is plain ASCII (cheaper than utf8). */
async function buildProgram(p) {
  const outfile = `${p.dir}/${p.file ?? p.name}.cjs`;
  await build({ ...program, entryPoints: [p.entry], outfile });
  const encoding = readFileSync(outfile).every((byte) => byte < 0x80) ? 'latin1' : 'utf8';
  await build({
    ...common,
    format: 'esm',
    stdin: { contents: loaderSource(p, encoding), resolveDir: process.cwd(), sourcefile: `${p.name}-loader.js`, loader: 'js' },
    outfile: `${p.dir}/${p.file ?? p.name}.js`,
  });
}

await Promise.all([build(node), build(start), ...PROGRAMS.map(buildProgram)]);
