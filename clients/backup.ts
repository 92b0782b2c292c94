/**
 * @module `arbor dump` and `arbor restore`: every node's names and values as JSON lines
 * (dump-format.ts), and back.
 *
 * Dump reads node by node, in ascending id order, each through Keys pages of MAX_KEYS_LIMIT.
 * "Consistent" means each node as it was at one moment: every page of a node must carry the same
 * revision (the node's dictionary did not change between its first and last page, and a page is
 * one moment by itself); a node that changed while it was read is read again, up to
 * DUMP_ATTEMPTS times, then the dump fails. Different nodes are read at different moments.
 *
 * Restore reads the whole input first (a bad line stops it before anything changes), creates
 * the nodes the gateway does not have, in the order they first appear (the tree balances
 * itself), then stores every value over one Session, RESTORE_WINDOW commands in flight at a time.
 */
import type { Readable } from 'node:stream';
import { MAX_KEYS_LIMIT } from '../proto/limits.js';
import type { CliOptions } from './args.js';
import { connect, ConnectError } from './connect.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './console-io.js';
import { dumpLine, parseDumpLine, type DumpRecord } from './dump-format.js';
import { statusName } from './format.js';
import { statusOf } from './gateway-link.js';
import type { ArborClient } from './lib/client.js';
import { ArborError } from './lib/errors.js';
import type { KeyEntry } from './lib/types.js';
import { BatchedWriter } from './output.js';

/** How many times a node that keeps changing while it is read is read again before the dump fails. */
export const DUMP_ATTEMPTS = 5;
/** Commands a restore keeps in flight on its Session. */
export const RESTORE_WINDOW = 4096;
/** Deadline of each unary call of dump and restore. */
const CALL_MS = 30_000;

/** A library error as dump and restore print it: `STATUS: message`. */
const problem = (error: ArborError): string => `${statusName(statusOf(error))}: ${error.message}`;

class CallFailed extends Error {
  override readonly name = 'CallFailed';
}

/** Runs one call of the library; its failure becomes a `CallFailed` naming `what`. */
async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof ArborError)) throw error;
    throw new CallFailed(`${what}: ${problem(error)}`, { cause: error });
  }
}

async function open(options: CliOptions, io: CliIo): Promise<ArborClient | undefined> {
  try {
    return await connect(options.target, { tlsCa: options.tlsCa, token: options.token });
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    io.stderr.write(`arbor: ${error.message}\n`);
    return undefined;
  }
}

/** Every page of node `id`, all with one revision; null when it changed while read DUMP_ATTEMPTS times. */
async function readNode(client: ArborClient, id: number): Promise<KeyEntry[] | null> {
  for (let attempt = 0; attempt < DUMP_ATTEMPTS; attempt++) {
    const entries: KeyEntry[] = [];
    let startAfter = '';
    let revision: bigint | undefined;
    let changed = false;
    for (;;) {
      const page = await call(`node ${id}`, () => client.keysPage(id, { limit: MAX_KEYS_LIMIT, startAfter, timeoutMs: CALL_MS }));
      if (revision !== undefined && page.revision !== revision) {
        changed = true;
        break;
      }
      revision = page.revision;
      for (const entry of page.entries) entries.push(entry);
      const last = page.entries.at(-1);
      if (!page.more || last === undefined) break;
      startAfter = last.name;
    }
    if (!changed) return entries;
  }
  return null;
}

export async function runDump(options: CliOptions, io: CliIo): Promise<number> {
  const client = await open(options, io);
  if (client === undefined) return EXIT_USAGE;
  let outputError: Error | undefined;
  const writer = new BatchedWriter(io.stdout, (error) => (outputError = error));
  let names = 0;
  let failed = 0;
  try {
    const topology = await call('Topology', () => client.topology({ timeoutMs: CALL_MS }));
    const ids = topology.nodes.map((n) => n.id).sort((a, b) => a - b);
    for (const id of ids) {
      if (outputError !== undefined) break;
      let entries: KeyEntry[] | null;
      try {
        entries = await readNode(client, id);
      } catch (error) {
        if (!(error instanceof CallFailed)) throw error;
        io.stderr.write(`arbor: dump: ${error.message}\n`);
        failed++;
        continue;
      }
      if (entries === null) {
        io.stderr.write(`arbor: dump: node ${id} changed while it was read, ${DUMP_ATTEMPTS} times; not dumped\n`);
        failed++;
        continue;
      }
      if (entries.length === 0) writer.writeLine(dumpLine({ id }));
      for (const { name, value } of entries) writer.writeLine(dumpLine({ id, name, value }));
      names += entries.length;
      if (writer.backpressured) await writer.whenWritable();
    }
    await writer.flushAll();
    io.stderr.write(`arbor: dumped ${names} names of ${ids.length - failed} nodes${failed > 0 ? `; ${failed} nodes failed` : ''}\n`);
  } catch (error) {
    if (!(error instanceof CallFailed)) throw error;
    io.stderr.write(`arbor: dump: ${error.message}\n`);
    failed++;
  } finally {
    writer.detach();
    client.close();
  }
  if (outputError !== undefined) {
    if ((outputError as NodeJS.ErrnoException).code !== 'EPIPE') io.stderr.write(`arbor: cannot write the output: ${outputError.message}\n`);
    return EXIT_FAILED;
  }
  return failed > 0 ? EXIT_FAILED : EXIT_OK;
}

async function readAll(input: Readable): Promise<string> {
  input.setEncoding('utf8');
  let text = '';
  for await (const chunk of input) text += String(chunk);
  return text;
}

export async function runRestore(options: CliOptions, io: CliIo): Promise<number> {
  const records: DumpRecord[] = [];
  const lines = (await readAll(io.stdin)).split('\n');
  for (const [at, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const record = parseDumpLine(line);
    if (typeof record === 'string') {
      io.stderr.write(`arbor: restore: line ${at + 1}: ${record}; nothing was restored\n`);
      return EXIT_FAILED;
    }
    records.push(record);
  }
  const client = await open(options, io);
  if (client === undefined) return EXIT_USAGE;
  const session = client.session();
  let failures = 0;
  /** Each call's error (`undefined`: it succeeded), RESTORE_WINDOW in flight at a time; a lost session throws. */
  const run = async (calls: (() => Promise<unknown>)[]): Promise<(ArborError | undefined)[]> => {
    const errors: (ArborError | undefined)[] = [];
    for (let at = 0; at < calls.length; at += RESTORE_WINDOW) {
      const window = await Promise.allSettled(calls.slice(at, at + RESTORE_WINDOW).map((start) => start()));
      if (session.lostWith !== undefined) throw session.lostWith;
      for (const result of window) errors.push(result.status === 'fulfilled' ? undefined : (result.reason as ArborError));
    }
    return errors;
  };
  try {
    const topology = await call('Topology', () => client.topology({ timeoutMs: CALL_MS }));
    const have = new Set(topology.nodes.map((n) => n.id));
    const missing = [...new Set(records.map((r) => r.id))].filter((id) => !have.has(id));
    const created = await run(missing.map((id) => () => session.create(id)));
    for (const [i, error] of created.entries()) {
      if (error === undefined) continue;
      failures++;
      io.stderr.write(`arbor: restore: create ${missing[i]}: ${problem(error)}\n`);
    }
    const stores = records.filter((r): r is Extract<DumpRecord, { name: string }> => 'name' in r);
    const stored = await run(stores.map(({ id, name, value }) => () => session.store(id, name, value)));
    for (const [i, error] of stored.entries()) {
      if (error === undefined) continue;
      failures++;
      if (failures <= 10) io.stderr.write(`arbor: restore: exec ${stores[i]?.id} ${stores[i]?.name}: ${problem(error)}\n`);
    }
    const nodes = new Set(stores.map((r) => r.id)).size;
    const ok = (errors: (ArborError | undefined)[]): number => errors.filter((e) => e === undefined).length;
    io.stdout.write(`Ok: created ${ok(created)} nodes, stored ${ok(stored)} values in ${nodes} nodes\n`);
  } catch (error) {
    if (!(error instanceof CallFailed) && !(error instanceof ArborError)) throw error;
    io.stderr.write(`arbor: restore: ${error.message}\n`);
    failures++;
  } finally {
    await session.close().catch(() => undefined);
    client.close();
  }
  if (failures > 0) io.stderr.write(`arbor: restore: ${failures} commands failed\n`);
  return failures > 0 ? EXIT_FAILED : EXIT_OK;
}
