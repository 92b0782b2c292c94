/**
 * The code cache's file rules (lib/code-cache.ts): where it lives, and that only a whole file
 * made from the same source gives V8 its payload back.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CACHE_MAGIC, cacheDirectory, cacheFileName, decodeCache, encodeCache } from '../../lib/code-cache.js';

const hash = (text: string): Buffer => createHash('sha256').update(text).digest();

describe('cacheDirectory', () => {
  it('is off, the named directory, or under XDG_CACHE_HOME or ~/.cache', () => {
    expect(cacheDirectory({ ARBOR_CODE_CACHE: 'off' })).toBeUndefined();
    expect(cacheDirectory({ ARBOR_CODE_CACHE: '/tmp/x' })).toBe('/tmp/x');
    expect(cacheDirectory({ XDG_CACHE_HOME: '/c' })).toBe('/c/arbor/code-cache');
    // A relative XDG_CACHE_HOME is invalid by the XDG rules: ignored.
    expect(cacheDirectory({ XDG_CACHE_HOME: 'rel' }, () => '/home/u')).toBe('/home/u/.cache/arbor/code-cache');
    expect(cacheDirectory({}, () => '/home/u')).toBe('/home/u/.cache/arbor/code-cache');
  });
});

describe('cache files', () => {
  it('name the program, the source, Node and the architecture', () => {
    const name = cacheFileName('gateway', hash('a'));
    expect(name).toMatch(/^gateway-[0-9a-f]{16}-v\d+\.\d+\.\d+-\w+\.v8$/);
    expect(cacheFileName('gateway', hash('b'))).not.toBe(name);
  });

  it('give back the payload of a whole file made from the same source, and nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.string(), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, source, at, flip) => {
        const payload = Buffer.from(bytes);
        const file = encodeCache(hash(source), payload);
        expect(file.subarray(0, CACHE_MAGIC.length).equals(CACHE_MAGIC)).toBe(true);
        expect(decodeCache(file, hash(source))?.equals(payload)).toBe(true);
        // Another source, a truncated file, any flipped byte: refused.
        expect(decodeCache(file, hash(`${source}x`))).toBeUndefined();
        expect(decodeCache(file.subarray(0, file.length - 1), hash(source))).toBeUndefined();
        const corrupt = Buffer.from(file);
        const i = at % corrupt.length;
        corrupt[i] = (corrupt[i] ?? 0) ^ flip;
        expect(decodeCache(corrupt, hash(source))).toBeUndefined();
      }),
    );
  });
});
