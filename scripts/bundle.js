// `npm run bundle` (part of `npm run build`): one file per program, from the compiled dist/.
//
// A program started as one file skips resolving and reading hundreds of modules, which was most
// of the gateway's and the console's start-up (issue "A script runs faster..."): every create
// starts a node, every script starts a console, `npm start` starts both. Bundles live in
// dist/bundle/ (the computing node in dist/computing/bundle/), one directory below dist/ like
// the modules they come from, so their paths relative to import.meta.url stay the same.
import { build } from 'esbuild';

// Minified (names kept, for stack traces and profiles): V8 parses every byte of a bundle at
// start, and the console's and the gateway's bundles are a megabyte before minifying.
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', legalComments: 'none', minify: true, keepNames: true };

// Packages loaded through createRequire (native zeromq, and what is loaded only when used: health,
// reflection, prom-client, pino-pretty) stay outside: esbuild does not follow createRequire.
// proto-loader (and protobufjs under it) is required by grpc-js only for channelz and ORCA,
// which arbor does not use: left outside, it is never read.
// Bundled CommonJS packages (grpc-js) call require() for Node's modules: give the ES module one.
const programs = {
  ...common,
  entryPoints: { gateway: 'dist/gateway/main.js', arbor: 'dist/clients/main.js', start: 'dist/clients/start.js', agent: 'dist/agent/main.js' },
  outdir: 'dist/bundle',
  external: ['zeromq', '@grpc/proto-loader'],
  banner: { js: "import { createRequire as __arborCreateRequire } from 'node:module'; const require = __arborCreateRequire(import.meta.url);" },
};

const node = { ...common, entryPoints: ['dist/computing/main.js'], outfile: 'dist/computing/bundle/main.js' };

await Promise.all([build(programs), build(node)]);
