/**
 * @module The link runtime shared by the control, the computing process and the agent: the wire
 * codec, the routing rule, the liveness rules, the control channel, the socket settings, the
 * link writer and the ROUTER side of a link, CURVE between hosts, and the agent link.
 */
export * from './codec.js';
export * from './routing.js';
export * from './link-writer.js';
export * from './sockets.js';
export * from './liveness.js';
export * from './peer-identity.js';
export * from './clock.js';
export * from './control-channel.js';
export * from './downlinks.js';
export * from './curve.js';
export * from './agent-link.js';
