// `npm run bundle` (part of `npm run build`): one file per program, from the compiled dist/.
//
// A program started as one file skips resolving and reading hundreds of modules, which was most
// of the gateway's and the console's start-up (issue "A script runs faster..."): every create
// starts a node, every script starts a console, `npm start` starts both. Bundles live in
// dist/bundle/ (the computing node in dist/computing/bundle/), one directory below dist/ like
// the modules they come from, so their paths relative to import.meta.url stay the same.
//
// Each program is two files: `<name>.cjs`, the program as one CommonJS-style script, and
// `<name>.js`, a small CommonJS loader that runs it through V8's code cache
// (lib/code-cache.ts): a start then reads back the functions an earlier run compiled instead of
// compiling its megabyte again (Node 20 caches no ES module code). The loader keeps the name
// every caller spawns or imports (`node dist/bundle/gateway.js`, bin/, control/process.ts).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
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

// Packages loaded through createRequire (what is loaded only when used: health, reflection,
// prom-client, pino-pretty) stay outside: esbuild does not follow createRequire. zeromq is the
// exception (zeromqPlugin below). proto-loader (and protobufjs under it) is required by grpc-js
// only for channelz and ORCA, which arbor does not use: left outside, it is never read.
// A dynamic import() of our own modules becomes a lazy initialiser in the one file: its code is
// read with the rest (from the cache) but runs only when asked for, as before.
const program = {
  ...common,
  format: 'cjs',
  external: ['zeromq', '@grpc/proto-loader'],
  // The loader passes its own URL: paths relative to import.meta.url stay those of dist/bundle/x.js.
  define: { 'import.meta.url': '__arborImportMetaUrl' },
};

/*
 * zeromq in the bundles: every program that makes sockets (the gateway, each computing process,
 * the agent) loaded zeromq.js from node_modules at every start: Node resolving and reading its
 * modules, then its loader (cmake-ts) reading and parsing a manifest of every prebuilt addon to
 * pick one, when requiring the addon itself costs next to nothing. So lib/zeromq.js, the one
 * module of ours that loads zeromq, becomes: zeromq's JavaScript bundled with the program (read
 * from the code cache with the rest), its addon required by the path this build found it at
 * (the one cmake-ts picks on this machine: the first in its own order that loads), relative to
 * the bundle. When that path is not there or does not load (another platform or libc, a
 * node_modules laid out otherwise), the program requires the zeromq package as before.
 */
const requireHere = createRequire(import.meta.url);

/** The addon file cmake-ts loads here, with the platform it was picked for; undefined when not found. */
function zeromqAddon() {
  const before = new Set(Object.keys(requireHere.cache));
  requireHere('zeromq');
  const file = Object.keys(requireHere.cache).find((f) => f.endsWith('.node') && !before.has(f) && f.includes('/zeromq/'));
  return file === undefined ? undefined : { file, platform: `${process.platform}-${process.arch}-${libc()}` };
}

/** cmake-ts's libc test (its loader's, on every start). */
function libc() {
  if (process.platform !== 'linux') return process.platform;
  return existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
}

const ZEROMQ_ADDON = zeromqAddon();
const ZEROMQ_INDEX = requireHere.resolve('zeromq');

/** The plugin for a bundle written to `outfile` (the addon's path is relative to it). */
function zeromqPlugin(outfile) {
  const rel = ZEROMQ_ADDON === undefined ? undefined : relative(dirname(resolve(outfile)), ZEROMQ_ADDON.file);
  const addonPath = rel === undefined ? undefined : rel.startsWith('.') ? rel : `./${rel}`;
  return {
    name: 'zeromq, bundled',
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/]lib[\\/]zeromq\.js$/ }, () => ({
        contents: [
          'let zmq;',
          "try { zmq = require('arbor-bundled-zeromq'); } catch { zmq = require('zeromq'); }",
          'export { zmq };',
        ].join('\n'),
        loader: 'js',
      }));
      b.onResolve({ filter: /^arbor-bundled-zeromq$/ }, () => ({ path: ZEROMQ_INDEX }));
      b.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, external: true }));
      b.onLoad({ filter: /[\\/]zeromq[\\/]lib[\\/]load-addon\.js$/ }, () => ({
        contents:
          addonPath === undefined
            ? "throw new Error('the build found no zeromq addon');"
            : [
                "const libc = process.platform !== 'linux' ? process.platform : require('node:fs').existsSync('/etc/alpine-release') ? 'musl' : 'glibc';",
                `if (\`\${process.platform}-\${process.arch}-\${libc}\` !== ${JSON.stringify(ZEROMQ_ADDON.platform)}) throw new Error('the zeromq addon was picked for another platform');`,
                'Object.defineProperty(exports, "__esModule", { value: true });',
                `exports.default = require(${JSON.stringify(addonPath)});`,
              ].join('\n'),
        loader: 'js',
      }));
    },
  };
}

/*
 * grpc-js asks Node's `net.isIPv6` of every address it binds or connects to (the gateway's
 * listen, the console's connect). Node's IPv6 pattern is a regular expression so large that its
 * first use compiles for milliseconds, and its second compiles it again to machine code: a
 * share of every start of both programs, for "127.0.0.1". Every IPv6 address has a colon, so in
 * grpc-js's modules `isIPv6(s)` becomes `String(s).includes(':') && isIPv6(s)`: the same answer,
 * and an IPv4 address or a host name never reaches the pattern.
 */
let isIpv6Patched = 0;
function grpcIsIpv6Plugin() {
  return {
    name: 'grpc-js isIPv6, colon first',
    setup(b) {
      b.onLoad({ filter: /[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/][^\\/]+\.js$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const call = '(0, net_1.isIPv6)(';
        if (!source.includes(call)) return undefined;
        isIpv6Patched++;
        return {
          contents: `${source.replaceAll(call, '(0, __arborIsIPv6)(')}\nfunction __arborIsIPv6(s) { return String(s).includes(':') && (0, net_1.isIPv6)(s); }\n`,
          loader: 'js',
        };
      });
    },
  };
}

/** Program name → its compiled entry, where it goes, and the names its loader re-exports. */
const PROGRAMS = [
  { name: 'gateway', entry: 'dist/gateway/main.js', dir: 'dist/bundle', exports: [] },
  { name: 'arbor', entry: 'dist/clients/main.js', dir: 'dist/bundle', exports: ['main', 'runCli', 'runConsole'] },
  { name: 'agent', entry: 'dist/agent/main.js', dir: 'dist/bundle', exports: [] },
];

function loaderSource({ name, file, exports }, encoding) {
  const run = `runProgram(require('node:url').pathToFileURL(__filename).href, ${JSON.stringify(name)}, ${JSON.stringify(`${file ?? name}.cjs`)}, ${JSON.stringify(encoding)})`;
  if (exports.length === 0) return `const { runProgram } = require('./dist/lib/code-cache.js');\n${run};\n`;
  return `const { runProgram } = require('./dist/lib/code-cache.js');\nconst program = ${run};\n${exports.map((e) => `exports.${e} = program.${e};`).join('\n')}\n`;
}

/*
 * Every file in dist/bundle/ and dist/computing/bundle/ is CommonJS (a package.json there says
 * so, keeping the names `.js` that callers spawn and import): a process whose main script is
 * CommonJS never starts Node's ES module loader (its module jobs, and a facade module for each
 * built-in imported), a few milliseconds of every start of every program. `import.meta.url`
 * becomes the file's own URL, as it was. Strict mode too.
 */
const COMMONJS_PACKAGE = `${JSON.stringify({ type: 'commonjs' })}\n`;
const importMetaUrl = {
  define: { 'import.meta.url': '__arborImportMetaUrl' },
  // Strict, as the ES modules were: the directive must come first.
  banner: { js: "'use strict'; var __arborImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};

// The computing node has no loader: its bundle is small, and the loader's own modules (vm,
// crypto) cost a node's start more than its compile saves.
const node = {
  ...common,
  ...importMetaUrl,
  format: 'cjs',
  entryPoints: ['dist/computing/main.js'],
  outfile: 'dist/computing/bundle/main.js',
  // The zeromq package as it is (no zeromqPlugin): with zeromq's JavaScript bundled, a node spent
  // about 20 % more CPU per message (Session stores 28-29k/s against 35k/s, same machine, A/B);
  // the plugin's start-up saving is kept for the gateway and the console.
  external: ['zeromq'],
};

// `npm start`'s own program is small and spawns the gateway first thing: it has no loader
// (nothing compiled before the spawn), and the console it runs next (its dynamic import of
// clients/cli.js, a require here) is the console's program, dist/bundle/arbor.js, cached, loaded
// while the gateway boots.
const consoleProgram = {
  name: 'the console program',
  setup(b) {
    b.onResolve({ filter: /^\.\/cli\.js$/ }, (args) => (args.importer.endsWith('/clients/start.js') ? { path: './arbor.js', external: true } : undefined));
  },
};
const start = {
  ...common,
  ...importMetaUrl,
  format: 'cjs',
  supported: { 'dynamic-import': false },
  entryPoints: ['dist/clients/start.js'],
  outfile: 'dist/bundle/start.js',
  plugins: [consoleProgram],
  external: ['zeromq', '@grpc/proto-loader'],
};

// Stale chunks of an earlier layout must not linger.
for (const dir of ['dist/bundle', 'dist/computing/bundle']) rmSync(dir, { recursive: true, force: true });

/** Builds the program, then its loader: told to decode the program as latin1 when it is plain ASCII (cheaper than utf8). */
async function buildProgram(p) {
  const outfile = `${p.dir}/${p.file ?? p.name}.cjs`;
  await build({ ...program, entryPoints: [p.entry], outfile, plugins: [zeromqPlugin(outfile), grpcIsIpv6Plugin()] });
  const encoding = readFileSync(outfile).every((byte) => byte < 0x80) ? 'latin1' : 'utf8';
  await build({
    ...common,
    format: 'cjs',
    banner: { js: "'use strict';" },
    stdin: { contents: loaderSource(p, encoding), resolveDir: process.cwd(), sourcefile: `${p.name}-loader.js`, loader: 'js' },
    outfile: `${p.dir}/${p.file ?? p.name}.js`,
  });
}

await Promise.all([build(node), build(start), ...PROGRAMS.map(buildProgram)]);
for (const dir of ['dist/bundle', 'dist/computing/bundle']) writeFileSync(`${dir}/package.json`, COMMONJS_PACKAGE);
if (isIpv6Patched === 0) process.stderr.write('scripts/bundle.js: grpc-js calls net.isIPv6 otherwise now: the colon-first check (grpcIsIpv6Plugin) is not applied\n');
