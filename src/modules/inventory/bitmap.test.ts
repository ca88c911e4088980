import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bitmapBytes, countSet, nthClear, setBit, setBits, testBit } from './bitmap.ts';

describe('availability bitmap', () => {
  it('counts the set bits below the seat count, whole bytes and the tail', () => {
    for (const seatCount of [0, 1, 7, 8, 9, 61, 64, 50_001]) {
      const bitmap = new Uint8Array(bitmapBytes(seatCount));
      const chosen = new Set<number>();
      for (let i = 0; i < seatCount; i += 3) chosen.add(i);
      if (seatCount > 0) chosen.add(seatCount - 1);
      for (const i of chosen) setBit(bitmap, i, true);
      assert.equal(countSet(bitmap, seatCount), chosen.size, `seatCount ${seatCount}`);
      assert.equal(countSet(bitmap, seatCount), setBits(bitmap, seatCount).length);
    }
  });

  it('ignores bits past the seat count', () => {
    const bitmap = Uint8Array.of(0xff, 0xff);
    assert.equal(countSet(bitmap, 10), 10);
  });

  it('finds the n-th clear bit, in index order, and -1 past the last', () => {
    for (const seatCount of [0, 1, 7, 8, 9, 61, 64, 5_003]) {
      const bitmap = new Uint8Array(bitmapBytes(seatCount));
      for (let i = 0; i < seatCount; i++) if (i % 5 === 0 || i % 7 === 3) setBit(bitmap, i, true);
      const clear = Array.from({ length: seatCount }, (_, i) => i).filter((i) => !testBit(bitmap, i));
      clear.forEach((index, n) => assert.equal(nthClear(bitmap, seatCount, n), index, `seatCount ${seatCount}, n ${n}`));
      assert.equal(nthClear(bitmap, seatCount, clear.length), -1);
      assert.equal(nthClear(bitmap, seatCount, -1), -1);
    }
    // Bits past the seat count never count as clear seats.
    assert.equal(nthClear(Uint8Array.of(0xff, 0x00), 10, 0), 8);
    assert.equal(nthClear(Uint8Array.of(0xff, 0x00), 10, 2), -1);
  });
});
