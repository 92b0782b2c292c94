/* Other hosts without processes: the cluster secret file, and the messages of the agent link and the claim's new fields. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  agentFrame,
  ClusterSecretError,
  controlLine,
  loadClusterSecret,
  parseFromAgent,
  parseFromNode,
  parseToAgent,
  parseToNode,
  z85Decode,
} from '../../link/index.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
const tmp = (): string => (dir = mkdtempSync(join(tmpdir(), 'arbor-secret-')));

describe('the cluster secret file', () => {
  it('is created 0600 when missing, then read back unchanged', () => {
    const path = join(tmp(), 'cluster.secret');
    const keys = loadClusterSecret(path, true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(keys.publicKey).toHaveLength(40);
    expect(keys.secretKey).toHaveLength(40);
    expect(loadClusterSecret(path, true)).toEqual(keys);
    expect(loadClusterSecret(path, false)).toEqual(keys);
    expect(z85Decode(keys.publicKey)).toHaveLength(32);
  });

  it('made 0600 when others could read it, saying so without its content', () => {
    const path = join(tmp(), 'cluster.secret');
    const keys = loadClusterSecret(path, true);
    chmodSync(path, 0o644);
    const warnings: string[] = [];
    expect(loadClusterSecret(path, false, (w) => warnings.push(w))).toEqual(keys);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain(keys.secretKey);
  });

  it('refuses a missing file (agents never create one) and one that is not a secret, without echoing it', () => {
    const d = tmp();
    expect(() => loadClusterSecret(join(d, 'missing'), false)).toThrow(ClusterSecretError);
    const bad = join(d, 'bad');
    writeFileSync(bad, 'not json with a secret inside', { mode: 0o600 });
    expect(() => loadClusterSecret(bad, false)).toThrow(/not an arbor cluster secret \(not JSON\)/);
    writeFileSync(bad, JSON.stringify({ publicKey: 'short', secretKey: 'x' }), { mode: 0o600 });
    expect(() => loadClusterSecret(bad, false)).toThrow(/expected publicKey and secretKey/);
    expect(readFileSync(bad, 'utf8')).toContain('short');
  });
});

describe('claim and ready: the fields of other hosts', () => {
  const curve = { publicKey: 'TkpHNE{2SsO><sy8u.R%9atL@6trapPw6f#B9Sat', secretKey: 'pa>gzzNwx741aAFNY2izb&d%7u6L4oz[5kAi^(0y' };
  const claim = {
    t: 'claim',
    id: 20,
    listen: 'tcp://10.0.0.2:*',
    log: null,
    fresh: true,
    fsync: false,
    liveness: { endpoint: 'tcp://10.0.0.1:5000', blockedLoopMs: 10_000, restAfterMs: 1000 },
  } as const;

  it('round-trips curve and tcp, and leaves them out when absent', () => {
    expect(parseToNode(controlLine({ ...claim, curve, tcp: 'tcp://10.0.0.1:*' }).trimEnd())).toEqual({ ...claim, curve, tcp: 'tcp://10.0.0.1:*' });
    expect(parseToNode(controlLine(claim).trimEnd())).toEqual(claim);
    expect(parseFromNode(controlLine({ t: 'ready', keys: 1, cutBytes: 0, tcp: 'tcp://10.0.0.2:4242' }).trimEnd())).toEqual({ t: 'ready', keys: 1, cutBytes: 0, tcp: 'tcp://10.0.0.2:4242' });
    expect(parseFromNode('{"t":"beat"}')).toEqual({ t: 'beat' });
    expect(parseFromNode('{"t":"bound","tcp":"tcp://10.0.0.2:4243"}')).toMatch(/unknown message type/);
  });

  it('refuses malformed keys, a non-tcp extra endpoint, and a claim without its liveness rules', () => {
    expect(parseToNode(JSON.stringify({ ...claim, liveness: { endpoint: 'tcp://10.0.0.1:5000', blockedLoopMs: -1, restAfterMs: 1 } }))).toMatch(/liveness/);
    expect(parseToNode(JSON.stringify({ ...claim, liveness: undefined }))).toMatch(/liveness/);
    expect(parseToNode(JSON.stringify({ ...claim, curve: { publicKey: 'x', secretKey: 'y' } }))).toMatch(/curve must be/);
    expect(parseToNode(JSON.stringify({ ...claim, tcp: 'ipc:///tmp/x' }))).toMatch(/tcp must be/);
  });
});

describe('the agent link messages', () => {
  it('round-trip', () => {
    const join = { t: 'join', name: 'b', advertise: '10.0.0.2', boot: 'abc', pid: 7 } as const;
    expect(parseFromAgent(agentFrame(join))).toEqual(join);
    // An agent says its orphan grace (the control's takeover waits that long for a cut host) and beats.
    expect(parseFromAgent(agentFrame({ ...join, graceMs: 500 }))).toEqual({ ...join, graceMs: 500 });
    expect(parseFromAgent(agentFrame({ t: 'beat' }))).toEqual({ t: 'beat' });
    expect(parseFromAgent(agentFrame({ t: 'exit', proc: 3, code: null, signal: 'SIGKILL' }))).toEqual({ t: 'exit', proc: 3, code: null, signal: 'SIGKILL' });
    expect(parseToAgent(agentFrame({ t: 'welcome', name: 'b', gateway: 'g1' }))).toEqual({ t: 'welcome', name: 'b', gateway: 'g1' });
    expect(parseToAgent(agentFrame({ t: 'in', proc: 1, line: '{"t":"link"}' }))).toEqual({ t: 'in', proc: 1, line: '{"t":"link"}' });
  });

  it('refuses bad host names, signals and garbage', () => {
    expect(parseFromAgent(agentFrame({ t: 'join', name: '../b', advertise: '10.0.0.2', boot: 'x', pid: 1 }))).toMatch(/join: expected/);
    expect(parseFromAgent(Buffer.from(JSON.stringify({ t: 'join', name: 'b', advertise: '10.0.0.2', boot: 'x', pid: 1, graceMs: -1 })))).toMatch(/join: graceMs/);
    expect(parseToAgent(Buffer.from(JSON.stringify({ t: 'signal', proc: 1, signal: 'SIGSTOP' })))).toMatch(/signal: expected/);
    expect(parseFromAgent(Buffer.from('{'))).toBe('not JSON');
    expect(parseToAgent(Buffer.from('[]'))).toBe('not a JSON object');
  });
});
