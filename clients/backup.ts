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
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import type { Readable } from 'node:stream';
import type { ArborServiceClient, KeysResponse, TopologyResponse } from '../proto/gen/arbor/v1/arbor.js';
import { MAX_KEYS_LIMIT } from '../proto/limits.js';
import type { CliOptions } from './args.js';
import type { CommandBody, Outcome } from './command.js';
import { connect, ConnectError } from './connect.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './console-io.js';
import { dumpLine, parseDumpLine, type DumpRecord } from './dump-format.js';
import { statusName } from './format.js';
import { BatchedWriter } from './output.js';
import { SessionClient } from './session-client.js';

/** How many times a node that keeps changing while it is read is read again before the dump fails. */
export const DUMP_ATTEMPTS = 5;
/** Commands a restore keeps in flight on its Session. */
export const RESTORE_WINDOW = 4096;
/** Deadline of each unary call of dump and restore. */
const CALL_MS = 30_000;

class CallFailed extends Error {
  override readonly name = 'CallFailed';
}

function metadataOf(options: CliOptions): Metadata {
  const metadata = new Metadata();
  if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
  return metadata;
}

function unary<Req, Res>(call: (req: Req, md: Metadata, opts: { deadline: number }, cb: (e: ServiceError | null, r: Res) => void) => unknown, req: Req, md: Metadata, what: string): Promise<Res> {
  return new Promise((resolve, reject) =>
    call(req, md, { deadline: Date.now() + CALL_MS }, (error, res) => (error ? reject(new CallFailed(`${what}: ${statusName(error.code)}: ${error.details || error.message}`)) : resolve(res))),
  );
}

async function open(options: CliOptions, io: CliIo): Promise<ArborServiceClient | undefined> {
  try {
    return await connect(options.target, { tlsCa: options.tlsCa });
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    io.stderr.write(`arbor: ${error.message}\n`);
    return undefined;
  }
}

/** Every page of node `id`, all with one revision; null when it changed while read DUMP_ATTEMPTS times. */
async function readNode(client: ArborServiceClient, md: Metadata, id: number): Promise<KeysResponse['entries'] | null> {
  for (let attempt = 0; attempt < DUMP_ATTEMPTS; attempt++) {
    const entries: KeysResponse['entries'] = [];
    let startAfter = '';
    let revision: bigint | undefined;
    let changed = false;
    for (;;) {
      const page = await unary(client.keys.bind(client), { id, prefix: '', limit: MAX_KEYS_LIMIT, startAfter }, md, `node ${id}`);
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
  const md = metadataOf(options);
  let outputError: Error | undefined;
  const writer = new BatchedWriter(io.stdout, (error) => (outputError = error));
  let names = 0;
  let failed = 0;
  try {
    const topology: TopologyResponse = await unary(client.topology.bind(client), {}, md, 'Topology');
    const ids = topology.nodes.map((n) => n.id).sort((a, b) => a - b);
    for (const id of ids) {
      if (outputError !== undefined) break;
      let entries: KeysResponse['entries'] | null;
      try {
        entries = await readNode(client, md, id);
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
  const md = metadataOf(options);
  const session = new SessionClient(client.session(md), options.target);
  let failures = 0;
  const run = async (commands: CommandBody[]): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    for (let at = 0; at < commands.length; at += RESTORE_WINDOW) {
      const window = commands.slice(at, at + RESTORE_WINDOW).map((command) => session.send(command));
      for (const outcome of await Promise.all(window)) outcomes.push(outcome);
    }
    return outcomes;
  };
  try {
    const topology: TopologyResponse = await unary(client.topology.bind(client), {}, md, 'Topology');
    const have = new Set(topology.nodes.map((n) => n.id));
    const missing = [...new Set(records.map((r) => r.id))].filter((id) => !have.has(id));
    const created = await run(missing.map((id) => ({ $case: 'create', value: { id } })));
    for (const [i, outcome] of created.entries()) {
      if (outcome.$case === 'error') {
        failures++;
        io.stderr.write(`arbor: restore: create ${missing[i]}: ${statusName(outcome.value.code)}: ${outcome.value.message}\n`);
      }
    }
    const stores = records.filter((r): r is Extract<DumpRecord, { name: string }> => 'name' in r);
    const stored = await run(stores.map(({ id, name, value }) => ({ $case: 'exec', value: { id, name, value } })));
    for (const [i, outcome] of stored.entries()) {
      if (outcome.$case !== 'error') continue;
      failures++;
      if (failures <= 10) io.stderr.write(`arbor: restore: exec ${stores[i]?.id} ${stores[i]?.name}: ${statusName(outcome.value.code)}: ${outcome.value.message}\n`);
    }
    const nodes = new Set(stores.map((r) => r.id)).size;
    io.stdout.write(`Ok: created ${missing.length - created.filter((o) => o.$case === 'error').length} nodes, stored ${stored.length - stored.filter((o) => o.$case === 'error').length} values in ${nodes} nodes\n`);
  } catch (error) {
    if (!(error instanceof CallFailed) && !(error instanceof Error && error.name === 'SessionClosedError')) throw error;
    io.stderr.write(`arbor: restore: ${error.message}\n`);
    failures++;
  } finally {
    await session.end();
    client.close();
  }
  if (failures > 0) io.stderr.write(`arbor: restore: ${failures} commands failed\n`);
  return failures > 0 ? EXIT_FAILED : EXIT_OK;
}
