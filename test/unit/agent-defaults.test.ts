/**
 * The agent's defaults without processes: its data dir (agent/data-dir.ts) and when it gives up
 * on a gateway that refuses its key (agent/handshake-refusals.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultDataDir } from '../../agent/data-dir.js';
import { REFUSAL_LIMIT, refusalsAfter } from '../../agent/handshake-refusals.js';

describe('the agent data dir by default', () => {
  it('is arbor-agent/<name> in XDG_STATE_HOME, else in ~/.local/state', () => {
    expect(defaultDataDir('b', { XDG_STATE_HOME: '/var/lib/me/state' }, '/home/me')).toBe('/var/lib/me/state/arbor-agent/b');
    expect(defaultDataDir('b', {}, '/home/me')).toBe('/home/me/.local/state/arbor-agent/b');
    // Relative (and empty) values are invalid by the XDG spec, and ignored.
    expect(defaultDataDir('b', { XDG_STATE_HOME: 'state' }, '/home/me')).toBe('/home/me/.local/state/arbor-agent/b');
    expect(defaultDataDir('b', { XDG_STATE_HOME: '' }, '/home/me')).toBe('/home/me/.local/state/arbor-agent/b');
  });

  it('is never under TMPDIR', () => {
    expect(defaultDataDir('b', { TMPDIR: '/tmp' }, '/root')).toBe('/root/.local/state/arbor-agent/b');
  });
});

describe('refusals of the agent key', () => {
  const events = ['handshake', 'handshake:error:other', 'handshake:error:auth', 'handshake:error:protocol', 'connect', 'disconnect', 'connect:retry'] as const;
  const run = (types: readonly string[]): number => types.reduce(refusalsAfter, 0);

  it(`gives up after ${REFUSAL_LIMIT} failed handshakes in a row, at once on one libzmq does not retry`, () => {
    const failedOnce = ['connect', 'handshake:error:other', 'disconnect', 'connect:retry'];
    expect(run(Array.from({ length: REFUSAL_LIMIT - 1 }, () => failedOnce).flat())).toBe(REFUSAL_LIMIT - 1);
    expect(run(Array.from({ length: REFUSAL_LIMIT }, () => failedOnce).flat())).toBe(REFUSAL_LIMIT);
    expect(run(['handshake:error:auth'])).toBe(REFUSAL_LIMIT);
    expect(run(['handshake:error:protocol'])).toBe(REFUSAL_LIMIT);
  });

  it('counts failures since the last handshake that succeeded, whatever else happens', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events), { maxLength: 60 }), (types) => {
        const since = types.slice(types.lastIndexOf('handshake') + 1);
        const others = since.filter((t) => t === 'handshake:error:other').length;
        const final = since.some((t) => t === 'handshake:error:auth' || t === 'handshake:error:protocol');
        const count = run(types);
        expect(count >= REFUSAL_LIMIT).toBe(others >= REFUSAL_LIMIT || final);
        if (!final) expect(count).toBe(others);
      }),
    );
  });
});
