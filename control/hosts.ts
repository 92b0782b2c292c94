/**
 * @module Other hosts, as the control sees them: the cluster endpoint (`--cluster-listen`, a
 * ROUTER that is a CURVE server with the cluster's keys, its ZAP handler admitting only cluster
 * members), the hosts that joined, and the process starter for each: an agent that spawns
 * computing processes there and relays their control channels (computing/protocol/agent-link.ts).
 *
 * A host is known by its name. An agent of that name joining again with the same boot id (the
 * link was cut and came back: a partition healed) takes over its processes as they are; a new
 * boot id means the agent process was replaced, so every process of the old one is gone (they
 * exit with their agent) and is reported exited, which restarts its node there from its log.
 *
 * A host whose link is lost is away; it is *lost* (given up: `lost`) when the link was closed
 * rather than cut (its agent was heard within the last half link timeout: it beats every
 * AGENT_LINK_HEARTBEAT_MS, so only a closed connection ends the link that soon: the agent or its
 * host died), or when it stays away longer than the orphan grace its agent said in its join (by
 * then the agent has stopped its nodes itself). Only --replicas 2 acts on `lost` (its followers
 * elsewhere take over: chains.ts); with one copy a node waits for its host, as its data is there.
 * A process SIGKILLed while its host is away is gone for the control at once; the signal is
 * sent when the same agent joins again, so it can never serve or acknowledge anything later.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Zmq from 'zeromq';
import {
  AGENT_LINK_HEARTBEAT_MS,
  AGENT_LINK_TIMEOUT_MS,
  agentFrame,
  type ClusterKeys,
  curveServerOptions,
  type FromAgent,
  parseFromAgent,
  startZapHandler,
  type ToAgent,
} from '../link/index.js';
import type { Exit } from '../lib/supervised-process.js';
import type { Logger } from '../lib/logger.js';
import { ComputingProcess, type ProcessBackend } from './process.js';

const zmq = createRequire(import.meta.url)('zeromq') as typeof Zmq;

/** One joined host. */
export interface Host {
  name: string;
  /** Where its nodes bind tcp (and others reach them). */
  advertise: string;
  connected: boolean;
  boot: string;
  rid: Buffer | null;
  /** Its agent's --orphan-grace-ms, from its join. */
  graceMs: number;
  /** When its agent was last heard (any message; Date.now()). */
  heardAt: number;
  /** Given up: its link closed, or it stayed away longer than its grace (see the module comment). */
  lost: boolean;
}

/** An agent that says no grace in its join (an older one) keeps its nodes this long: its default. */
const DEFAULT_GRACE_MS = 60_000;

/** A process an agent runs for us. */
class RemoteBackend implements ProcessBackend {
  pid = -1;
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;
  private resolveExit!: (exit: Exit) => void;
  stdout: (line: string) => void = () => undefined;
  stderr: (line: string) => void = () => undefined;

  constructor(
    readonly proc: number,
    readonly host: Host,
    private readonly agents: Agents,
  ) {
    this.exited = new Promise<Exit>((resolve) => (this.resolveExit = resolve));
  }

  ended(exit: Exit): void {
    if (this.exit !== undefined) return;
    this.exit = exit;
    this.resolveExit(exit);
  }

  write(line: string): void {
    if (this.exit === undefined) this.agents.sendTo(this.host, { t: 'in', proc: this.proc, line: line.replace(/\n$/, '') });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exit !== undefined) return;
    if (signal === 'SIGKILL' && !this.host.connected) {
      // Out of reach: killed when its agent is back; gone for us now.
      this.agents.killWhenBack(this.host, this.proc);
      this.ended({ code: null, signal: 'SIGKILL' });
      return;
    }
    this.agents.sendTo(this.host, { t: 'signal', proc: this.proc, signal: signal === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM' });
  }

  async stop(graceMs: number): Promise<Exit> {
    if (this.exit !== undefined) return this.exit;
    this.signal('SIGTERM');
    // The agent stops it, but it may be out of reach: then it is gone for us after the grace.
    const timer = setTimeout(() => {
      this.signal('SIGKILL');
      setTimeout(() => this.ended({ code: null, signal: 'SIGKILL' }), graceMs).unref();
    }, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  onStdout(onLine: (line: string) => void): void {
    this.stdout = onLine;
  }

  onStderr(onLine: (line: string) => void): void {
    this.stderr = onLine;
  }
}

export class Agents {
  readonly hosts = new Map<string, Host>();
  private readonly procs = new Map<number, RemoteBackend>();
  private nextProc = 1;
  /** New for every gateway process: an agent that sees another one stops what the old one asked for. */
  private readonly boot = randomBytes(8).toString('hex');
  private sending: Promise<void> = Promise.resolve();
  private readonly reading: Promise<void>;
  /** Refused handshakes by address: logged once a minute each, never with any key. */
  private readonly refusedAt = new Map<string, number>();
  /** Processes SIGKILLed while their host was away, by host name: killed when its agent is back. */
  private readonly kills = new Map<string, Set<number>>();
  /** Hosts away, until they are lost (their grace). */
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();

  private constructor(
    private readonly router: Zmq.Router,
    readonly endpoint: string,
    private readonly log: Logger,
    private readonly onChange: (host: Host) => void,
    /** The gateway's own host name: no agent may take it. */
    private readonly ownName: string,
  ) {
    this.reading = this.read();
    this.watchHandshakes();
  }

  /**
   * A peer whose keys are not the cluster's at all (another secret file) fails inside CURVE,
   * before the ZAP handler hears of it: libzmq reports that as a handshake error event, which
   * names our endpoint, not the peer (so these are logged once a minute in all).
   */
  private watchHandshakes(): void {
    void (async () => {
      for await (const event of this.router.events) {
        if (!event.type.startsWith('handshake:error')) continue;
        const now = Date.now();
        if (now - this.handshakeErrorLoggedAt < 60_000) continue;
        this.handshakeErrorLoggedAt = now;
        this.log.warn({ endpoint: this.endpoint, event: event.type }, 'a CURVE handshake failed at the cluster endpoint (a peer without the cluster secret); further failures are not logged for a minute');
      }
    })().catch(() => undefined);
  }

  private handshakeErrorLoggedAt = 0;

  /** Listens for agents at `listen` (host:port). */
  static async open(listen: string, keys: ClusterKeys, log: Logger, onChange: (host: Host) => void, ownName = 'local'): Promise<Agents> {
    const box: { self?: Agents } = {};
    await startZapHandler(keys, (refusal) => box.self?.refused(refusal.address, refusal.reason) ?? log.warn({ address: refusal.address, reason: refusal.reason }, 'refused a cluster handshake'));
    const router = new zmq.Router({
      linger: 0,
      mandatory: true,
      sendTimeout: 0,
      // An agent keeps its routing id across reconnections: its new connection replaces the old one.
      handover: true,
      heartbeatInterval: AGENT_LINK_HEARTBEAT_MS,
      heartbeatTimeout: AGENT_LINK_TIMEOUT_MS,
      heartbeatTimeToLive: AGENT_LINK_TIMEOUT_MS,
      maxMessageSize: 256 * 1024,
      ...curveServerOptions(keys),
    });
    // ROUTER_NOTIFY (as the data links; see sockets.ts): a disconnect is an empty message.
    (router as unknown as { setInt32Option(option: number, value: number): void }).setInt32Option(97, 2);
    await router.bind(`tcp://${listen}`);
    const self = new Agents(router, router.lastEndpoint ?? `tcp://${listen}`, log, onChange, ownName);
    box.self = self;
    return self;
  }

  /** host:port agents join at (the real port when 0 was asked for). */
  get address(): string {
    return this.endpoint.replace(/^tcp:\/\//, '');
  }

  private refused(address: string, reason: string): void {
    const now = Date.now();
    const last = this.refusedAt.get(address) ?? 0;
    if (now - last < 60_000) return;
    this.refusedAt.set(address, now);
    this.log.warn({ address, reason }, 'refused a cluster handshake (not a cluster member); further refusals from this address are not logged for a minute');
  }

  /** Starts a computing process on `host` (connected: checked by the caller). */
  start(host: Host, onStderrLine: (line: string) => void): ComputingProcess {
    const backend = new RemoteBackend(this.nextProc++, host, this);
    this.procs.set(backend.proc, backend);
    void backend.exited.then(() => this.procs.delete(backend.proc));
    const proc = ComputingProcess.on(backend, onStderrLine);
    this.sendTo(host, { t: 'spawn', proc: backend.proc });
    if (!host.connected) backend.ended({ code: null, signal: null });
    return proc;
  }

  sendTo(host: Host, msg: ToAgent): void {
    const rid = host.rid;
    if (rid === null || !host.connected) return;
    const frame = agentFrame(msg);
    this.sending = this.sending.then(() => this.router.send([rid, frame])).catch(() => undefined);
  }

  /** Process `proc` of `host` is to be SIGKILLed when its agent joins again (it is away now). */
  killWhenBack(host: Host, proc: number): void {
    const set = this.kills.get(host.name) ?? new Set<number>();
    set.add(proc);
    this.kills.set(host.name, set);
  }

  async close(): Promise<void> {
    for (const timer of this.graceTimers.values()) clearTimeout(timer);
    for (const backend of this.procs.values()) backend.signal('SIGTERM');
    await this.sending;
    this.router.close();
    await this.reading;
  }

  private async read(): Promise<void> {
    try {
      for await (const [rid, frame] of this.router) {
        if (rid === undefined || frame === undefined) continue;
        if (frame.length === 0) {
          this.disconnected(rid);
          continue;
        }
        const msg = parseFromAgent(frame);
        if (typeof msg === 'string') {
          this.log.warn({ problem: msg }, 'dropped a bad message from an agent');
          continue;
        }
        this.handle(rid, msg);
      }
    } catch {
      // Closed.
    }
  }

  private hostOf(rid: Buffer): Host | undefined {
    for (const host of this.hosts.values()) if (host.rid?.equals(rid)) return host;
    return undefined;
  }

  private handle(rid: Buffer, msg: FromAgent): void {
    if (msg.t === 'join') return this.joined(rid, msg);
    const host = this.hostOf(rid);
    if (host !== undefined) host.heardAt = Date.now();
    if (host !== undefined && !host.connected) {
      // Back (its join follows): what it queued while away comes first.
      this.back(host);
      this.onChange(host);
    }
    if (msg.t === 'beat') return;
    const backend = this.procs.get(msg.proc);
    if (host === undefined || backend === undefined || backend.host !== host) return;
    if (msg.t === 'spawned') backend.pid = msg.pid;
    else if (msg.t === 'out') backend.stdout(msg.line);
    else if (msg.t === 'err') backend.stderr(msg.line);
    else if (msg.t === 'exit') backend.ended({ code: msg.code, signal: msg.signal as NodeJS.Signals | null });
  }

  private joined(rid: Buffer, msg: Extract<FromAgent, { t: 'join' }>): void {
    if (msg.name === this.ownName) return this.refuse(rid, msg.name, `host ${msg.name} is the gateway's own name`);
    const known = this.hosts.get(msg.name);
    if (known !== undefined && known.connected && known.rid !== null && !known.rid.equals(rid) && known.boot !== msg.boot) {
      // Another agent already is this host: refuse the newcomer.
      return this.refuse(rid, msg.name, `host ${msg.name} is already joined by another agent`);
    }
    const host: Host = known ?? { name: msg.name, advertise: msg.advertise, connected: true, boot: msg.boot, rid, graceMs: DEFAULT_GRACE_MS, heardAt: Date.now(), lost: false };
    if (known !== undefined && known.boot !== msg.boot) {
      // A new agent process: the old one's processes died with it.
      for (const backend of this.procs.values()) if (backend.host === known) backend.ended({ code: null, signal: 'SIGKILL' });
      this.kills.delete(msg.name);
      this.log.warn({ host: msg.name }, 'a new agent joined for this host: its former processes are gone');
    }
    host.advertise = msg.advertise;
    host.boot = msg.boot;
    host.rid = rid;
    host.graceMs = msg.graceMs ?? DEFAULT_GRACE_MS;
    host.heardAt = Date.now();
    this.back(host);
    this.hosts.set(msg.name, host);
    this.sendTo(host, { t: 'welcome', name: msg.name, gateway: this.boot });
    // The same agent, back: what the control gave up on while it was away is killed now.
    for (const proc of this.kills.get(msg.name) ?? []) this.sendTo(host, { t: 'signal', proc, signal: 'SIGKILL' });
    this.kills.delete(msg.name);
    this.log.info({ host: msg.name, advertise: msg.advertise, agentPid: msg.pid }, known === undefined ? 'a host joined' : 'a host joined again');
    this.onChange(host);
  }

  private refuse(rid: Buffer, name: string, reason: string): void {
    const frame = agentFrame({ t: 'refused', reason });
    this.sending = this.sending.then(() => this.router.send([rid, frame])).catch(() => undefined);
    this.log.warn({ host: name, reason }, 'refused an agent');
  }

  private disconnected(rid: Buffer): void {
    const host = this.hostOf(rid);
    if (host === undefined || !host.connected) return;
    // The agent keeps its routing id, so this may be its old connection handed over to a new one:
    // a send (mandatory) to the id succeeds only while some connection has it.
    const probe = agentFrame({ t: 'probe' });
    this.sending = this.sending
      .then(() => this.router.send([rid, probe]))
      .then(
        () => undefined,
        () => {
          if (!host.connected || host.rid?.equals(rid) !== true) return;
          host.connected = false;
          // Heard within half the link's timeout: the link was closed (the agent or its host died), not cut.
          const closed = Date.now() - host.heardAt < AGENT_LINK_TIMEOUT_MS / 2;
          this.log.warn({ host: host.name, closed, graceMs: host.graceMs }, closed ? 'the link to the agent of a host closed: the host is lost' : 'lost the agent of a host (its nodes may keep running for its orphan grace)');
          if (closed) host.lost = true;
          else {
            const timer = setTimeout(() => {
              this.graceTimers.delete(host.name);
              if (host.connected) return;
              host.lost = true;
              this.log.warn({ host: host.name, graceMs: host.graceMs }, 'a host stayed away longer than its orphan grace: it is lost');
              this.onChange(host);
            }, host.graceMs);
            timer.unref();
            this.graceTimers.set(host.name, timer);
          }
          this.onChange(host);
        },
      );
  }

  /** `host` is connected again: neither away nor lost. */
  private back(host: Host): void {
    host.connected = true;
    host.lost = false;
    const timer = this.graceTimers.get(host.name);
    if (timer !== undefined) clearTimeout(timer);
    this.graceTimers.delete(host.name);
  }
}
