/**
 * @module Preloaded with `--import` through NODE_OPTIONS (where Node 20 refuses `--cpu-prof`):
 * V8's sampling profiler, switched by SIGUSR2 so a profile covers only the load, not startup
 * or tree building. The first SIGUSR2 starts it; the second (or the process's exit) stops it and
 * writes `<pid>.cpuprofile` to ARBOR_BENCH_PROFILE_DIR.
 *
 * Computing processes get NODE_OPTIONS, ARBOR_BENCH_PROFILE_DIR and ARBOR_BENCH_PROFILE_WHO
 * (lib/child-env.ts allow-lists them), so a gateway's computing processes load this too.
 * ARBOR_BENCH_PROFILE_WHO is a comma-separated list of "gateway" and "nodes": the gateway
 * takes part when it names "gateway"; every computing process when it names anything else
 * (node ids included, as older callers wrote it). A computing process starts as a spare and
 * learns its node id only at its claim, after this ran, so it cannot pick itself by id: the
 * caller chooses by sending SIGUSR2 only to the pids it means. A process that takes part only
 * has the signal handler until its first SIGUSR2 (a profiler in every one of 31 processes
 * would swamp two cores); the others are untouched (no SIGUSR2 handler).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const dir = process.env.ARBOR_BENCH_PROFILE_DIR;
const who = (process.env.ARBOR_BENCH_PROFILE_WHO ?? 'gateway').split(',').filter((w) => w !== '');
const computing = process.argv.some((arg) => /computing\/(bundle\/)?main\.js$/.test(arg));
const takesPart = computing ? who.some((w) => w !== 'gateway') : who.includes('gateway');

if (dir !== undefined && dir !== '' && takesPart) {
  let session: Session | null = null;
  let running = false;
  const stop = (): void => {
    if (!running || session === null) return;
    running = false;
    // An in-thread inspector session answers synchronously, so this also completes at exit.
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(`${dir}/${process.pid}.cpuprofile`, JSON.stringify(result.profile));
    });
  };
  process.on('SIGUSR2', () => {
    if (running) return stop();
    if (session === null) {
      session = new Session();
      session.connect();
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: 1000 });
    }
    running = true;
    session.post('Profiler.start');
  });
  process.on('exit', stop);
}
