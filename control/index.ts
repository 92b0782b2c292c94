/** @module The public API of the control core (the gateway imports only this). */
export { Control, type CallOptions, type ControlOptions, type Created, type ExecResult, type PingResult } from './control.js';
export { ArborError, invalidArgument, type ErrorKind } from './errors.js';
export type { NodeEvent, NodeEventKind } from './events.js';
