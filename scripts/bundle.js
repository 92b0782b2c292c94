// `npm run bundle` (part of `npm run build`): one file per program, from the compiled dist/.
//
// A program started as one file skips resolving and reading hundreds of modules, which was most
// of the gateway's and the console's start-up (issue "A script runs faster..."): every create
// starts a node, every script starts a console, `npm start` starts both. Bundles live in
// dist/bundle/ (the computing node in dist/computing/bundle/), one directory below dist/ like
// the modules they come from, so their paths relative to import.meta.url stay the same.
import { build } from 'esbuild';

// Whitespace and syntax minified: V8 parses every byte of a bundle at start, and the console's
// and the gateway's bundles were a megabyte. Identifiers are kept, so that stack traces and CPU
// profiles read as the sources do.
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
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
// Bundled CommonJS packages (grpc-js) call require() for Node's modules: give the ES module one.
const programs = {
  ...common,
  entryPoints: { gateway: 'dist/gateway/main.js', arbor: 'dist/clients/main.js', start: 'dist/clients/start.js', agent: 'dist/agent/main.js' },
  outdir: 'dist/bundle',
  // The code the programs share goes into chunks, and a dynamic import() stays one: npm start's
  // own program is then a few kilobytes, read before the gateway is spawned; the console's
  // modules load afterwards, while the gateway boots.
  splitting: true,
  // Beside the entries, not below: paths relative to import.meta.url must stay one level under dist/.
  chunkNames: '[name]-[hash]',
  external: ['zeromq', '@grpc/proto-loader'],
  banner: { js: "import { createRequire as __arborCreateRequire } from 'node:module'; const require = __arborCreateRequire(import.meta.url);" },
};

const node = { ...common, entryPoints: ['dist/computing/main.js'], outfile: 'dist/computing/bundle/main.js' };

await Promise.all([build(programs), build(node)]);
