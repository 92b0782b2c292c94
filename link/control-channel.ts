/**
 * @module The control channel: how the control (or an agent on its behalf) tells one computing
 * process who it is and where it sits, and how the process answers. One JSON object per line,
 * control → process on its stdin, process → control on its stdout.
 *
 * Why a channel apart from the tree: a process must be told its place before it is reachable
 * through the tree (a new or restarted node, a child whose parent was replaced), and the control
 * is the only author of tree links, so it needs a path to every process that no link change can
 * cut. The process's own pipes are that path, and they cost nothing while idle.
 *
 * Order matters and is kept: a process applies the messages of its channel in the order sent.
 */
import { type ClusterKeys, isZ85Key } from './curve.js';
import type { PeerSpec } from './peer-identity.js';

/**
 * What a node needs to know of liveness (liveness.ts): where its liveness link goes (ipc on this
 * host, tcp with CURVE from another; it reconnects there by itself when the control rebinds it
 * for a new interval), how often to beat while busy, and when to go quiet. Not the interval:
 * the control's pings carry it.
 */
export interface LivenessClaim {
  endpoint: string;
  blockedLoopMs: number;
  restAfterMs: number;
}

/**
 * --replicas 2: what a leader is told of its chain (replication.ts). `epoch` is the chain's,
 * raised only by the control; `follower` the endpoint of its follower (null: none now); `solo`
 * whether the control has said stores may be acknowledged with this one copy (while there is no
 * caught-up follower). Not solo and no follower: stores wait until a follower is given.
 * `lateMs` (optional): a follower that acknowledges nothing for this long while records wait
 * for it is reported `follower-late` (absent: never reported).
 */
export interface ReplicaClaim {
  epoch: number;
  follower: string | null;
  solo: boolean;
  lateMs?: number;
}

/** Control → process. */
export type ToNode =
  /**
   * The first message: become node `id`. Open (or, with `fresh`, empty) the log at `log`,
   * rebuild the dictionary from it, bind `listen` for children, connect the liveness link, then
   * answer `ready`. `log` null: keep the dictionary in memory only (nothing would ever restart
   * from a log). Other hosts (optional, absent on a single host): `curve`, the cluster's keys
   * (tcp links use CURVE with them; they travel only on this channel, never in argv or the
   * environment), and `tcp`, a tcp endpoint (`tcp://IP:*`) to bind as well, for children on
   * other hosts; `ready` then names the port it got.
   */
  | {
      t: 'claim';
      id: number;
      listen: string;
      log: string | null;
      fresh: boolean;
      fsync: boolean;
      liveness: LivenessClaim;
      curve?: ClusterKeys;
      tcp?: string;
      /** --replicas 2 only: a leader's chain (absent: no replication, today's node). */
      replica?: ReplicaClaim;
      /**
       * --replicas 2 only: be node `id`'s follower at `epoch` instead of a tree node: open the
       * log, bind `listen` for the leader's Replicate records and acknowledge each once logged.
       * `keep`: a log found there is a replaced leader's: kept aside as `<log>.replaced-<epoch>` first.
       */
      follower?: { epoch: number; keep?: boolean };
    }
  /** --replicas 2: the leader's chain changed (a follower given, lost, or solo said). */
  | ({ t: 'replica' } & ReplicaClaim)
  /**
   * Where the node sits now: its parent's endpoint and its two children (null: none). The
   * node connects its uplink to `parent` (moving it when the endpoint changed; a parent whose
   * process was replaced at the same endpoint is reconnected by ZeroMQ itself), accepts frames
   * only from these children, then says hello up the tree with `epoch` as its correlation id,
   * so the control knows which link it answers.
   */
  | { t: 'link'; epoch: number; parent: string; left: PeerSpec | null; right: PeerSpec | null };

/** Process → control. */
export type FromNode =
  /** Started: its modules are loaded and it waits for its claim (a spare of the control's pool). */
  | { t: 'waiting' }
  /** Claimed: the log is replayed (`keys` names, `cutBytes` of a torn tail cut off) and `listen` is bound. */
  | { t: 'ready'; keys: number; cutBytes: number; tcp?: string }
  /** Its event loop runs (every beat period while it has work; see liveness.ts). */
  | { t: 'beat' }
  /** It has nothing to do and beats no more until its JavaScript runs again, which first sends a beat. */
  | { t: 'quiet' }
  /** The process cannot serve (e.g. its log is corrupt) and exits; `message` says why. */
  | { t: 'fatal'; message: string }
  /** A leader: its follower of `epoch` has acknowledged a whole snapshot; stores now wait for it again. */
  | { t: 'caught-up'; epoch: number }
  /** A leader: its follower holds a newer epoch than its own `epoch`; it acknowledges no store from now on. */
  | { t: 'fenced'; epoch: number }
  /** A leader: its follower of `epoch` acknowledged nothing for the claim's `lateMs` while records waited for it. */
  | { t: 'follower-late'; epoch: number };

/** A line longer than this is not a message (a claim is a few hundred bytes). */
export const MAX_CONTROL_LINE = 8192;

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x7fffffff;
const isPid = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 0x7fffffff);
const isChild = (v: unknown): v is PeerSpec | null =>
  v === null || (typeof v === 'object' && !Array.isArray(v) && isId((v as PeerSpec).id) && isPid((v as PeerSpec).pid));
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length < 4096;
const isKeys = (v: unknown): v is ClusterKeys => typeof v === 'object' && v !== null && isZ85Key((v as ClusterKeys).publicKey) && isZ85Key((v as ClusterKeys).secretKey);
const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const isLiveness = (v: unknown): v is LivenessClaim =>
  typeof v === 'object' &&
  v !== null &&
  isText((v as LivenessClaim).endpoint) &&
  isU32((v as LivenessClaim).blockedLoopMs) &&
  (v as LivenessClaim).blockedLoopMs > 0 &&
  isU32((v as LivenessClaim).restAfterMs);

const isLateMs = (v: unknown): boolean => v === undefined || (isU32(v) && v > 0);
const isReplica = (v: unknown): v is ReplicaClaim =>
  typeof v === 'object' &&
  v !== null &&
  isU32((v as ReplicaClaim).epoch) &&
  ((v as ReplicaClaim).follower === null || isText((v as ReplicaClaim).follower)) &&
  typeof (v as ReplicaClaim).solo === 'boolean' &&
  isLateMs((v as ReplicaClaim).lateMs);
const replicaOf = (v: ReplicaClaim): ReplicaClaim => ({ epoch: v.epoch, follower: v.follower, solo: v.solo, ...(v.lateMs !== undefined && { lateMs: v.lateMs }) });

/** One JSON object, or the problem in words (the agent link's messages are read the same way). */
export function parseJsonObject(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  return value as Record<string, unknown>;
}

function parseObject(line: string): Record<string, unknown> | string {
  if (line.length > MAX_CONTROL_LINE) return `line of ${line.length} characters`;
  return parseJsonObject(line);
}

/** Reads one control → process line; the problem in words when it is not a valid message. */
export function parseToNode(line: string): ToNode | string {
  const m = parseObject(line);
  if (typeof m === 'string') return m;
  switch (m.t) {
    case 'claim':
      if (!isId(m.id) || !isText(m.listen) || !(m.log === null || isText(m.log)) || typeof m.fresh !== 'boolean' || typeof m.fsync !== 'boolean' || !isLiveness(m.liveness)) {
        return 'claim: expected id, listen, log, fresh, fsync, liveness {endpoint, blockedLoopMs, restAfterMs}';
      }
      if (m.curve !== undefined && !isKeys(m.curve)) return 'claim: curve must be {publicKey, secretKey} (Z85)';
      if (m.tcp !== undefined && !(isText(m.tcp) && m.tcp.startsWith('tcp://'))) return 'claim: tcp must be a tcp:// endpoint';
      if (m.replica !== undefined && !isReplica(m.replica)) return 'claim: replica must be {epoch, follower, solo, lateMs?}';
      if (
        m.follower !== undefined &&
        !(typeof m.follower === 'object' && m.follower !== null && isU32((m.follower as { epoch: unknown }).epoch) && [undefined, true].includes((m.follower as { keep?: unknown }).keep as undefined))
      ) {
        return 'claim: follower must be {epoch, keep?: true}';
      }
      return {
        t: 'claim',
        id: m.id,
        listen: m.listen,
        log: m.log,
        fresh: m.fresh,
        fsync: m.fsync,
        liveness: { endpoint: m.liveness.endpoint, blockedLoopMs: m.liveness.blockedLoopMs, restAfterMs: m.liveness.restAfterMs },
        ...(isKeys(m.curve) && { curve: { publicKey: m.curve.publicKey, secretKey: m.curve.secretKey } }),
        ...(typeof m.tcp === 'string' && { tcp: m.tcp }),
        ...(isReplica(m.replica) && { replica: replicaOf(m.replica) }),
        ...(m.follower !== undefined && { follower: { epoch: (m.follower as { epoch: number }).epoch, ...((m.follower as { keep?: true }).keep === true && { keep: true }) } }),
      };
    case 'replica':
      if (!isReplica(m)) return 'replica: expected epoch, follower (null or an endpoint), solo, lateMs (optional, > 0)';
      return { t: 'replica', ...replicaOf(m) };
    case 'link': {
      if (!isU32(m.epoch) || !isText(m.parent) || !isChild(m.left) || !isChild(m.right)) {
        return 'link: expected epoch, parent, left, right (each null or {id, pid})';
      }
      const spec = (c: PeerSpec | null): PeerSpec | null => (c === null ? null : { id: c.id, pid: c.pid });
      return { t: 'link', epoch: m.epoch, parent: m.parent, left: spec(m.left), right: spec(m.right) };
    }
    default:
      return `unknown message type ${JSON.stringify(m.t)?.slice(0, 40)}`;
  }
}

/** Reads one process → control line; the problem in words when it is not a valid message. */
export function parseFromNode(line: string): FromNode | string {
  const m = parseObject(line);
  if (typeof m === 'string') return m;
  switch (m.t) {
    case 'waiting':
      return { t: 'waiting' };
    case 'ready':
      if (!isU32(m.keys) || !isU32(m.cutBytes) || !(m.tcp === undefined || isText(m.tcp))) return 'ready: expected keys, cutBytes';
      return { t: 'ready', keys: m.keys, cutBytes: m.cutBytes, ...(typeof m.tcp === 'string' && { tcp: m.tcp }) };
    case 'beat':
      return { t: 'beat' };
    case 'quiet':
      return { t: 'quiet' };
    case 'fatal':
      if (typeof m.message !== 'string') return 'fatal: expected message';
      return { t: 'fatal', message: m.message.slice(0, 1000) };
    case 'caught-up':
    case 'fenced':
    case 'follower-late':
      if (!isU32(m.epoch)) return `${m.t}: expected epoch`;
      return { t: m.t, epoch: m.epoch };
    default:
      return `unknown message type ${JSON.stringify(m.t)?.slice(0, 40)}`;
  }
}

/** One message as its line (with the newline). */
export function controlLine(msg: ToNode | FromNode): string {
  return `${JSON.stringify(msg)}\n`;
}
