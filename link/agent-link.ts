/**
 * @module The link between the gateway's control and an agent on another host: one ZeroMQ
 * connection (the agent's DEALER to the gateway's ROUTER at `--cluster-listen`, tcp with CURVE),
 * one JSON object per message. Over it the control asks the agent to start computing processes
 * and talks to each one's control channel (control-channel.ts) as if it were its own child:
 * lines in, lines out, stderr, exit.
 *
 * Process numbers (`proc`) are the control's, unique for the gateway's life; pids are the
 * agent host's.
 */
import { parseJsonObject } from './control-channel.js';

/** Agent → control. */
export type FromAgent =
  /**
   * Here I am: host `name`; nodes bind tcp on `advertise`; `boot` is new for every agent process;
   * `graceMs` is its --orphan-grace-ms (how long its nodes keep running while the gateway cannot be
   * reached: after that the control may take over their data elsewhere).
   */
  | { t: 'join'; name: string; advertise: string; boot: string; pid: number; graceMs?: number }
  /** Nothing but "still here", every AGENT_LINK_HEARTBEAT_MS: a link that then closes was closed, not cut (control/hosts.ts). */
  | { t: 'beat' }
  | { t: 'spawned'; proc: number; pid: number }
  /** A line of process `proc`'s stdout (`out`) or stderr (`err`). */
  | { t: 'out' | 'err'; proc: number; line: string }
  | { t: 'exit'; proc: number; code: number | null; signal: string | null };

/** Control → agent. */
export type ToAgent =
  /** Joined; `gateway` is new for every gateway process (a new one means the old one's processes are orphans). */
  | { t: 'welcome'; name: string; gateway: string }
  | { t: 'refused'; reason: string }
  | { t: 'spawn'; proc: number }
  /** One line for process `proc`'s stdin (its control channel). */
  | { t: 'in'; proc: number; line: string }
  | { t: 'signal'; proc: number; signal: 'SIGTERM' | 'SIGKILL' }
  /** Nothing to do: the control checks whether the agent's routing id is still connected. */
  | { t: 'probe' };

/** Host names: what `create ... on <host>` accepts. */
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** An agent link message bigger than this is refused (a line is at most a few KiB). */
export const MAX_AGENT_MESSAGE = 128 * 1024;

const isProc = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isLine = (v: unknown): v is string => typeof v === 'string' && v.length <= 64 * 1024;

function parseObject(frame: Buffer): Record<string, unknown> | string {
  if (frame.length > MAX_AGENT_MESSAGE) return `message of ${frame.length} bytes`;
  return parseJsonObject(frame.toString('utf8'));
}

export function parseFromAgent(frame: Buffer): FromAgent | string {
  const m = parseObject(frame);
  if (typeof m === 'string') return m;
  switch (m.t) {
    case 'join':
      if (typeof m.name !== 'string' || !HOST_NAME.test(m.name) || typeof m.advertise !== 'string' || typeof m.boot !== 'string' || !isProc(m.pid)) return 'join: expected name, advertise, boot, pid';
      if (m.graceMs !== undefined && !(typeof m.graceMs === 'number' && Number.isInteger(m.graceMs) && m.graceMs >= 0 && m.graceMs <= 86_400_000)) return 'join: graceMs must be an integer from 0 to 86400000';
      return { t: 'join', name: m.name, advertise: m.advertise, boot: m.boot, pid: m.pid, ...(m.graceMs !== undefined && { graceMs: m.graceMs }) };
    case 'beat':
      return { t: 'beat' };
    case 'spawned':
      if (!isProc(m.proc) || !isProc(m.pid)) return 'spawned: expected proc, pid';
      return { t: 'spawned', proc: m.proc, pid: m.pid };
    case 'out':
    case 'err':
      if (!isProc(m.proc) || !isLine(m.line)) return `${m.t}: expected proc, line`;
      return { t: m.t, proc: m.proc, line: m.line };
    case 'exit':
      if (!isProc(m.proc) || !(m.code === null || typeof m.code === 'number') || !(m.signal === null || typeof m.signal === 'string')) return 'exit: expected proc, code, signal';
      return { t: 'exit', proc: m.proc, code: m.code, signal: m.signal };
    default:
      return `unknown message type ${JSON.stringify(m.t)?.slice(0, 40)}`;
  }
}

export function parseToAgent(frame: Buffer): ToAgent | string {
  const m = parseObject(frame);
  if (typeof m === 'string') return m;
  switch (m.t) {
    case 'welcome':
      return typeof m.name === 'string' && typeof m.gateway === 'string' ? { t: 'welcome', name: m.name, gateway: m.gateway } : 'welcome: expected name, gateway';
    case 'refused':
      return typeof m.reason === 'string' ? { t: 'refused', reason: m.reason.slice(0, 500) } : 'refused: expected reason';
    case 'spawn':
      return isProc(m.proc) ? { t: 'spawn', proc: m.proc } : 'spawn: expected proc';
    case 'in':
      return isProc(m.proc) && isLine(m.line) ? { t: 'in', proc: m.proc, line: m.line } : 'in: expected proc, line';
    case 'probe':
      return { t: 'probe' };
    case 'signal':
      return isProc(m.proc) && (m.signal === 'SIGTERM' || m.signal === 'SIGKILL') ? { t: 'signal', proc: m.proc, signal: m.signal } : 'signal: expected proc, SIGTERM|SIGKILL';
    default:
      return `unknown message type ${JSON.stringify(m.t)?.slice(0, 40)}`;
  }
}

export function agentFrame(msg: FromAgent | ToAgent): Buffer {
  return Buffer.from(JSON.stringify(msg));
}

/** libzmq's own heartbeats on the agent link: a peer silent for AGENT_LINK_TIMEOUT_MS is cut. */
export const AGENT_LINK_HEARTBEAT_MS = 500;
export const AGENT_LINK_TIMEOUT_MS = 2000;
