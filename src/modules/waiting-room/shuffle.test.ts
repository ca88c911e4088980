import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newShuffleSeed, shuffleInPlace, xorshift128 } from './shuffle.ts';

describe('pre-queue shuffle', () => {
  it('is a permutation: nobody lost, nobody doubled', () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const shuffled = shuffleInPlace([...items], newShuffleSeed());
    assert.deepEqual(
      [...shuffled].sort((a, b) => a - b),
      items,
    );
    assert.notDeepEqual(shuffled, items);
  });

  it('gives the same order for the same seed and different orders for different seeds', () => {
    const seed = newShuffleSeed();
    const a = shuffleInPlace(
      Array.from({ length: 50 }, (_, i) => i),
      seed,
    );
    const b = shuffleInPlace(
      Array.from({ length: 50 }, (_, i) => i),
      seed,
    );
    const c = shuffleInPlace(
      Array.from({ length: 50 }, (_, i) => i),
      newShuffleSeed(),
    );
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('draws uniform doubles in [0, 1)', () => {
    const random = xorshift128(newShuffleSeed());
    const buckets = new Array<number>(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const u = random();
      assert.ok(u >= 0 && u < 1);
      buckets[Math.floor(u * 10)]! += 1;
    }
    const chi = buckets.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
    assert.ok(chi < 33.72, `chi-square ${chi.toFixed(1)} (df 9, p = 0.0001)`);
  });

  it('puts the first arrival at every position equally often (chi-square over 10 positions)', () => {
    const runs = 20_000;
    const counts = new Array<number>(10).fill(0);
    for (let r = 0; r < runs; r++) {
      const order = shuffleInPlace(
        Array.from({ length: 10 }, (_, i) => i),
        newShuffleSeed(),
      );
      counts[order.indexOf(0)]! += 1;
    }
    const chi = counts.reduce((s, c) => s + (c - runs / 10) ** 2 / (runs / 10), 0);
    assert.ok(chi < 33.72, `chi-square ${chi.toFixed(1)} (df 9, p = 0.0001)`);
  });

  it('shuffles 200,000 buyers well under 2 s', () => {
    const items = Array.from({ length: 200_000 }, (_, i) => `usr_${i}`);
    const started = performance.now();
    shuffleInPlace(items, newShuffleSeed());
    assert.ok(performance.now() - started < 2000);
  });
});
