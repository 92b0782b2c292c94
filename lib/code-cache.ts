/**
 * @module Runs a program bundle through V8's code cache: what the gateway, the console, `npm
 * start`, the agent and every computing process do first (scripts/bundle.js makes each program a
 * small loader that calls `runProgram`, beside the program itself as one CommonJS-style file).
 *
 * Why: every start of a program parsed and compiled its megabyte of JavaScript again, and a
 * student's script starts the console, the gateway and a computing process per create. Node 20
 * has no compile cache for ES modules (`module.enableCompileCache` is Node 22), but `vm.Script`
 * takes V8's serialized code (`cachedData`): the functions a previous run compiled are read back
 * instead of compiled again.
 *
 * The cache is only an optimisation, so nothing about it can stop a program or change what it
 * does:
 * - It lives in a private directory (lib/private-dir.ts: made 0700, refused when it belongs to
 *   another user or others may write into it): whoever can write a cache file decides what code
 *   runs. Env `ARBOR_CODE_CACHE` names the directory, or is `off`; by default
 *   `$XDG_CACHE_HOME/arbor/code-cache` (else `~/.cache/arbor/code-cache`).
 * - A file is used only when it is a regular file of this user (opened without following a
 *   symbolic link), starts with CACHE_MAGIC, names the SHA-256 of the exact program source it was
 *   made from and carries the SHA-256 of its payload: a stale, truncated or corrupt file is
 *   ignored, and V8 itself rejects data of another V8 version or other flags (the program is then
 *   compiled as without a cache).
 * - It is written once per program version, after the program ran a while (so that it holds the
 *   functions a run needs, not only the top level) or at exit, whichever comes first: to a
 *   temporary file (0600, created exclusively) renamed over the name, so that readers never see
 *   half a file. Any failure leaves the program running without a cache.
 *
 * Node built-ins only, and few: this runs before anything else of the program.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { ensurePrivateDir } from './private-dir.js';

/** The first bytes of a cache file (format version 1). */
export const CACHE_MAGIC = Buffer.from('ARBORCC1', 'latin1');
const HASH_BYTES = 32;
const HEADER_BYTES = CACHE_MAGIC.length + 2 * HASH_BYTES;
/** A cache file larger than this is not read (the programs' caches are a few hundred kilobytes). */
export const MAX_CACHE_BYTES = 64 * 2 ** 20;
/** How long after its start a program writes its cache, unless it exits first. */
export const WRITE_AFTER_MS = 2000;
/** Cache files kept per program (other builds, other Node versions); the oldest go first. */
export const KEPT_PER_PROGRAM = 8;

/**
 * The variables a program bundle sees (scripts/bundle.js builds it as CommonJS, with
 * `import.meta.url` replaced by `__arborImportMetaUrl`: the loader's URL, so that paths relative
 * to it stay those of the ES module build).
 */
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname, __arborImportMetaUrl) {';
const WRAPPER_TAIL = '\n})';

/** Where the cache lives, or undefined when it is off (`ARBOR_CODE_CACHE=off`). */
export function cacheDirectory(env: Readonly<Record<string, string | undefined>>, home: () => string = homedir): string | undefined {
  const setting = env['ARBOR_CODE_CACHE']?.trim();
  if (setting === 'off') return undefined;
  if (setting !== undefined && setting !== '') return resolve(setting);
  const base = env['XDG_CACHE_HOME']?.trim();
  return join(base !== undefined && base.startsWith('/') ? base : join(home(), '.cache'), 'arbor', 'code-cache');
}

/** The cache file's name for a program, its source and this Node: another build or another Node gets another file. */
export function cacheFileName(program: string, sourceHash: Buffer): string {
  return `${program}-${sourceHash.toString('hex').slice(0, 16)}-${process.version}-${process.arch}.v8`;
}

/** A cache file's bytes: magic, the source's hash, the payload's hash, the payload (V8's cached data). */
export function encodeCache(sourceHash: Buffer, payload: Buffer): Buffer {
  return Buffer.concat([CACHE_MAGIC, sourceHash, sha256(payload), payload]);
}

/** V8's cached data from a cache file's bytes, or undefined unless the file is whole and made from this source. */
export function decodeCache(bytes: Buffer, sourceHash: Buffer): Buffer | undefined {
  if (bytes.length <= HEADER_BYTES || !bytes.subarray(0, CACHE_MAGIC.length).equals(CACHE_MAGIC)) return undefined;
  const source = bytes.subarray(CACHE_MAGIC.length, CACHE_MAGIC.length + HASH_BYTES);
  const payloadHash = bytes.subarray(CACHE_MAGIC.length + HASH_BYTES, HEADER_BYTES);
  const payload = bytes.subarray(HEADER_BYTES);
  if (!source.equals(sourceHash) || !sha256(payload).equals(payloadHash)) return undefined;
  return payload;
}

function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The cache file's bytes when it is a regular file of ours and not too large; undefined otherwise (missing, or anything odd). */
function readOwnFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    const uid = process.geteuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid) || st.size > MAX_CACHE_BYTES) return undefined;
    const bytes = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) return undefined;
      at += n;
    }
    return bytes;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Writes the cache file atomically, then drops this program's oldest files past KEPT_PER_PROGRAM. Throws on failure. */
function writeCache(dir: string, program: string, name: string, bytes: Buffer): void {
  ensurePrivateDir(dir);
  const temporary = join(dir, `.${name}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, bytes, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, join(dir, name));
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  const mine = readdirSync(dir)
    .filter((file) => file.startsWith(`${program}-`) && file.endsWith('.v8'))
    .map((file) => ({ file, mtime: statSync(join(dir, file)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { file } of mine.slice(KEPT_PER_PROGRAM)) rmSync(join(dir, file), { force: true });
}

/**
 * Runs the program `programFile` (beside the loader at `loaderUrl`) with V8's code cache, and
 * returns its CommonJS exports. `program` names it in the cache (gateway, arbor, ...). `encoding`
 * is latin1 when the bundle is plain ASCII (decoded byte for byte, the cheap way), else utf8.
 */
export function runProgram(
  loaderUrl: string,
  program: string,
  programFile: string,
  encoding: 'latin1' | 'utf8',
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, unknown> {
  const loaderPath = fileURLToPath(loaderUrl);
  const here = dirname(loaderPath);
  const programPath = join(here, programFile);
  const source = readFileSync(programPath);
  const sourceHash = sha256(source);
  let dir: string | undefined;
  let cached: Buffer | undefined;
  try {
    dir = cacheDirectory(env);
    if (dir !== undefined) {
      ensurePrivateDir(dir);
      const bytes = readOwnFile(join(dir, cacheFileName(program, sourceHash)));
      cached = bytes === undefined ? undefined : decodeCache(bytes, sourceHash);
    }
  } catch {
    // Not a private directory, or none can be made: run without a cache.
    dir = undefined;
  }
  const script = new Script(`${WRAPPER_HEAD}${source.toString(encoding)}${WRAPPER_TAIL}`, {
    filename: programPath,
    ...(cached !== undefined && { cachedData: cached }),
  });
  if (dir !== undefined && (cached === undefined || script.cachedDataRejected === true)) {
    const cacheDir = dir;
    let written = false;
    const write = (): void => {
      if (written) return;
      written = true;
      try {
        writeCache(cacheDir, program, cacheFileName(program, sourceHash), encodeCache(sourceHash, script.createCachedData()));
      } catch {
        // A read-only or full disk: the next start compiles again.
      }
    };
    setTimeout(write, WRITE_AFTER_MS).unref();
    process.once('exit', write);
  }
  const module = { exports: {} as Record<string, unknown> };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, createRequire(loaderPath), module, loaderPath, here, loaderUrl);
  return module.exports;
}
