/**
 * The availability bitmap in the API's bit order: bit i is bit (i & 7) of byte (i >> 3),
 * least significant first. Redis numbers bits most-significant-first within a byte, so the
 * Redis store writes seat i at offset `redisBitOffset(i)` and its raw bytes come out in API order.
 */
export function redisBitOffset(index: number): number {
  return (index & ~7) | (7 - (index & 7));
}

export function bitmapBytes(seatCount: number): number {
  return Math.ceil(seatCount / 8);
}

export function testBit(bitmap: Uint8Array, index: number): boolean {
  return ((bitmap[index >> 3] ?? 0) & (1 << (index & 7))) !== 0;
}

export function setBit(bitmap: Uint8Array, index: number, on: boolean): void {
  const byte = index >> 3;
  const mask = 1 << (index & 7);
  bitmap[byte] = on ? (bitmap[byte] ?? 0) | mask : (bitmap[byte] ?? 0) & ~mask;
}

const BITS_IN_BYTE = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  return n;
});

/** How many bits below seatCount are set. */
export function countSet(bitmap: Uint8Array, seatCount: number): number {
  const whole = seatCount >> 3;
  let n = 0;
  for (let byte = 0; byte < whole && byte < bitmap.length; byte++) n += BITS_IN_BYTE[bitmap[byte]!]!;
  for (let index = whole * 8; index < seatCount; index++) if (testBit(bitmap, index)) n += 1;
  return n;
}

/**
 * How many bits in [from, to) are clear (bytes past the bitmap's end count as clear, as testBit
 * reads them): whole bytes by their count, so a row of 50 seats costs about 8 steps, not 50.
 */
export function countClear(bitmap: Uint8Array, from: number, to: number): number {
  let n = 0;
  let index = from;
  for (; index < to && (index & 7) !== 0; index++) if (!testBit(bitmap, index)) n += 1;
  for (; index + 8 <= to; index += 8) n += 8 - BITS_IN_BYTE[bitmap[index >> 3] ?? 0]!;
  for (; index < to; index++) if (!testBit(bitmap, index)) n += 1;
  return n;
}

/** Indexes of the set bits below seatCount. */
export function setBits(bitmap: Uint8Array, seatCount: number): number[] {
  const out: number[] = [];
  for (let byte = 0; byte < bitmap.length; byte++) {
    const value = bitmap[byte]!;
    if (value === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      const index = byte * 8 + bit;
      if (index < seatCount && value & (1 << bit)) out.push(index);
    }
  }
  return out;
}

/**
 * The index of the n-th clear bit below seatCount (n from 0), or -1 when there are not that many:
 * whole bytes are skipped by their count, so a 50,000-seat map costs about 6,000 steps, not 50,000.
 */
export function nthClear(bitmap: Uint8Array, seatCount: number, n: number): number {
  if (n < 0) return -1;
  let left = n;
  const whole = seatCount >> 3;
  let byte = 0;
  for (; byte < whole; byte++) {
    const clear = 8 - BITS_IN_BYTE[bitmap[byte] ?? 0]!;
    if (left < clear) break;
    left -= clear;
  }
  for (let index = byte * 8; index < seatCount; index++) {
    if (!testBit(bitmap, index)) {
      if (left === 0) return index;
      left -= 1;
    }
  }
  return -1;
}
