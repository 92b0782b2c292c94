/**
 * @module A gateway started again on its data dir, after one that was killed: the old run's
 * computing processes may still be alive and writing their logs. They end by themselves (their
 * stdin closed); this waits for them, so two processes never write one log.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { SavedTree } from './data-dir.js';
import type { Logger } from './logger.js';

/** How long a gateway started on a data dir waits for the processes of its previous run to end. */
const OLD_PROCESS_GRACE_MS = 3000;

/**
 * The processes a killed gateway left end by themselves once they see their stdin close; wait
 * for them, so two processes never write one log. Stragglers are killed.
 */
export async function waitForOldProcesses(saved: SavedTree, log: Logger): Promise<void> {
  const isOurs = (pid: number): boolean => {
    try {
      return existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('computing/main') && !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const pids = saved.nodes.map((n) => n.pid).filter((pid): pid is number => pid !== null && isOurs(pid));
  const until = Date.now() + OLD_PROCESS_GRACE_MS;
  while (pids.some(isOurs) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  for (const pid of pids.filter(isOurs)) {
    log.warn({ pid }, 'a computing process of the previous gateway is still running: killing it');
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
