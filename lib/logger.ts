/**
 * @module The structured logger of the gateway and the control: pino, JSON lines to stderr,
 * human-readable when stderr is a terminal.
 */
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type pinoPretty from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel, name = 'arbor-gateway'): Logger {
  const options = { name, level };
  // Pretty-printing synchronously in-process (no transport worker thread) keeps order with
  // other stderr output and costs nothing when stderr is not a terminal.
  // pino-pretty (and its colour and date modules) is loaded only for a terminal.
  if (process.stderr.isTTY) {
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof pinoPretty;
    return pino(options, pretty({ destination: 2, sync: true, colorize: !process.env.NO_COLOR }));
  }
  // Synchronous as well. With an asynchronous destination pino flushes synchronously at exit,
  // and sonic-boom's flushSync retries a write that failed with EPIPE forever: a gateway whose
  // parent died (nobody reads its stderr) hung on SIGTERM. The gateway logs events and
  // warnings, not requests, so a blocking write costs nothing measurable; a broken pipe now
  // fails the first write, and pino stops logging instead of looping.
  return pino(options, pino.destination({ dest: 2, sync: true }));
}

/** For embedding and tests: logs nothing. */
export const silentLogger: Logger = pino({ level: 'silent' });
