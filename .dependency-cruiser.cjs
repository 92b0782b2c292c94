/**
 * The layers' dependency rules (`npm run lint` runs them): dependencies point one way.
 *   proto ← clients/lib ← clients;  proto ← gateway → control → link ← computing;  link ← agent;  lib ← anyone
 * link/ is the runtime the control, the computing process and the agent share (wire codec,
 * routing rule, liveness rules, control channel, sockets). Tests and the benchmark may use anything.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No import cycles.', from: {}, to: { circular: true } },
    {
      name: 'computing-is-lean',
      severity: 'error',
      comment: 'The node program imports nothing of the control, the gateway, the clients or the agent.',
      from: { path: '^computing/' },
      to: { path: '^(control|gateway|clients|agent|proto|bench|test)/|@grpc|pino' },
    },
    {
      name: 'link-is-shared',
      severity: 'error',
      comment: 'The link runtime is shared by the control, the node and the agent: it imports none of them (lib/ only).',
      from: { path: '^link/' },
      to: { path: '^(control|gateway|computing|clients|agent|proto|bench|test)/|@grpc|pino' },
    },
    {
      name: 'gateway-uses-control-index',
      severity: 'error',
      comment: "The gateway uses only the control's public index.",
      from: { path: '^gateway/' },
      to: { path: '^control/', pathNot: '^control/index\\.ts$' },
    },
    {
      name: 'gateway-not-computing',
      severity: 'error',
      comment: 'The gateway talks to the control, never to the nodes or their links.',
      from: { path: '^gateway/' },
      to: { path: '^(computing|link|clients|agent)/' },
    },
    {
      name: 'control-below-gateway',
      severity: 'error',
      comment: 'The control has no gRPC side: it imports neither the gateway nor the clients.',
      from: { path: '^control/' },
      to: { path: '^(gateway|clients|proto)/|@grpc' },
    },
    {
      name: 'control-not-the-node',
      severity: 'error',
      comment: 'Of the computing side, the control uses only the shared link runtime.',
      from: { path: '^control/' },
      to: { path: '^(computing|agent)/' },
    },
    {
      name: 'agent-uses-shared-link',
      severity: 'error',
      comment: 'The agent (arbor-agent) runs computing processes for a control elsewhere: it uses the link runtime and lib/ only, no control, gateway, gRPC or node internals.',
      from: { path: '^agent/' },
      to: { path: '^(control|gateway|clients|proto|computing|bench|test)/|@grpc' },
    },
    {
      name: 'nothing-imports-the-agent',
      severity: 'error',
      comment: 'The agent is a program of its own.',
      from: { path: '^(control|gateway|computing|link|clients|lib|proto)/' },
      to: { path: '^agent/' },
    },
    {
      name: 'clients-only-proto',
      severity: 'error',
      comment: 'Clients know the public API only.',
      from: { path: '^clients/' },
      to: { path: '^(control|gateway|computing|link)/' },
    },
    {
      name: 'library-is-lean',
      severity: 'error',
      comment:
        "The client library (`import { ArborClient } from 'arbor'`) loads the generated API code and grpc-js only: nothing of the console, the gateway, ZeroMQ or the logger.",
      from: { path: '^clients/lib/' },
      to: { dependencyTypesNot: ['core'], pathNot: '^(clients/lib|proto)/|^node_modules/@grpc/grpc-js/' },
    },
    {
      name: 'proto-is-a-leaf',
      severity: 'error',
      comment: 'The API depends on nothing of ours.',
      from: { path: '^proto/' },
      to: { path: '^(control|gateway|computing|link|clients|lib)/' },
    },
    {
      name: 'lib-is-a-leaf',
      severity: 'error',
      comment: 'lib/ holds helpers any layer may import; it imports nothing of ours.',
      from: { path: '^lib/' },
      to: { path: '^(control|gateway|computing|link|clients|proto)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|proto/gen|proto/gen-es)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
