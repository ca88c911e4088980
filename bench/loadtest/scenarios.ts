/** The on-sale scenarios: venue, event settings, buyers, arrivals and what buyers do. */

export type Profile = 'ramp' | 'spike' | 'steady';

export interface Scenario {
  name: string;
  description: string;
  buyers: number;
  /** Arrivals are spread over this many seconds. */
  arrivalSeconds: number;
  profile: Profile;
  /** Seconds after the first arrival at which the sale opens (arrivals before it join the pre-queue). */
  saleOpensAfter: number;
  sections: (
    { name: string; kind: 'seated'; grid: { rows: number; seatsPerRow: number } } | { name: string; kind: 'ga'; capacity: number }
  )[];
  prices: Record<string, number>;
  queue: { admitPerMinute: number; maxActive: number; claimSeconds: number; preQueueMinutes: number };
  holdSeconds: number;
  maxSeatsPerOrder: number;
  /** Seats a buyer wants: uniform in [1, maxQuantity]. */
  maxQuantity: number;
  /** Shares of buyers, at checkout: who abandon, whose first card is declined, who pay asynchronously. */
  abandon: number;
  decline: number;
  asyncCard: number;
  /** Share of buyers who pick seats from the availability bitmap (the rest ask for best-available). */
  pickFromMap: number;
  /** Share of buyers who want GA places (only where the venue has a GA section). */
  gaShare: number;
  /** Share of buyers whose browser already holds the seat map (conditional GET, 304). */
  seatmapCached: number;
  /**
   * A buyer's pause at each decision of checkout — choosing seats on the map, looking over the
   * hold, typing the card — uniform in [0.5, 1.5] × this many seconds. People take far longer; a
   * second keeps the run short, and 0 (`--think-seconds 0`) sends every admitted buyer's requests
   * back to back, a stress no browser produces.
   */
  thinkSeconds: number;
  /** A buyer still waiting after this long gives up (closes the tab). */
  patienceSeconds: number;
  /** Hard limit of the measured window. */
  maxSeconds: number;
}

const grid = (name: string, rows: number, seatsPerRow: number) => ({
  name,
  kind: 'seated' as const,
  grid: { rows, seatsPerRow },
});

export const SCENARIOS: Record<string, Scenario> = {
  // 2,000 seats; ~800 buyers (2.5 seats each on average) empty it. 100 admissions a second keep
  // the embedded server busy but not drowning; 500 active at once is ~5 s of admissions.
  'seed-spike': {
    name: 'seed-spike',
    description: '5,000 buyers ramped over 10 s onto a 2,000-seat arena; the sale opens 3 s into the ramp',
    buyers: 5000,
    arrivalSeconds: 10,
    profile: 'ramp',
    saleOpensAfter: 3,
    sections: [grid('Floor', 20, 40), grid('Lower', 24, 50)],
    prices: { Floor: 12_000, Lower: 7_500 },
    queue: { admitPerMinute: 6000, maxActive: 500, claimSeconds: 60, preQueueMinutes: 30 },
    holdSeconds: 120,
    maxSeatsPerOrder: 6,
    maxQuantity: 4,
    abandon: 0.05,
    decline: 0.05,
    asyncCard: 0.05,
    pickFromMap: 0.5,
    gaShare: 0,
    seatmapCached: 0.5,
    thinkSeconds: 1,
    patienceSeconds: 300,
    maxSeconds: 300,
  },
  // 20,000 seats, ~8,000 buyers needed; admit 11,000 a minute (about 183/s), at most 2,500 active.
  // The rate is below what two cores take (about 227 orders/s on the fastest machine so far): a
  // waiting room that lets buyers in faster than checkout serves them only fills the machine, and
  // every answer waits for a core. At 15,000 a minute (250/s, the rate until 2026-12-07) that
  // machine sold out in 36-37 s with the checkout's p99 215-295 ms on the wire; at 11,000, in 48-49 s
  // with every endpoint's p99 on the wire 88-221 ms at most (bench/README.md, On-sale spike).
  'spike-10x': {
    name: 'spike-10x',
    description: '50,000 buyers over 10 s onto a 20,000-seat venue, up to 4 seats each, 10 % abandon at checkout',
    buyers: 50_000,
    arrivalSeconds: 10,
    profile: 'spike',
    saleOpensAfter: 0,
    sections: [grid('North', 50, 100), grid('East', 50, 100), grid('South', 50, 100), grid('West', 50, 100)],
    prices: { North: 9_000, East: 7_000, South: 9_000, West: 7_000 },
    queue: { admitPerMinute: 11_000, maxActive: 2500, claimSeconds: 60, preQueueMinutes: 30 },
    holdSeconds: 120,
    maxSeatsPerOrder: 4,
    maxQuantity: 4,
    abandon: 0.1,
    decline: 0.05,
    asyncCard: 0.05,
    pickFromMap: 0.5,
    gaShare: 0,
    seatmapCached: 0.8,
    thinkSeconds: 1,
    patienceSeconds: 600,
    maxSeconds: 900,
  },
  // 50,000 seats + 10,000 GA; everyone is in the pre-queue when the sale opens (one shuffle of
  // 100,000), then 500 admissions a second with at most 5,000 active.
  stadium: {
    name: 'stadium',
    description: '100,000 buyers pre-queued over 30 s before the sale opens: a 50,000-seat stadium plus 10,000 GA places',
    buyers: 100_000,
    arrivalSeconds: 30,
    profile: 'steady',
    saleOpensAfter: 32,
    sections: [
      ...['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K'].map((s) => grid(`Stand ${s}`, 50, 100)),
      { name: 'Pitch', kind: 'ga', capacity: 10_000 },
    ],
    prices: Object.fromEntries([
      ...['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K'].map((s, i) => [`Stand ${s}`, 6_000 + 500 * (i % 4)]),
      ['Pitch', 4_500],
    ]),
    queue: { admitPerMinute: 30_000, maxActive: 5000, claimSeconds: 60, preQueueMinutes: 30 },
    holdSeconds: 180,
    maxSeatsPerOrder: 6,
    maxQuantity: 4,
    abandon: 0.1,
    decline: 0.05,
    asyncCard: 0.05,
    pickFromMap: 0.4,
    gaShare: 0.15,
    seatmapCached: 0.9,
    thinkSeconds: 1,
    patienceSeconds: 900,
    maxSeconds: 1200,
  },
};

/** Arrival offsets (ms from the start of the window), ascending. */
export function arrivals(profile: Profile, count: number, seconds: number, random: () => number = Math.random): number[] {
  const span = seconds * 1000;
  const out = Array.from({ length: count }, (_, i) => {
    const x = count <= 1 ? 0 : i / (count - 1);
    switch (profile) {
      case 'ramp':
        // The rate grows linearly: most buyers arrive towards the end of the window.
        return span * Math.sqrt(x);
      case 'spike':
        // Most arrive in the first seconds (a link goes live), then a tail.
        return span * x ** 3;
      case 'steady':
        return span * x + (random() - 0.5) * (span / Math.max(1, count));
    }
  });
  return out.map((t) => Math.max(0, Math.min(span, t))).sort((a, b) => a - b);
}
