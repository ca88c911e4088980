import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bitmapBytes, countSet, setBit, setBits } from './bitmap.ts';

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
});
