// `npm run build` (run by `npm install`, `npm start`, `npm test`, `npm run bench`): generate the
// API code, compile, declare the library's types, write the descriptor sets, bundle the programs and the web view; each step only when its inputs changed
// (when-changed.js), in one process (a nested `npm run` costs a third of a second each).
import { whenChanged } from './when-changed.js';

const SOURCES = ['proto', 'gateway', 'control', 'computing', 'link', 'agent', 'clients', 'lib', 'bench', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const COMPILED = ['dist/proto', 'dist/gateway', 'dist/control', 'dist/computing', 'dist/link', 'dist/agent', 'dist/clients', 'dist/lib'];

whenChanged(
  'generate',
  {
    inputs: ['proto/arbor', 'buf.yaml', 'buf.gen.yaml', 'node_modules/ts-proto/package.json', 'node_modules/@bufbuild/protoc-gen-es/package.json'],
    outputs: ['proto/gen/arbor/v1/arbor.ts', 'proto/gen-es/arbor/v1/arbor_pb.ts'],
  },
  'buf generate',
);
whenChanged('compile', { inputs: SOURCES, outputs: ['dist/gateway/main.js', 'dist/clients/main.js'] }, 'tsc -p tsconfig.build.json');
// The library's type declarations (package.json `exports`: `import { ArborClient } from 'arbor'`).
whenChanged(
  'declarations',
  { inputs: ['clients/lib', 'proto', 'tsconfig.json', 'tsconfig.lib.json', 'package-lock.json'], outputs: ['dist/clients/lib/index.d.ts'] },
  'tsc -p tsconfig.lib.json',
);
whenChanged(
  'descriptors',
  { inputs: ['proto/arbor', 'buf.yaml', 'node_modules/grpc-health-check/proto'], outputs: ['dist/descriptors/arbor.binpb', 'dist/descriptors/health.binpb'] },
  'mkdir -p dist/descriptors && buf build -o dist/descriptors/arbor.binpb && buf build node_modules/grpc-health-check/proto -o dist/descriptors/health.binpb',
);
whenChanged(
  'bundle',
  { inputs: [...COMPILED, 'scripts/bundle.js', 'package-lock.json'], outputs: ['dist/bundle/gateway.js', 'dist/bundle/arbor.js', 'dist/bundle/start.js', 'dist/computing/bundle/main.js'], skip: /\.map$|^bundle$/ },
  'node scripts/bundle.js',
);
whenChanged(
  'web',
  { inputs: ['clients', 'proto', 'package-lock.json', 'package.json'], outputs: ['dist/web/app.js', 'dist/web/index.html'] },
  'npm run --silent bundle:web',
);
