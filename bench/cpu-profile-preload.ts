/**
 * @module Preloaded with `--import` through NODE_OPTIONS (where Node 20 refuses `--cpu-prof`):
 * V8's sampling profiler, switched by SIGUSR2 so a profile covers only the load, not startup
 * or tree building. The first SIGUSR2 starts it; the second (or the process's exit) stops it and
 * writes `<pid>.cpuprofile` to ARBOR_BENCH_PROFILE_DIR.
 *
 * Computing processes get NODE_OPTIONS, ARBOR_BENCH_PROFILE_DIR and ARBOR_BENCH_PROFILE_WHO
 * (lib/child-env.ts allow-lists them), so a gateway's computing processes load this too; only
 * those listed take part: ARBOR_BENCH_PROFILE_WHO is a comma-separated list of "gateway" and
 * node ids (a profiler in every one of 31 processes would swamp two cores). The others are
 * untouched (no SIGUSR2 handler).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const dir = process.env.ARBOR_BENCH_PROFILE_DIR;
const who = new Set((process.env.ARBOR_BENCH_PROFILE_WHO ?? 'gateway').split(','));
const idAt = process.argv.indexOf('--id');
const me = idAt === -1 ? 'gateway' : (process.argv[idAt + 1] ?? '');

if (dir !== undefined && dir !== '' && who.has(me)) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  let running = false;
  const stop = (): void => {
    if (!running) return;
    running = false;
    // An in-thread inspector session answers synchronously, so this also completes at exit.
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(`${dir}/${process.pid}.cpuprofile`, JSON.stringify(result.profile));
    });
  };
  process.on('SIGUSR2', () => {
    if (running) return stop();
    running = true;
    session.post('Profiler.start');
  });
  process.on('exit', stop);
}
