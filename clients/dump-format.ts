/**
 * @module The lines of `arbor dump` and `arbor restore`. Pure.
 *
 * One JSON object per line: `{"id":8,"name":"X","value":"-16"}` for each name of each node
 * (value a string: int64 loses precision as a JSON number), and `{"id":8}` for a node that holds
 * no name, so a restore brings back every node. Nodes come in ascending id order, each node's
 * names in byte order, so two dumps of the same data are byte-identical.
 */
import { checkName, checkNodeId, checkValue, quote } from '../proto/limits.js';

export type DumpRecord = { id: number; name: string; value: bigint } | { id: number };

export function dumpLine(record: DumpRecord): string {
  return 'name' in record ? JSON.stringify({ id: record.id, name: record.name, value: String(record.value) }) : JSON.stringify({ id: record.id });
}

/** Reads one line of a dump: the record, or what is wrong with it. */
export function parseDumpLine(line: string): DumpRecord | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return `not JSON: ${quote(line)}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return `expected an object like {"id":8,"name":"X","value":"16"}: ${quote(line)}`;
  const { id, name, value, ...rest } = parsed as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) return `unknown member ${quote(extra[0] as string)}`;
  if (typeof id !== 'number') return 'id must be a number';
  const idProblem = checkNodeId(id);
  if (idProblem !== undefined) return idProblem;
  if (name === undefined && value === undefined) return { id };
  if (typeof name !== 'string') return 'name must be a string';
  const nameProblem = checkName(name);
  if (nameProblem !== undefined) return nameProblem;
  if (typeof value !== 'string' || !/^-?\d{1,19}$/.test(value)) return `value must be a decimal int64 in a string, e.g. "16": ${quote(String(value))}`;
  const big = BigInt(value);
  return checkValue(big) ?? { id, name, value: big };
}
