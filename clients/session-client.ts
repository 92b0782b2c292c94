/**
 * @module The console's side of a `Session` stream: the library's multiplexer (one in the project).
 */
export { SessionClient, SessionClosedError, type SessionClientOptions } from './lib/session-stream.js';
