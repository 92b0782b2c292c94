/**
 * One node's lifecycle: a discriminated union changed through one guarded function, which
 * refuses illegal moves, logs each one and tells the owner; fields exist only in the states
 * that have them.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { IllegalTransition, type Life, NodeHandle } from '../../control/node.js';
import type { ComputingProcess } from '../../control/process.js';

const proc = (pid: number): ComputingProcess => ({ pid }) as unknown as ComputingProcess;
const exit = { code: null, signal: 'SIGKILL' as const };

function logged(): { node: NodeHandle; lines: string[]; told: string[] } {
  const lines: string[] = [];
  const told: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push((JSON.parse(line) as { msg: string }).msg) });
  const node = new NodeHandle(11, 'local', { t: 'starting', proc: null }, log, (n, from) => told.push(`${from.t}->${n.state.t}`));
  return { node, lines, told };
}

describe('node lifecycle', () => {
  it('walks starting -> running -> restarting -> running -> restarting -> failed, logging each move and telling the owner', () => {
    const { node, lines, told } = logged();
    node.set({ t: 'starting', proc: proc(1) }, 'claiming pid 1');
    node.set({ t: 'running', proc: proc(1), linked: true }, 'created as pid 1');
    node.set({ t: 'restarting', reason: 'its process was killed by SIGKILL', lastExit: exit, proc: null }, 'its process was killed by SIGKILL');
    node.set({ t: 'running', proc: proc(2), linked: false }, 'restarted as pid 2');
    node.setLinked(true, 'linked again');
    node.set({ t: 'restarting', reason: 'its process exited with code 3', lastExit: { code: 3, signal: null }, proc: null }, 'its process exited with code 3');
    node.set({ t: 'failed', reason: 'given up', lastExit: null }, 'given up');
    node.set({ t: 'stopping', why: 'the gateway is stopping', proc: null }, 'the gateway is stopping');
    node.set({ t: 'stopped', why: 'stopped' }, 'stopped');
    expect(lines).toEqual([
      'node 11: starting -> running (created as pid 1)',
      'node 11: running -> restarting (its process was killed by SIGKILL)',
      'node 11: restarting -> running (restarted as pid 2)',
      'node 11: running -> restarting (its process exited with code 3)',
      'node 11: restarting -> failed (given up)',
      'node 11: failed -> stopping (the gateway is stopping)',
      'node 11: stopping -> stopped (stopped)',
    ]);
    expect(told).toEqual([
      'starting->starting',
      'starting->running',
      'running->restarting',
      'restarting->running',
      'running->running',
      'running->restarting',
      'restarting->failed',
      'failed->stopping',
      'stopping->stopped',
    ]);
  });

  it('keeps the pid of the last process while it restarts, and the process only in the states that have one', () => {
    const { node } = logged();
    expect(node.process).toBeNull();
    node.set({ t: 'starting', proc: proc(7) }, 'claiming');
    node.set({ t: 'running', proc: proc(7), linked: true }, 'created');
    expect(node.process?.pid).toBe(7);
    node.set({ t: 'restarting', reason: 'crashed', lastExit: exit, proc: null }, 'crashed');
    expect(node.process).toBeNull();
    expect(node.pid).toBe(7);
    expect(node.reason).toBe('crashed');
    expect(node.linked).toBe(false);
  });

  it('a link change is a move within running, told only when it changes', () => {
    const { node, told } = logged();
    node.set({ t: 'running', proc: proc(1), linked: true }, 'created');
    node.setLinked(true, 'again');
    node.setLinked(false, 'moved');
    node.setLinked(false, 'moved again');
    expect(told).toEqual(['starting->running', 'running->running']);
    expect(node.linked).toBe(false);
  });

  const steps: Record<string, Life> = {
    running: { t: 'running', proc: proc(1), linked: true },
    restarting: { t: 'restarting', reason: 'r', lastExit: exit, proc: null },
    failed: { t: 'failed', reason: 'f', lastExit: null },
    exited: { t: 'exited', reason: 'e', lastExit: exit },
    stopped: { t: 'stopped', why: 's' },
    starting: { t: 'starting', proc: null },
  };

  it.each<[string[], string]>([
    [[], 'restarting'], // a node that never ran cannot restart
    [['running', 'restarting', 'failed'], 'running'], // a failed node stays failed
    [['running', 'exited'], 'restarting'], // --restart never: exited is final
    [['stopped'], 'running'], // a failed create is gone
    [['running'], 'starting'],
  ])('refuses an illegal move after %j: -> %s', (path, illegal) => {
    const { node, lines } = logged();
    for (const to of path) node.set(steps[to] as Life, 'step');
    const before = node.state;
    expect(() => node.set(steps[illegal] as Life, 'bad')).toThrow(IllegalTransition);
    expect(node.state).toBe(before);
    expect(lines).toHaveLength(path.length);
  });
});
