/**
 * @module Where an agent keeps its nodes' logs by default: this user's state directory (XDG Base
 * Directory: `$XDG_STATE_HOME`, else `~/.local/state`), `arbor-agent/<name>` in it. Not under
 * $TMPDIR: a name there is predictable and the directory shared, so another user could make the
 * directory first (lib/private-dir.ts refuses it then, but the agent would not start).
 */
import { isAbsolute, join } from 'node:path';

/** The default data dir of agent `name`, for environment `env` and home directory `home`. */
export function defaultDataDir(name: string, env: NodeJS.ProcessEnv, home: string): string {
  const state = env.XDG_STATE_HOME;
  // The XDG spec: a relative path in these variables is invalid and is ignored.
  const base = state !== undefined && isAbsolute(state) ? state : join(home, '.local', 'state');
  return join(base, 'arbor-agent', name);
}
