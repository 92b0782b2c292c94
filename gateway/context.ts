/** @module What every handler of the gateway needs, built once per server. */
import type { Control, Logger } from '../control/index.js';
import type { CallMetrics } from './call-metrics.js';
import type { StreamRegistry } from './stream-registry.js';

export interface GatewayContext {
  control: Control;
  metrics: CallMetrics;
  log: Logger;
  streams: StreamRegistry;
  /** Events a Watch subscriber may fall behind (see limits.ts). */
  watchBuffer: number;
  /** What is open right now, checked against limits.ts. */
  load: { unary: number; watchers: number };
}
