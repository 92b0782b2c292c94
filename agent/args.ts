/**
 * @module The `arbor-agent` command line: one table (`AGENT_OPTIONS`) for the parsing and the
 * `--help` text (lib/args.ts, the mechanism of every arbor program). Pure.
 */
import { flagOrEnv, helpText, type OptionTable, parseOptions, type ParsedOptions, UsageError } from '../lib/args.js';
import { HOST_NAME } from '../link/agent-link.js';
import { REFUSAL_LIMIT } from './handshake-refusals.js';

export const AGENT_OPTIONS: OptionTable = {
  join: { type: 'string', value: 'HOST:PORT', help: "the gateway's --cluster-listen address (required)" },
  'cluster-secret': { type: 'string', value: 'FILE', env: 'ARBOR_CLUSTER_SECRET', help: "the cluster's key file, copied from the gateway's host (required)" },
  name: { type: 'string', value: 'NAME', help: "this host's name in the cluster (create <id> on NAME) (required)" },
  advertise: { type: 'string', value: 'IP', help: 'the address nodes here bind and others reach them at (default: the address this host reaches the gateway from)' },
  'data-dir': {
    type: 'string',
    value: 'DIR',
    help: [
      "where this host's nodes keep their logs (default: $XDG_STATE_HOME/arbor-agent/NAME,",
      'else ~/.local/state/arbor-agent/NAME); made 0700 when missing, refused when another',
      'user owns it or group or others can write into it',
    ],
  },
  'orphan-grace-ms': { type: 'string', value: 'N', default: '60000', help: 'keep the nodes running this long while the gateway cannot be reached; with --replicas 2 the gateway waits as long for a cut host before its followers elsewhere take over' },
};

export const AGENT_USAGE = helpText(AGENT_OPTIONS, {
  usage: ['Usage: arbor-agent --join HOST:PORT --cluster-secret FILE --name NAME [options]'],
  footer: [
    'Exit status 2: bad arguments, an unusable secret file or data dir, the gateway refused the join, or the',
    `gateway refused this agent's key: ${REFUSAL_LIMIT} failed CURVE handshakes in a row (another cluster's secret file),`,
    'or one that libzmq does not retry.',
  ],
});

export interface AgentArgs {
  join: string;
  secret: string;
  name: string;
  advertise: string | undefined;
  dataDir: string | undefined;
  orphanGraceMs: number;
}

export type AgentRequest = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; args: AgentArgs };

/** @throws UsageError naming the problem (one line) */
export function parseAgentArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): AgentRequest {
  const parsed: ParsedOptions = parseOptions(AGENT_OPTIONS, argv);
  if (parsed.help) return { kind: 'help' };
  if (parsed.version) return { kind: 'version' };
  const value = (name: string): string | undefined => flagOrEnv(parsed, AGENT_OPTIONS, name, env);
  const joinAt = value('join');
  const secret = value('cluster-secret');
  const name = value('name');
  if (joinAt === undefined || !/^[^:\s]+:\d{1,5}$/.test(joinAt)) throw new UsageError('--join HOST:PORT is required');
  if (secret === undefined) throw new UsageError('--cluster-secret FILE (or ARBOR_CLUSTER_SECRET) is required');
  if (name === undefined || !HOST_NAME.test(name)) throw new UsageError('--name NAME is required (letters, digits, . _ -; at most 63)');
  const graceText = value('orphan-grace-ms') ?? '60000';
  const grace = Number(graceText);
  if (!/^\d+$/.test(graceText) || grace > 86_400_000) throw new UsageError('--orphan-grace-ms: expected an integer from 0 to 86400000');
  const advertise = value('advertise');
  if (advertise !== undefined && !/^[0-9.]+$|^[0-9a-fA-F:]+$/.test(advertise)) throw new UsageError('--advertise: expected an IP address');
  return { kind: 'run', args: { join: joinAt, secret, name, advertise, dataDir: value('data-dir'), orphanGraceMs: grace } };
}
