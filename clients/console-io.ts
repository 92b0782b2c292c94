/**
 * @module The console's streams, environment, controls and exit codes, shared by its parts.
 */
import type { Readable } from 'node:stream';

/** Exit codes of the console. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The streams and environment the console uses (the process's own by default). */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
}

/** How an embedding program (`start.ts`) steers a running console. */
export interface CliControl {
  /** Aborting it is like typing `quit`: stop reading, await the replies in flight, close. */
  quit?: AbortSignal;
  /** Lines to tell the person (the gateway's warnings under `npm start`): `attach` is given the console's way of saying one. */
  notices?: { attach(say: (text: string) => void): void };
}

/** The process's stdin, stdout, stderr and environment. */
export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}
