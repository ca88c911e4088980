import { randomBytes } from 'node:crypto';

/**
 * The pre-queue shuffle: Fisher–Yates driven by xorshift128 seeded with 128 random bits.
 * lua/shuffle-prequeue.lua runs exactly the same steps on the same seed, so both stores give
 * the same permutation for the same seed (the contract suite checks it). Each draw takes 53
 * bits from two 32-bit outputs, so the index bias is below 2^-30 even for millions of buyers.
 */
export type ShuffleSeed = readonly [number, number, number, number];

/** Four signed 32-bit words, never all zero (xorshift's one fixed point). */
export function newShuffleSeed(): ShuffleSeed {
  for (;;) {
    const b = randomBytes(16);
    const seed = [b.readInt32LE(0), b.readInt32LE(4), b.readInt32LE(8), b.readInt32LE(12)] as const;
    if (seed.some((w) => w !== 0)) return seed;
  }
}

/** A uniform double in [0, 1) from a seeded xorshift128 stream. */
export function xorshift128(seed: ShuffleSeed): () => number {
  let [x, y, z, w] = seed;
  const next32 = () => {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = w ^ (w >>> 19) ^ (t ^ (t >>> 8));
    w |= 0;
    return w >>> 0;
  };
  return () => {
    const hi = next32() >>> 5; // 27 bits
    const lo = next32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  };
}

/** Shuffles `items` in place, uniformly, with the seeded stream. Returns the same array. */
export function shuffleInPlace<T>(items: T[], seed: ShuffleSeed): T[] {
  const random = xorshift128(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
