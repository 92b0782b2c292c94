/**
 * @module The text formats of `--format`, apart from the formatter: argument parsing needs the
 * names, and must not load gRPC (npm start parses its arguments before it starts the gateway).
 */

/** The text formats of `--format`. */
export type OutputFormat = 'seed' | 'mai';

/** The formats `--format` accepts, for usage messages. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['seed', 'mai'];
