/**
 * The layers' dependency rules (`npm run lint` runs them): dependencies point one way.
 *   proto ← clients;  proto ← gateway → control → computing/protocol ← computing;  lib ← anyone
 *   agent → computing/protocol (the agent is the computing side's, on another host)
 * Tests and the benchmark may use anything.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No import cycles.', from: {}, to: { circular: true } },
    {
      name: 'computing-is-lean',
      severity: 'error',
      comment: 'The node program imports nothing of the control, the gateway or the clients.',
      from: { path: '^computing/' },
      to: { path: '^(control|gateway|clients|bench|test)/' },
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
      comment: 'The gateway talks to the control, never to the nodes.',
      from: { path: '^gateway/' },
      to: { path: '^(computing|clients)/' },
    },
    {
      name: 'control-below-gateway',
      severity: 'error',
      comment: 'The control has no gRPC side: it imports neither the gateway nor the clients.',
      from: { path: '^control/' },
      to: { path: '^(gateway|clients|proto)/|@grpc' },
    },
    {
      name: 'control-uses-shared-protocol',
      severity: 'error',
      comment: 'Of the computing side, the control uses only the shared protocol module.',
      from: { path: '^control/' },
      to: { path: '^computing/', pathNot: '^computing/protocol/' },
    },
    {
      name: 'agent-uses-shared-protocol',
      severity: 'error',
      comment: 'The agent (arbor-agent) runs computing processes for a control elsewhere: it uses the shared protocol and lib/ only, no control, gateway, gRPC or node internals.',
      from: { path: '^agent/' },
      to: { path: '^(control|gateway|clients|proto|bench|test)/|^computing/(?!protocol/)|@grpc' },
    },
    {
      name: 'nothing-imports-the-agent',
      severity: 'error',
      comment: 'The agent is a program of its own.',
      from: { path: '^(control|gateway|computing|clients|lib|proto)/' },
      to: { path: '^agent/' },
    },
    {
      name: 'clients-only-proto',
      severity: 'error',
      comment: 'Clients know the public API only.',
      from: { path: '^clients/' },
      to: { path: '^(control|gateway|computing)/' },
    },
    {
      name: 'proto-is-a-leaf',
      severity: 'error',
      comment: 'The API depends on nothing of ours.',
      from: { path: '^proto/' },
      to: { path: '^(control|gateway|computing|clients|lib)/' },
    },
    {
      name: 'lib-is-a-leaf',
      severity: 'error',
      comment: 'lib/ holds helpers any layer may import; it imports nothing of ours.',
      from: { path: '^lib/' },
      to: { path: '^(control|gateway|computing|clients|proto)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|proto/gen|proto/gen-es)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
