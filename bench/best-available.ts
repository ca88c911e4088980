// Best-available benchmark: `npm run bench:best-available`. Times one choice of the inventory's
// best-available (src/modules/inventory/best-available.ts) on spike-10x's venue — 20,000 seats in
// four sections of 100 rows of 50 — at several fill levels, with each row's free seats bounded from
// the availability bitmap (as PUT /hold does) and, as the baseline in the same run, without the
// bound (every row walked seat by seat). Pure CPU, one process; results: bench/README.md.
//   BENCH_CHOICES (default 2000 per fill level), BENCH_RUNS (default 5; the median is printed)
import { type BaSection, chooseBestAvailable } from '../src/modules/inventory/best-available.ts';
import { bitmapBytes, countClear, setBit, testBit } from '../src/modules/inventory/bitmap.ts';
import { median } from './lib.ts';

const CHOICES = Number(process.env.BENCH_CHOICES ?? 2000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SECTIONS = 4;
const ROWS = 100;
const PER_ROW = 50;
const SEATS = SECTIONS * ROWS * PER_ROW;

const sections: BaSection[] = Array.from({ length: SECTIONS }, (_, s) => ({
  id: `sec${s}`,
  name: `Section ${s + 1}`,
  price: 10_000 - s * 1000,
  order: s,
  rows: Array.from({ length: ROWS }, (_, r) => {
    const first = (s * ROWS + r) * PER_ROW;
    return { label: `R${r + 1}`, first, seats: Array.from({ length: PER_ROW }, (_, x) => ({ index: first + x, x })) };
  }),
}));

/** xorshift32: repeatable fills from run to run. */
let state = 42;
const random = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
};

/** A bitmap with `fill` of the seats taken: whole blocks of 1–4 seats, as buyers take them. */
function filled(fill: number): Uint8Array {
  const bitmap = new Uint8Array(bitmapBytes(SEATS));
  let taken = 0;
  while (taken < fill * SEATS) {
    const start = Math.floor(random() * SEATS);
    for (let i = start; i < Math.min(SEATS, start + 1 + Math.floor(random() * 4)); i++) {
      if (!testBit(bitmap, i)) taken += 1;
      setBit(bitmap, i, true);
    }
  }
  return bitmap;
}

function time(bitmap: Uint8Array, bounded: boolean): number {
  const taken = (i: number) => testBit(bitmap, i);
  const bound = bounded ? (first: number, count: number) => countClear(bitmap, first, first + count) : undefined;
  let found = 0;
  const started = performance.now();
  for (let n = 0; n < CHOICES; n++) if (chooseBestAvailable(sections, taken, 1 + (n % 4), bound)) found += 1;
  const us = ((performance.now() - started) * 1000) / CHOICES;
  if (found < 0) console.log(found); // keeps the loop's result alive
  return us;
}

console.log(
  `best-available on ${SEATS} seats (${SECTIONS} sections x ${ROWS} rows x ${PER_ROW}), quantities 1-4, ${CHOICES} choices, median of ${RUNS} runs`,
);
console.log('fill     with bound µs   seat by seat µs   ratio');
for (const fill of [0.5, 0.9, 0.99, 1]) {
  const bitmap = filled(fill);
  time(bitmap, true); // warm-up
  time(bitmap, false);
  const withBound: number[] = [];
  const without: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    withBound.push(time(bitmap, true));
    without.push(time(bitmap, false));
  }
  const a = median(withBound);
  const b = median(without);
  console.log(
    `${`${Math.round(fill * 100)} %`.padEnd(8)} ${a.toFixed(2).padStart(13)} ${b.toFixed(2).padStart(17)} ${(b / a).toFixed(1).padStart(7)}x`,
  );
}
