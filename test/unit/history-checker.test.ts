/** The register checker of the fault tests must catch what it is there to catch. */
import { describe, expect, it } from 'vitest';
import { checkRegisters, type Operation } from '../helpers/history.js';

const store = (value: bigint, invokedAt: number, returnedAt: number, ok = true): Operation => ({ key: 'k', kind: 'store', value, invokedAt, returnedAt, ok });
const load = (value: bigint | null, invokedAt: number, returnedAt: number): Operation => ({ key: 'k', kind: 'load', value, invokedAt, returnedAt, ok: true });

describe('register history checker', () => {
  it('accepts a valid history, with an unknown store that was applied and concurrent reads either way', () => {
    expect(
      checkRegisters([
        load(null, 0, 1),
        store(1n, 2, 3),
        load(1n, 4, 5),
        store(2n, 6, 8, false), // failed: unknown
        load(2n, 9, 10), // it had been applied
        store(3n, 11, 20),
        load(2n, 12, 13), // concurrent with the store of 3: the old value is fine
        load(3n, 14, 15), // and so is the new one
        load(3n, 21, 22),
      ]),
    ).toEqual([]);
  });

  it('catches a lost acknowledged store (a stale read)', () => {
    expect(checkRegisters([store(1n, 0, 1), store(2n, 2, 3), load(1n, 4, 5)])).toEqual([
      'load of k invoked at 4.0 ms returned 1, older than 2 acknowledged before it',
    ]);
  });

  it('catches a value nobody wrote, and one written only after the load returned', () => {
    expect(checkRegisters([store(1n, 0, 1), load(99n, 2, 3), load(5n, 4, 5), store(5n, 6, 7)])).toEqual([
      'load of k invoked at 2.0 ms returned 99, which no store invoked before it returned wrote',
      'load of k invoked at 4.0 ms returned 5, which no store invoked before it returned wrote',
    ]);
  });

  it('catches "not found" after an acknowledged store', () => {
    expect(checkRegisters([store(1n, 0, 1), load(null, 2, 3)])).toEqual(['load of k invoked at 2.0 ms found nothing, but 1 was acknowledged before it']);
  });

  it('ignores loads that failed', () => {
    expect(checkRegisters([store(1n, 0, 1), { key: 'k', kind: 'load', value: undefined, invokedAt: 2, returnedAt: 3, ok: false }])).toEqual([]);
  });
});
