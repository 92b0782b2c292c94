/**
 * @module The gateway's resource bounds, in one place (docs/operations.md, "Limits and failure
 * behaviour", lists them).
 */

/** Commands one Session may have in flight; beyond it the gateway stops reading that stream (backpressure). */
export const SESSION_MAX_IN_FLIGHT = 4096;
/** An API limit (proto/limits.ts); it also bounds how far one message can push a session past SESSION_MAX_IN_FLIGHT. */
export { SESSION_MAX_BATCH } from '../proto/limits.js';
/** Unary calls in flight over all clients; beyond it calls get RESOURCE_EXHAUSTED. */
export const UNARY_MAX_IN_FLIGHT = 10_000;
/** Watch streams at once; beyond it Watch gets RESOURCE_EXHAUSTED. */
export const MAX_WATCHERS = 1000;
/** Events one Watch subscriber may fall behind before its stream ends with RESOURCE_EXHAUSTED. */
export const DEFAULT_WATCH_BUFFER = 1024;
/**
 * Largest request accepted (grpc-js refuses bigger ones with RESOURCE_EXHAUSTED). A full batch of
 * SESSION_MAX_BATCH stores with 255-byte names encodes to about 300 KiB, so every valid batch fits.
 */
export const MAX_MESSAGE_BYTES = 512 * 1024;
/** Past events the gateway keeps for a Watch that asks for them (WatchRequest.backlog); older ones are dropped. */
export const EVENT_BACKLOG = 100;
