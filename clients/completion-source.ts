/**
 * @module Where tab completion's ids and names come from: the tree (`Topology`) and a node's
 * names (a `keys` page), asked of the gateway when Tab is pressed and kept for a moment, so that
 * holding Tab does not ask again and again. Tab never waits long: past LOOKUP_MS it completes
 * with what is known.
 */
import { MAX_KEYS_LIMIT } from '../proto/limits.js';
import { completeLine, type KnownNames, lookupFor } from './completion.js';
import type { GatewayPort } from './gateway-link.js';

/** How long an answer is reused. */
export const FRESH_MS = 2000;
/** The longest Tab waits for the gateway. */
export const LOOKUP_MS = 300;
/** Names asked for one completion, at most. */
const NAMES_LIMIT = 200;

export class CompletionSource implements KnownNames {
  private idList: number[] = [];
  private idsAt = -Infinity;
  private readonly nameLists = new Map<string, { names: string[]; at: number }>();

  constructor(private readonly gateway: GatewayPort) {}

  get ids(): readonly number[] {
    return this.idList;
  }

  names(id: number): readonly string[] {
    let found: string[] = [];
    for (const [key, entry] of this.nameLists) if (key.startsWith(`${id} `)) found = found.concat(entry.names);
    return [...new Set(found)].sort();
  }

  /** readline's completer: looks up what `line` needs (briefly), then completes it. */
  readonly complete = (line: string, callback: (error: null, result: [string[], string]) => void): void => {
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, LOOKUP_MS).unref());
    void Promise.race([this.lookUp(line), timeout]).then(() => callback(null, completeLine(line, this)));
  };

  private async lookUp(line: string): Promise<void> {
    const need = lookupFor(line);
    try {
      if (need?.kind === 'ids' && Date.now() - this.idsAt > FRESH_MS) {
        this.idsAt = Date.now();
        this.idList = (await this.gateway.topology()).nodes.map((node) => node.id).sort((a, b) => a - b);
      } else if (need?.kind === 'names' && /^[A-Za-z0-9]*$/.test(need.prefix)) {
        const key = `${need.id} ${need.prefix}`;
        const known = this.nameLists.get(key);
        if (known !== undefined && Date.now() - known.at <= FRESH_MS) return;
        const page = await this.gateway.send({ $case: 'keys', value: { id: need.id, prefix: need.prefix, limit: Math.min(NAMES_LIMIT, MAX_KEYS_LIMIT), startAfter: '' } });
        if (page.$case === 'keys') this.nameLists.set(key, { names: page.value.entries.map((entry) => entry.name), at: Date.now() });
      }
    } catch {
      /* Not connected, or the gateway refused: complete with what is known. */
    }
  }
}
