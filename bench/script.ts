/**
 * @module The commands of the Session run and of the CLI script: the same list, so their times
 * compare. Stores and loads alternate over a set of nodes, each load reading a name stored before.
 */
import type { Command } from './pipeline.js';

export interface ScriptCommand {
  id: number;
  name: string;
  /** Present: a store; absent: a load. */
  value: bigint | undefined;
}

const NAMES = Array.from({ length: 100 }, (_, i) => `k${i}`);

export function scriptCommand(i: number, nodes: readonly number[]): ScriptCommand {
  const id = nodes[i % nodes.length] as number;
  const name = NAMES[Math.floor(i / 2) % NAMES.length] as string;
  return { id, name, value: i % 2 === 0 ? BigInt(i) : undefined };
}

export function asSessionCommand(cmd: ScriptCommand): Command {
  return { $case: 'exec', value: { id: cmd.id, name: cmd.name, value: cmd.value } };
}

export function asScriptLine(cmd: ScriptCommand): string {
  return cmd.value === undefined ? `exec ${cmd.id} ${cmd.name}` : `exec ${cmd.id} ${cmd.name} ${cmd.value}`;
}

/** The script text of commands `from`..`from + count - 1`, one command per line. */
export function scriptText(count: number, nodes: readonly number[], from = 0): string {
  const lines: string[] = [];
  for (let i = from; i < from + count; i++) lines.push(asScriptLine(scriptCommand(i, nodes)));
  return `${lines.join('\n')}\n`;
}
