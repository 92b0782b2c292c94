/**
 * The computing processes' environment (lib/child-env.ts): only the allow-listed variables of
 * the parent's, unchanged; never a secret of the gateway's or of anyone else's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHILD_ENV_NAMES, childEnvironment } from '../../lib/child-env.js';

describe('childEnvironment', () => {
  it('keeps exactly the allow-listed variables that are set, with their values', () => {
    const name = fc.oneof(fc.constantFrom(...CHILD_ENV_NAMES, 'ARBOR_TOKEN', 'ARBOR_CLUSTER_SECRET', 'ARBOR_TLS_KEY', 'AWS_SECRET_ACCESS_KEY'), fc.string({ minLength: 1, maxLength: 12 }));
    fc.assert(
      fc.property(fc.dictionary(name, fc.string()), (env) => {
        const out = childEnvironment(env);
        for (const [key, value] of Object.entries(out)) {
          expect(CHILD_ENV_NAMES).toContain(key);
          expect(value).toBe(env[key]);
        }
        for (const key of CHILD_ENV_NAMES) if (env[key] !== undefined) expect(out[key]).toBe(env[key]);
      }),
    );
  });

  it('drops the secrets of a gateway started with all of them', () => {
    const env = {
      PATH: '/usr/bin',
      NODE_OPTIONS: '--max-old-space-size=512',
      ARBOR_FAILPOINT_BLOCK_MS: '500',
      ARBOR_TOKEN: 't0ken',
      ARBOR_CLUSTER_SECRET: '/etc/arbor/cluster.secret',
      ARBOR_TLS_KEY: '/etc/arbor/key.pem',
      ARBOR_TLS_CERT: '/etc/arbor/cert.pem',
      AWS_SECRET_ACCESS_KEY: 'x',
    };
    expect(childEnvironment(env)).toEqual({ PATH: '/usr/bin', NODE_OPTIONS: '--max-old-space-size=512', ARBOR_FAILPOINT_BLOCK_MS: '500' });
  });
});
