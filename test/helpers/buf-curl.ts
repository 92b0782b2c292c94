/**
 * Calls the gateway with `buf curl`, a strict Go client (protodesc, as grpcurl) that learns the
 * schema only through server reflection: no local proto files.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO } from './gateway.js';

const run = promisify(execFile);
const BUF = `${REPO}node_modules/.bin/buf`;

export async function bufCurl(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args], { timeout: 20_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : -1 };
  }
}
