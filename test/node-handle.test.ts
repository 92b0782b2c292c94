/** One node's lifecycle: every move goes through one guarded function, which refuses illegal ones and logs each. */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { IllegalTransition, NodeHandle, type NodeState } from '../control/node-handle.js';

function logged(): { handle: (initial: 'starting' | 'restarting') => NodeHandle; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push((JSON.parse(line) as { msg: string }).msg) });
  return { handle: (initial) => new NodeHandle(11, initial, log), lines };
}

describe('node lifecycle', () => {
  it('walks starting -> running -> restarting -> running -> restarting -> failed, logging each move', () => {
    const { handle, lines } = logged();
    const node = handle('starting');
    node.transition('running', 'created as pid 1');
    node.transition('restarting', 'its process was killed by SIGKILL');
    node.transition('running', 'restarted as pid 2');
    node.transition('restarting', 'its process exited with code 3');
    node.transition('failed', 'given up');
    node.transition('stopping', 'the gateway is stopping');
    node.transition('stopped', 'stopped');
    expect(lines).toEqual([
      'node 11: starting -> running (created as pid 1)',
      'node 11: running -> restarting (its process was killed by SIGKILL)',
      'node 11: restarting -> running (restarted as pid 2)',
      'node 11: running -> restarting (its process exited with code 3)',
      'node 11: restarting -> failed (given up)',
      'node 11: failed -> stopping (the gateway is stopping)',
      'node 11: stopping -> stopped (stopped)',
    ]);
  });

  it.each<[NodeState[], NodeState]>([
    [[], 'restarting'], // a node that never ran cannot restart
    [['running', 'restarting', 'failed'], 'running'], // a failed node stays failed
    [['running', 'exited'], 'restarting'], // --restart never: exited is final
    [['stopped'], 'running'], // a failed create is gone
    [['running'], 'starting'],
  ])('refuses an illegal move after %j: -> %s', (path, illegal) => {
    const { handle, lines } = logged();
    const node = handle('starting');
    for (const to of path) node.transition(to, 'step');
    const before = node.state;
    expect(() => node.transition(illegal, 'bad')).toThrow(IllegalTransition);
    expect(node.state).toBe(before);
    expect(lines).toHaveLength(path.length);
  });
});
