/**
 * Preloaded into gateways (`node --import`) by the lock race test: a gateway's first open of a
 * file named `lock` waits until the test says go. Started one by one, gateways reach the lock
 * hundreds of milliseconds apart and a race between them is rare; held here, they all go at
 * once, within a millisecond. Only timing changes: the open itself is the real one.
 *
 * ARBOR_TEST_LOCK_BARRIER=DIR: each gateway creates DIR/ready-<pid> when it arrives, then waits
 * for DIR/go.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import process from 'node:process';

const barrier = process.env.ARBOR_TEST_LOCK_BARRIER;
if (barrier !== undefined && barrier !== '') {
  const open = fs.openSync;
  let waited = false;
  fs.openSync = function openSync(path, ...rest) {
    if (!waited && typeof path === 'string' && path.endsWith('/lock')) {
      waited = true;
      fs.writeFileSync(`${barrier}/ready-${process.pid}`, '');
      const nap = new Int32Array(new SharedArrayBuffer(4));
      while (!fs.existsSync(`${barrier}/go`)) Atomics.wait(nap, 0, 0, 1);
    }
    return open.call(this, path, ...rest);
  };
  // The ES module bindings of node:fs (the bundle's `import { openSync }`) see the wrapper too.
  syncBuiltinESMExports();
}
