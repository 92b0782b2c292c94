/** @module What every handler of the gateway needs, built once per server. */
import type { Control, Logger } from '../control/index.js';
import type { CallMetrics } from './call-metrics.js';
import type { EventBacklog } from './event-backlog.js';
import type { StreamRegistry } from './stream-registry.js';

export interface GatewayContext {
  control: Control;
  metrics: CallMetrics;
  log: Logger;
  streams: StreamRegistry;
  /** The last events, for a Watch that asks for them. */
  backlog: EventBacklog;
  /** Events a Watch subscriber may fall behind (see limits.ts). */
  watchBuffer: number;
  /** What is open right now, checked against limits.ts. */
  load: { unary: number; watchers: number };
}
