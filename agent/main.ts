/**
 * @module `arbor-agent`: runs computing processes on this host for a gateway elsewhere.
 *
 *   arbor-agent --join HOST:PORT --cluster-secret FILE --name NAME [--advertise IP]
 *               [--data-dir DIR] [--orphan-grace-ms N]
 *
 * It connects to the gateway's cluster endpoint (a DEALER, CURVE client with the cluster's keys;
 * see link/agent-link.ts), joins as host NAME, and starts computing processes when
 * the control asks. It is their OS parent and relays each one's control channel over the link;
 * to each claim it adds what only this host knows: the cluster's keys (read from FILE here, so
 * the secret key never travels) and where the node's log lives (DIR). Nodes bind tcp on the
 * advertised address (port chosen by the OS), never on all interfaces.
 *
 * DIR is private: made 0700 when missing, refused (exit 2) when another user owns it or group or
 * others can write into it (lib/private-dir.ts); by default it is in this user's state directory
 * (agent/data-dir.ts). The nodes get an environment with none of the agent's secrets in it
 * (lib/child-env.ts). A gateway that refuses the agent's key makes it exit 2, saying so
 * (agent/handshake-refusals.ts), rather than retry for ever.
 *
 * While the gateway cannot be reached the processes keep running for the orphan grace, then are
 * stopped. When the agent dies, its processes see their stdin close and exit (no orphans).
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import type * as Zmq from 'zeromq';
import {
  AGENT_LINK_HEARTBEAT_MS,
  AGENT_LINK_TIMEOUT_MS,
  agentFrame,
  type ClusterKeys,
  ClusterSecretError,
  controlLine,
  curveClientOptions,
  type FromAgent,
  loadClusterSecret,
  parseToAgent,
  parseToNode,
} from '../link/index.js';
import { childEnvironment } from '../lib/child-env.js';
import { ensurePrivateDir, PrivateDirError } from '../lib/private-dir.js';
import { eachLine, SupervisedProcess } from '../lib/supervised-process.js';
import { versionLine } from '../lib/version.js';
import { defaultDataDir } from './data-dir.js';
import { EXIT_USAGE, UsageError, usageErrorLine } from '../lib/args.js';
import { AGENT_USAGE, type AgentArgs, type AgentRequest, parseAgentArgs } from './args.js';
import { REFUSAL_LIMIT, refusalsAfter } from './handshake-refusals.js';

const zmq = createRequire(import.meta.url)('zeromq') as typeof Zmq;

/** The address this host reaches `host` from (a connected UDP socket; nothing is sent). */
function localAddressTowards(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.connect(port, host, () => {
      const { address } = socket.address();
      socket.close();
      resolve(address);
    });
  });
}

function computingEntry(): string {
  for (const dist of ['../computing/', '../dist/computing/']) {
    for (const file of ['bundle/main.js', 'main.js']) {
      const path = fileURLToPath(new URL(`${dist}${file}`, import.meta.url));
      if (existsSync(path)) return path;
    }
  }
  return fileURLToPath(new URL('../computing/main.js', import.meta.url));
}

function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ level, time: Date.now(), name: 'arbor-agent', msg, ...fields })}\n`);
}

class Agent {
  private readonly dealer: Zmq.Dealer;
  private readonly procs = new Map<number, SupervisedProcess>();
  private readonly boot = randomBytes(8).toString('hex');
  private joined = false;
  private orphanTimer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Failed CURVE handshakes in a row (agent/handshake-refusals.ts). */
  private refusals = 0;
  /** The gateway process we joined (its boot id). */
  private gateway: string | undefined;

  constructor(
    private readonly args: AgentArgs,
    private readonly keys: ClusterKeys,
    private readonly advertise: string,
    private readonly dataDir: string,
    private readonly entry: string,
  ) {
    this.dealer = new zmq.Dealer({
      // One routing id for this agent process's life: what it sent while the link was down
      // (a process's exit) arrives after a reconnect as ours, before the join says so again.
      routingId: `${args.name}:${this.boot}`,
      linger: 0,
      sendHighWaterMark: 100_000,
      reconnectInterval: 100,
      reconnectMaxInterval: 1000,
      heartbeatInterval: AGENT_LINK_HEARTBEAT_MS,
      heartbeatTimeout: AGENT_LINK_TIMEOUT_MS,
      heartbeatTimeToLive: AGENT_LINK_TIMEOUT_MS,
      maxMessageSize: 256 * 1024,
      ...curveClientOptions(keys),
    });
  }

  async run(): Promise<void> {
    this.watchConnection();
    // "Still here": when the link then closes, the control knows it was closed (this agent or its
    // host died), not cut, and takes over at once rather than after the orphan grace.
    setInterval(() => {
      if (this.joined && this.orphanTimer === null) this.send({ t: 'beat' });
    }, AGENT_LINK_HEARTBEAT_MS).unref();
    this.dealer.connect(`tcp://${this.args.join}`);
    this.joinNow();
    for await (const [frame] of this.dealer) {
      if (frame === undefined) continue;
      const msg = parseToAgent(frame);
      if (typeof msg === 'string') {
        log('warn', 'ignored a bad message from the gateway', { problem: msg });
        continue;
      }
      switch (msg.t) {
        case 'welcome':
          this.clearOrphanTimer();
          if (this.gateway !== undefined && this.gateway !== msg.gateway) {
            // Another gateway process: the nodes we run were the old one's, and it restarts them from
            // their logs. Stop them first, so two processes never write one log.
            log('warn', 'a new gateway: stopping the nodes of the previous one', { nodes: this.procs.size });
            const old = [...this.procs.values()];
            this.procs.clear();
            await Promise.all(old.map((p) => p.stop(2000)));
          }
          this.gateway = msg.gateway;
          if (!this.joined) process.stdout.write(`arbor-agent ${this.args.name} joined ${this.args.join}\n`);
          else log('info', 'joined the gateway again', { join: this.args.join });
          this.joined = true;
          break;
        case 'refused':
          log('error', 'the gateway refused this agent', { reason: msg.reason });
          process.stderr.write(`arbor-agent: the gateway refused the join: ${msg.reason}\n`);
          await this.stop(2);
          return;
        case 'spawn':
          this.spawn(msg.proc);
          break;
        case 'in':
          this.procs.get(msg.proc)?.child.stdin?.write(`${this.localise(msg.line)}\n`);
          break;
        case 'signal':
          this.procs.get(msg.proc)?.signal(msg.signal);
          break;
        case 'probe':
          break;
      }
    }
  }

  /** Adds this host's part to a claim (keys from our file, the log in our data dir); other lines pass as they are. */
  private localise(line: string): string {
    const msg = parseToNode(line);
    if (typeof msg === 'string' || msg.t !== 'claim') return line;
    const log = msg.log === null ? null : join(this.dataDir, basename(msg.log));
    return controlLine({ ...msg, log, curve: this.keys }).trimEnd();
  }

  private spawn(proc: number): void {
    // No secret of ours in its environment (lib/child-env.ts): it gets the keys on its control channel.
    const child = SupervisedProcess.spawn(process.execPath, [this.entry], { stdio: ['pipe', 'pipe', 'pipe'], env: childEnvironment(process.env) });
    this.procs.set(proc, child);
    this.send({ t: 'spawned', proc, pid: child.pid });
    const current = (): boolean => this.procs.get(proc) === child;
    if (child.child.stdout) eachLine(child.child.stdout, (line) => (current() ? this.send({ t: 'out', proc, line }) : undefined));
    if (child.child.stderr) eachLine(child.child.stderr, (line) => (current() ? this.send({ t: 'err', proc, line }) : undefined));
    void child.exited.then((exit) => {
      // Only the gateway that asked for it hears of its exit (process numbers are per gateway).
      if (this.procs.get(proc) !== child) return;
      this.procs.delete(proc);
      this.send({ t: 'exit', proc, code: exit.code, signal: exit.signal });
    });
  }

  private joinNow(): void {
    this.send({ t: 'join', name: this.args.name, advertise: this.advertise, boot: this.boot, pid: process.pid, graceMs: this.args.orphanGraceMs });
  }

  private send(msg: FromAgent): void {
    const frame = agentFrame(msg);
    // One send at a time (zeromq.js); queued in libzmq while the gateway is away.
    this.sending = this.sending.then(() => this.dealer.send(frame)).catch(() => undefined);
  }

  /** The link's own heartbeats cut a silent gateway: start the orphan grace; a new handshake joins again. */
  private watchConnection(): void {
    const events = this.dealer.events;
    void (async () => {
      for await (const event of events) {
        if (event.type === 'disconnect' && this.joined && this.orphanTimer === null && !this.stopping) {
          log('warn', 'lost the gateway; nodes keep running for the orphan grace', { orphanGraceMs: this.args.orphanGraceMs });
          this.orphanTimer = setTimeout(() => {
            // The nodes stop; the agent stays and keeps trying: when the gateway is back it hears
            // of their exits and restarts them here from their logs.
            log('error', 'the gateway stayed away for the orphan grace: stopping the nodes', { orphanGraceMs: this.args.orphanGraceMs });
            this.orphanTimer = null;
            for (const child of this.procs.values()) void child.stop(2000);
          }, this.args.orphanGraceMs);
        } else if (event.type === 'handshake' && this.joined) {
          // libzmq reconnected: say who we are again (the gateway maps the new connection to us).
          this.joinNow();
        }
        this.refusals = refusalsAfter(this.refusals, event.type);
        if (event.type.startsWith('handshake:error:') && !this.stopping) {
          log('warn', 'a CURVE handshake with the gateway failed', { event: event.type, refusals: this.refusals, limit: REFUSAL_LIMIT });
          if (this.refusals >= REFUSAL_LIMIT) {
            const secret = resolve(this.args.secret);
            log('error', 'the gateway refused this agent\'s key: stopping', { join: this.args.join, secret, refusals: this.refusals });
            process.stderr.write(
              `arbor-agent: the gateway at ${this.args.join} refused this agent's key (${this.refusals} failed CURVE handshakes, last ${event.type}): ` +
                `${secret} is not that gateway's cluster secret; copy the gateway's --cluster-secret file to this host\n`,
            );
            await this.stop(2);
            return;
          }
        }
      }
    })().catch(() => undefined);
  }

  private clearOrphanTimer(): void {
    if (this.orphanTimer !== null) clearTimeout(this.orphanTimer);
    this.orphanTimer = null;
  }

  async stop(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.clearOrphanTimer();
    await Promise.all([...this.procs.values()].map((p) => p.stop(2000)));
    this.dealer.close();
    process.exit(code);
  }
}

async function main(): Promise<void> {
  let request: AgentRequest;
  try {
    request = parseAgentArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${usageErrorLine('arbor-agent', error.message)}\n`);
    process.exit(EXIT_USAGE);
  }
  if (request.kind === 'version') {
    process.stdout.write(`${versionLine('arbor-agent')}\n`);
    return;
  }
  if (request.kind === 'help') {
    process.stdout.write(`${AGENT_USAGE}\n`);
    return;
  }
  const { args } = request;
  let keys: ClusterKeys;
  try {
    keys = loadClusterSecret(args.secret, false, (message) => log('warn', message));
  } catch (error) {
    process.stderr.write(`arbor-agent: ${error instanceof ClusterSecretError ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const dataDir = resolve(args.dataDir ?? defaultDataDir(args.name, process.env, homedir()));
  try {
    ensurePrivateDir(dataDir);
  } catch (error) {
    process.stderr.write(`arbor-agent: refusing the data dir: ${error instanceof PrivateDirError ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const [host, port] = [args.join.slice(0, args.join.lastIndexOf(':')), Number(args.join.slice(args.join.lastIndexOf(':') + 1))];
  const advertise = args.advertise ?? (await localAddressTowards(host, port));
  const agent = new Agent(args, keys, advertise, dataDir, computingEntry());
  process.on('SIGTERM', () => void agent.stop(0));
  process.on('SIGINT', () => void agent.stop(0));
  await agent.run();
}

void main();
