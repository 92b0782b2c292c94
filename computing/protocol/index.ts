/** @module What the control may use of the computing side: the wire codec, the control channel, the routing rule, the link writer. */
export * from './codec.js';
export * from './routing.js';
export * from './link-writer.js';
export * from './sockets.js';
export * from './peer-watch.js';
export * from './peer-identity.js';
export * from './clock.js';
export * from './control-channel.js';
export * from './downlinks.js';
export * from './curve.js';
export * from './agent-link.js';
