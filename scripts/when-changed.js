// Runs a build step only when one of its inputs changed since its last successful run, or one
// of its outputs is missing. `npm start` builds first, and with nothing changed that must take
// a moment, not the 20 s of a full generation and compilation. What counts is the inputs'
// content, not their times: a fresh clone (no dist/) or a changed .proto runs the step. Stamps
// live in dist/.stamps/.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

/** Every file under `path` (itself, if it is a file), sorted; `skip` filters names. */
function files(path, skip) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .filter((entry) => !skip.test(entry))
    .flatMap((entry) => files(join(path, entry), skip));
}

/**
 * Runs `command` (through the shell, with node_modules/.bin on the PATH) unless the
 * stamp `name` matches `inputs` and every one of `outputs` exists. Exits the process with the
 * command's status when it fails.
 */
export function whenChanged(name, { inputs, outputs, skip = /\.map$/ }, command) {
  const hash = createHash('sha256').update(command);
  for (const file of inputs.flatMap((path) => files(path, skip))) hash.update(`\0${file}\0`).update(readFileSync(file));
  const digest = hash.digest('hex');
  const stamp = join('dist', '.stamps', `${name}.sha256`);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest && outputs.every((path) => existsSync(path))) return false;
  // node_modules/.bin first, as npm puts it, so `node scripts/build.js` works outside npm too.
  const path = `${join(process.cwd(), 'node_modules', '.bin')}:${process.env.PATH ?? ''}`;
  const run = spawnSync(command, { shell: true, stdio: 'inherit', env: { ...process.env, PATH: path } });
  if (run.status !== 0) {
    process.stderr.write(`build: ${name} failed (${command})\n`);
    process.exit(run.status ?? 1);
  }
  mkdirSync(join('dist', '.stamps'), { recursive: true });
  writeFileSync(stamp, digest);
  return true;
}
