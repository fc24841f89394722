/** The order pending deltas are checked in, and what is refused before any is stored (receiveDeltas.ts). */
import { describe, expect, it } from 'vitest';
import { deltaLevels, PendingDeltas } from '../../../../src/repo/transfer/receiveDeltas.js';
import { MvmError } from '../../../../src/errors.js';
import { codeOf } from '../../../helpers/errors.js';

const id = (n: number) => n.toString(16).padStart(64, '0');

/** Pending deltas from [delta, base] pairs, each of `size` bytes with `bytes` kept. */
function pending(pairs: [number, number][], size = 100, cap?: number): PendingDeltas {
  const p = new PendingDeltas(cap);
  for (const [d, b] of pairs) p.add({ id: id(d), base: id(b), size, bytes: new Uint8Array(10) });
  return p;
}

const held = (ids: number[]) => (x: string) => ids.some((n) => id(n) === x);

describe('deltaLevels', () => {
  it('orders deltas so each comes after its base: held bases first', () => {
    const p = pending([
      [3, 2],
      [2, 1],
      [5, 1],
      [1, 0],
    ]);
    const levels = deltaLevels(p, held([0]), 'u').map((l) => l.map((x) => x.id).sort());
    expect(levels).toEqual([[id(1)], [id(2), id(5)].sort(), [id(3)]]);
  });

  it('takes a chain of MAX_DELTA_DEPTH (8) and refuses one deeper, a cycle, a missing base, another size', () => {
    const chain = (n: number) => Array.from({ length: n }, (_, i) => [i + 1, i] as [number, number]);
    expect(deltaLevels(pending(chain(8)), held([0]), 'u')).toHaveLength(8);
    const refusal = (p: PendingDeltas, h = held([0])) => {
      try {
        deltaLevels(p, h, 'u');
      } catch (e) {
        expect(e).toBeInstanceOf(MvmError);
        return (e as MvmError).message;
      }
      return 'taken';
    };
    expect(refusal(pending(chain(9)))).toMatch(/deeper than 8/);
    expect(refusal(pending(chain(9).reverse()))).toMatch(/deeper than 8/);
    expect(
      refusal(
        pending([
          [1, 2],
          [2, 1],
        ]),
      ),
    ).toMatch(/cycle/);
    expect(refusal(pending([[1, 1]]))).toMatch(/cycle/);
    expect(refusal(pending([[1, 7]]))).toMatch(/neither here nor on the remote/);
    const sized = new PendingDeltas();
    sized.add({ id: id(1), base: id(0), size: 100, bytes: null });
    sized.add({ id: id(2), base: id(1), size: 200, bytes: null });
    expect(refusal(sized)).toMatch(/another size/);
    expect(codeOf(() => deltaLevels(pending(chain(9)), held([0]), 'u'))).toBe('REMOTE_CORRUPT');
  });
});

describe('PendingDeltas', () => {
  it('keeps bytes up to its cap, then only what each delta needs; lists the bases to fetch', () => {
    const p = pending(
      [
        [1, 0],
        [2, 1],
        [3, 9],
      ],
      100,
      20,
    );
    expect([...p.values()].map((x) => x.bytes !== null)).toEqual([true, true, false]);
    expect(p.keepBytes).toBe(false);
    expect([...p.basesToFetch(held([0]))]).toEqual([[id(9), 100]]);
  });
});
