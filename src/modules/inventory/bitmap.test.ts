import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bitmapBytes, countClear, countSet, nthClear, setBit, setBits, testBit } from './bitmap.ts';

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

  it('counts the clear bits of any range as a bit-by-bit count does', () => {
    let state = 11; // xorshift32: the same bitmaps every run
    const random = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    const seatCount = 300;
    for (let round = 0; round < 50; round++) {
      const bitmap = new Uint8Array(bitmapBytes(seatCount));
      const fill = random();
      for (let i = 0; i < seatCount; i++) if (random() < fill) setBit(bitmap, i, true);
      for (let k = 0; k < 40; k++) {
        const from = Math.floor(random() * seatCount);
        const to = from + Math.floor(random() * (seatCount - from + 1));
        let expected = 0;
        for (let i = from; i < to; i++) if (!testBit(bitmap, i)) expected += 1;
        assert.equal(countClear(bitmap, from, to), expected, `round ${round}, [${from}, ${to})`);
      }
    }
    assert.equal(countClear(Uint8Array.of(0xff, 0x0f), 4, 16), 4);
    assert.equal(countClear(Uint8Array.of(0xff), 8, 24), 16); // past the end: clear, as testBit reads it
    assert.equal(countClear(Uint8Array.of(0x00), 5, 5), 0);
  });
});
