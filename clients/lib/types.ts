/**
 * @module The library's public shapes: plain objects, string unions for the proto's enums, bigint
 * for every value (int64 exact), `undefined` for what is absent. Nothing here names grpc-js or
 * the generated code, so a program's types do not change when the transport does.
 */

/** Options every call takes. */
export interface CallOptions {
  /** Aborting it cancels the call: it rejects with `ArborError` code `'cancelled'` (a watch just ends). */
  signal?: AbortSignal;
  /** The call's deadline, in milliseconds from now: past it, `ArborError` code `'deadline-exceeded'` (a watch just ends). */
  timeoutMs?: number;
}

/** How to reach the gateway. */
export interface ArborClientOptions {
  /** The gateway's `host:port` (what its `--listen` says), e.g. `127.0.0.1:50051`. */
  target: string;
  /** Sent as `authorization: Bearer <token>` on every call (for a gateway started with `ARBOR_TOKEN`). */
  token?: string;
  /** Connect with TLS, trusting `ca` (the PEM text of the CA that signed the gateway's certificate). */
  tls?: { ca: string | Uint8Array };
}

/** `create`'s options. */
export interface CreateOptions extends CallOptions {
  /** The parent the caller expects the tree to place the node under (an error if it places it elsewhere). */
  parent?: number;
  /** The host to run the node on: `local` (or the gateway's `--name`) or an agent's name. */
  host?: string;
}

/** The node `create` started. */
export interface CreatedNode {
  id: number;
  /** The OS pid of its computing process. */
  pid: number;
  /** Where the tree placed it; absent for the root. */
  parent?: number;
}

/** What happened to a node. */
export type NodeEventKind = 'created' | 'available' | 'unavailable' | 'exited' | 'restarted' | 'failed' | 'removed';

/** One availability change of one node, as `watch()` yields it. */
export interface NodeEvent {
  id: number;
  kind: NodeEventKind;
  /** When the gateway observed it. */
  time: Date;
  /** Why, in words (e.g. `not heard from for 4 x 100 ms`). */
  reason: string;
  /** For `exited`: the exit code, when the process exited by itself. */
  exitCode?: number;
  /** For `exited`: the signal that ended it (e.g. `SIGKILL`). */
  signal?: string;
  /** For `created` and `restarted`: the pid of the node's new process. */
  pid?: number;
}

/** A node's process lifecycle (`unknown` for a state this version of the library does not know). */
export type NodeState = 'starting' | 'running' | 'exited' | 'restarting' | 'failed' | 'stopping' | 'unknown';

/** One node of the tree, as `topology()` describes it. */
export interface NodeInfo {
  id: number;
  parent?: number;
  left?: number;
  right?: number;
  pid: number;
  /** Edges from the root. */
  depth: number;
  /** Reachable through the tree right now. */
  available: boolean;
  state: NodeState;
  /** How many times its process was replaced after a crash. */
  restarts: number;
  /** Why it is unavailable; '' when it is available. */
  reason: string;
  /** Names in its dictionary. */
  keys: number;
  /** The host its process runs on. */
  host: string;
  /** With `--replicas 2` only: the node's chain (its follower copy and epoch). */
  replica?: ReplicaInfo;
  /** Why its stores are refused now (`disk full`); '' while it takes them. */
  readOnly: string;
}

/** A follower's life: only `in-sync` counts as a copy (it may take over). */
export type FollowerState = 'none' | 'starting' | 'catching-up' | 'in-sync' | 'unknown';

/** A node's chain under `--replicas 2`: the leader is the node's own process. */
export interface ReplicaInfo {
  /** Raised by the control alone, when a copy is lost or a follower takes over. */
  epoch: number;
  follower: FollowerState;
  /** The follower's pid; absent when there is none now. */
  followerPid?: number;
  followerHost: string;
  /** The leader acknowledges with its own copy alone (its follower was lost, a new one is not caught up). */
  solo: boolean;
}

/** The whole tree. */
export interface Topology {
  /** Every node, each parent before its children (pre-order, left before right). */
  nodes: NodeInfo[];
  /** The root's id; absent when the tree is empty. */
  root?: number;
  /** The heartbeat interval in force (0: off). */
  heartbeatIntervalMs: number;
  /** Whether the gateway keeps the tree AVL-balanced. */
  balanced: boolean;
  /** When balanced: the deepest the tree may be, in edges. */
  depthBound?: number;
}

/** One name of a node's dictionary, with its value. */
export interface KeyEntry {
  name: string;
  value: bigint;
}

/** `keys`' options. */
export interface KeysOptions extends CallOptions {
  /** Only the names that start with it ('' or absent: every name). */
  prefix?: string;
  /** Names per page asked of the gateway (1 to 10,000; absent: 10,000). Each page is one call and one deadline. */
  pageSize?: number;
}

/** One page of `keysPage`: names in ascending order, from one moment of the node's dictionary. */
export interface KeysPage {
  entries: KeyEntry[];
  /** Whether names follow: ask again with `startAfter` the last entry's name. */
  more: boolean;
  /** The dictionary's revision at that moment: two pages with the same revision saw the same dictionary. */
  revision: bigint;
}

/** `keysPage`'s options. */
export interface KeysPageOptions extends CallOptions {
  prefix?: string;
  /** The page starts after this name ('' or absent: at the first). */
  startAfter?: string;
  /** At most this many entries (1 to 10,000; absent: the gateway's default). */
  limit?: number;
}

/** What happened to one name: `put` (stored, with its value) or `delete`. */
export type KeyEventKind = 'put' | 'delete';

/** One acknowledged store or delete, as `watchKeys()` yields it. */
export interface KeyEvent {
  id: number;
  name: string;
  kind: KeyEventKind;
  /** For `put`: the value stored; for `delete`: the value the name had until then. */
  value: bigint;
}

/** `watchKeys`' options. */
export interface WatchKeysOptions extends CallOptions {
  /** Only this node's changes (absent: every node's). */
  id?: number;
  /** Only names that start with it ('' or absent: every name). */
  prefix?: string;
}

/** What `ArborClient` and `ArborSession` both do: each call is one command of the API. */
export interface ArborCommands {
  /** Starts node `id` and places it in the tree; resolves once it is reachable. */
  create(id: number, options?: CreateOptions): Promise<CreatedNode>;
  /** Stores `value` under `name` in node `id`'s dictionary. */
  store(id: number, name: string, value: bigint, options?: CallOptions): Promise<void>;
  /** The value of `name` in node `id`'s dictionary, or `undefined` when it has none. */
  load(id: number, name: string, options?: CallOptions): Promise<bigint | undefined>;
  /** Whether node `id` answers through the tree (`false`, not an error, when it does not). */
  ping(id: number, options?: CallOptions): Promise<boolean>;
  /** Sets the heartbeat interval of every node (0: off); resolves with the interval in force. */
  heartbeat(intervalMs: number, options?: CallOptions): Promise<number>;
  /** Takes node `id` out of the tree (its process and data are gone). */
  remove(id: number, options?: CallOptions): Promise<void>;
  /** Deletes `name` from node `id`'s dictionary; resolves with whether it was there. */
  delete(id: number, name: string, options?: CallOptions): Promise<boolean>;
}
