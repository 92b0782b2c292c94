/** @module The public API of the control core (the gateway imports only this). */
export { Control } from './control.js';
export {
  DEFAULT_MAX_NODES,
  DEFAULT_POOL_SIZE,
  type CallOptions,
  type ControlOptions,
  type Created,
  type ExecResult,
  type NodeSnapshot,
  type PingResult,
  type TopologySnapshot,
} from './api.js';
export type { NodeState } from './node-handle.js';
export { DataDirError } from './data-dir.js';
export { type ClusterKeys, ClusterSecretError, loadClusterSecret } from '../computing/protocol/curve.js';
export { createLogger, LOG_LEVELS, type Logger, type LogLevel, silentLogger } from './logger.js';
export { ArborError, invalidArgument, type ErrorKind } from './errors.js';
export type { NodeEvent, NodeEventKind } from './events.js';
