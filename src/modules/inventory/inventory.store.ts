/**
 * The hot-state port of the seat inventory: holds, the availability bitmap and GA counters of
 * each event. Two adapters implement it with the same semantics (store.memory.ts, store.redis.ts)
 * and one contract suite (test/inventory.store.contract.test.ts) holds them to it.
 *
 * Seats are named by their venue-wide `index` (the bit in the availability bitmap); GA sections
 * by section id. Every mutating call is atomic: it fully happens, or it changes nothing.
 */

/** One buyer's hold: seat indexes, GA quantities per section, and an expiry fixed at creation. */
export interface HoldRecord {
  seats: number[];
  ga: Record<string, number>;
  expiresAt: number;
}

/** What one or more atomic changes did to availability, tagged with the version they reached. */
export interface AvailabilityDelta {
  version: number;
  taken: number[];
  freed: number[];
  /** New remaining count of each GA section that changed. */
  ga: Record<string, number>;
}

/** A change announced on the event's channel: a delta, or `reset` after a (re)load. */
export type InventoryMessage = { kind: 'delta'; delta: AvailabilityDelta } | { kind: 'reset' };

export interface AvailabilitySnapshot {
  version: number;
  seatCount: number;
  /** Bit i (LSB of byte 0 first) is 1 when seat index i is held, ordered or sold. ceil(seatCount / 8) bytes. */
  bitmap: Uint8Array;
  ga: Record<string, number>;
}

/** What the database says about an event, to (re)build its hot state from. */
export interface InventorySeed {
  seatCount: number;
  /** Seat indexes in active (pending or paid) orders. */
  taken: number[];
  /** Per GA section: capacity and what is left after active orders. */
  ga: Record<string, { capacity: number; remaining: number }>;
}

export type NotLoaded = { ok: false; code: 'NOT_LOADED' };
export const NOT_LOADED: NotLoaded = Object.freeze({ ok: false, code: 'NOT_LOADED' as const });

export interface SetHoldInput {
  userId: string;
  /** Sorted, distinct, each below the event's seat count. */
  seats: number[];
  /** Quantity per GA section, each ≥ 1. */
  ga: Record<string, number>;
  now: number;
  /** Used only when the buyer has no live hold: expiresAt = now + holdMs. */
  holdMs: number;
}

export type SetHoldResult =
  | { ok: true; hold: HoldRecord | null; version: number }
  | NotLoaded
  | { ok: false; code: 'SEATS_TAKEN'; seats: number[] }
  | { ok: false; code: 'GA_SHORT'; section: string; remaining: number };

export type CommitResult =
  { ok: true; hold: HoldRecord } | NotLoaded | { ok: false; code: 'NO_HOLD' } | { ok: false; code: 'HOLD_EXPIRED' };

export interface InventoryStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Loads an event's hot state from a database seed. `missing`: only when the event is not
   * loaded (two processes racing load it once); returns whether this call loaded it.
   * `replace`: rebuilds availability as seed ∪ live holds, keeping the holds.
   */
  load(eventId: string, seed: InventorySeed, mode: 'missing' | 'replace'): Promise<boolean>;
  /** Makes the buyer's hold exactly `seats` + `ga`, all or nothing. Empty sets release it. */
  setHold(eventId: string, input: SetHoldInput): Promise<SetHoldResult>;
  /** The buyer's live hold (null when none or expired). */
  getHold(eventId: string, userId: string, now: number): Promise<HoldRecord | null | NotLoaded>;
  /** Every hold record of the event, live or expired-but-not-swept (admin stats, tests). */
  listHolds(eventId: string): Promise<Map<string, HoldRecord> | NotLoaded>;
  /** Turns a live hold into ordered state: the record goes, its seats stay taken, no expiry release. */
  commitHold(eventId: string, userId: string, now: number): Promise<CommitResult>;
  /** Frees seats and GA places of an expired or canceled order. */
  releaseSeats(eventId: string, seats: number[], ga: Record<string, number>): Promise<{ ok: true; version: number } | NotLoaded>;
  snapshot(eventId: string): Promise<AvailabilitySnapshot | NotLoaded>;
  /** Releases holds whose expiry is ≤ now. Returns how many were released. */
  sweep(eventId: string, now: number): Promise<number>;
  /** Every change of this event, from any process sharing the store. Returns the unsubscribe. */
  subscribe(eventId: string, listener: (message: InventoryMessage) => void): Promise<() => Promise<void>>;
  /** Forgets the event's hot state, as a Redis flush would (tests, and before a full rebuild). */
  drop(eventId: string): Promise<void>;
  /** Forgets the event's hot state after `afterMs` (an event long over; a later call would rebuild it from the database). */
  expire(eventId: string, afterMs: number): Promise<void>;
  /** Number of hold records per event, for the events this process knows to have holds (metrics). */
  holdCounts(): Promise<Record<string, number>>;
  /** Starts the expiry sweeper: every `intervalMs` it sweeps the events that have holds. */
  startSweeper(intervalMs: number, now: () => number, onError: (err: unknown) => void): void;
  close(): Promise<void>;
}
