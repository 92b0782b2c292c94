/** @module The public API of the control core (the gateway imports only this). */
export { Control } from './control.js';
export {
  DEFAULT_MAX_NODES,
  DEFAULT_POOL_SIZE,
  type CallOptions,
  type ControlOptions,
  type Created,
  type DownCause,
  type DeleteResult,
  type ExecResult,
  type KeyEvent,
  type KeyEventListener,
  type KeysResult,
  type NodeEvent,
  type NodeEventKind,
  type NodeSnapshot,
  type PingResult,
  type TopologySnapshot,
} from './api.js';
export type { NodeState } from './node.js';
export { DataDirError } from './storage.js';
export { type ClusterKeys, ClusterSecretError, loadClusterSecret } from '../link/index.js';
export { createLogger, LOG_LEVELS, type Logger, type LogLevel, silentLogger } from '../lib/logger.js';
export { ArborError, cancelled, deadlineExceeded, invalidArgument, type ErrorKind } from './errors.js';
