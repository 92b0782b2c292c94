/**
 * @module The arbor client library: `import { ArborClient, ArborError } from 'arbor'`.
 *
 * It loads the generated API code and grpc-js, nothing of the gateway, the console or ZeroMQ
 * (dependency-cruiser's `library-is-lean` rule; test/integration/client-package.test.ts checks
 * the installed package).
 */
export { ArborClient } from './client.js';
export { ArborSession, type SessionOptions } from './session.js';
export { ArborError, ARBOR_ERROR_CODES, type ArborErrorCode } from './errors.js';
export type { EventStream } from './event-stream.js';
export type {
  ArborClientOptions,
  ArborCommands,
  CallOptions,
  CreatedNode,
  CreateOptions,
  KeyEntry,
  KeyEvent,
  KeyEventKind,
  KeysOptions,
  KeysPage,
  KeysPageOptions,
  NodeEvent,
  NodeEventKind,
  NodeInfo,
  NodeState,
  Topology,
  WatchKeysOptions,
} from './types.js';
