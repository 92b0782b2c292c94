/**
 * @module The command line of a computing process, as the control writes it.
 */

export interface NodeArgs {
  /** This node's id. */
  id: number;
  /** ZeroMQ endpoint of the parent's downlink (the control's for the root). */
  parent: string;
  /** ZeroMQ endpoint this node binds for its children. */
  listen: string;
  /** Correlation id the hello carries, so the control matches it to the create. */
  corr: number;
}

/** Parses `--id N --parent EP --listen EP --corr N`; returns the problem in words when malformed. */
export function parseNodeArgs(argv: readonly string[]): NodeArgs | string {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (!flag.startsWith('--') || value === undefined) return `unexpected argument ${flag}`;
    values.set(flag.slice(2), value);
  }
  const id = Number(values.get('id'));
  const corr = Number(values.get('corr'));
  const parent = values.get('parent');
  const listen = values.get('listen');
  if (!Number.isInteger(id) || id < 0) return 'expected --id <non-negative integer>';
  if (!Number.isInteger(corr) || corr < 0) return 'expected --corr <non-negative integer>';
  if (parent === undefined || listen === undefined) return 'expected --parent <endpoint> and --listen <endpoint>';
  return { id, parent, listen, corr };
}
