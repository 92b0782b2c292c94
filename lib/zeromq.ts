/**
 * @module zeromq.js, for every module of ours that makes sockets or keys: the one place that
 * loads it.
 *
 * Required, not imported: an ESM import of this CommonJS package makes Node run its export lexer
 * over zeromq's sources at every start, and the lexer gets hot enough for TurboFan: megabytes of
 * RSS and a dearer start for every computing process (docs/benchmarks.md, "Where time goes").
 *
 * In the program bundles (scripts/bundle.js) this module is replaced: zeromq's JavaScript is
 * bundled with the program (read from the code cache with the rest), and its native addon is
 * required by the path the build found, instead of zeromq's loader looking it up in its manifest
 * at every start; anything unexpected there falls back to `require('zeromq')` as here.
 */
import { createRequire } from 'node:module';
import type * as Zmq from 'zeromq';

export const zmq = createRequire(import.meta.url)('zeromq') as typeof Zmq;
