import type { ShuffleSeed } from './shuffle.ts';

/**
 * The waiting room's hot-state port. Two adapters: store.memory.ts (embedded shape) and
 * store.redis.ts (scale-out shape, one Lua script per operation). Every operation that
 * reads and writes is atomic per event; test/waiting-room.store.contract.test.ts holds both to
 * the same behaviour.
 *
 * Model: each buyer has at most one place per event. A place is either in the pre-queue
 * (number null until the shuffle) or has a number. `serving` is the highest number admitted so
 * far; numbers above it are waiting. An admitted buyer carries a mark: admitted-at (not yet
 * claimed), claimed-at, or a final mark (expired, left, finished).
 */
export type Mark =
  | { kind: 'none' }
  | { kind: 'admitted'; at: number }
  | { kind: 'claimed'; at: number }
  | { kind: 'expired' }
  | { kind: 'left' }
  | { kind: 'finished' };

export interface Place {
  /** Null while in the pre-queue, before the shuffle. */
  number: number | null;
  mark: Mark;
  /** The event's serving counter when the place was read. */
  serving: number;
}

/** The live limits an operation applies; the service reads them from the events table. */
export interface QueueRules {
  paused: boolean;
  admitPerMinute: number;
  maxActive: number;
  /** An admitted buyer must claim the turn within this long. */
  claimMs: number;
  /** How long an admission (and its token) lasts from the moment of admission. */
  admissionMs: number;
}

export interface JoinResult {
  created: boolean;
  place: Place;
}

export interface Counters {
  /** Buyers who have a place (including those who left). */
  joined: number;
  /** The last number given out (0 before any). */
  issued: number;
  serving: number;
  /** Buyers in the pre-queue, before the shuffle (0 after it). */
  preQueued: number;
  shuffled: boolean;
  active: number;
  /** Buyers admitted since the queue began (the observed rate is read from this). */
  admitted: number;
  noShows: number;
  timedOut: number;
}

export interface AdvanceResult {
  admitted: number;
  /** Admissions that ran out in this step: unclaimed (no-shows) or past their admission time. */
  expired: number;
  serving: number;
}

export type ClaimResult = 'ok' | 'expired' | 'not-admitted';

/** A board of admission back-off: see `WaitingRoomStore.report`. */
export type Board = 'load' | 'factor';

/**
 * An event's queue as the database knows it, to load into a store that has lost it (a Redis
 * restart or flush, a restart of the embedded process): see waiting-room.rebuild.ts.
 */
export interface QueueSnapshot {
  /** Numbered places, ascending by number. */
  places: { number: number; userId: string }[];
  issued: number;
  serving: number;
  shuffled: boolean;
  /** The number of every admission, in admission order (the admission log so far). */
  log: number[];
  /** Each admitted (or passed-over) buyer's mark, as encodeMark writes it. */
  marks: [userId: string, mark: string][];
  /** Active buyers and the moment their admission runs out. */
  active: [userId: string, deadline: number][];
  /** Every buyer who left, in the order they left (the leave log so far). */
  leaves: string[];
  /** The pre-queue in arrival order (empty once shuffled: `shuffled` is then true). */
  pre: string[];
}

/** A store's answer for an event it does not hold (never loaded, or lost): load it, then ask again. */
export type NotLoaded = { readonly code: 'QUEUE_NOT_LOADED' };
export const NOT_LOADED: NotLoaded = Object.freeze({ code: 'QUEUE_NOT_LOADED' as const });
export function isNotLoaded(value: unknown): value is NotLoaded {
  return value === NOT_LOADED;
}

export interface WaitingRoomStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Gives the buyer a place, or returns the one they have. `phase` 'pre' puts a new buyer in the
   * pre-queue; 'open' gives the next number and admits at once when nobody waits and both limits
   * allow (a turn the joiner claims at once: its mark is 'claimed'). 'shuffle-needed' means the sale has opened but the pre-queue has not been shuffled yet:
   * call shuffle, then join again.
   */
  join(
    eventId: string,
    userId: string,
    now: number,
    phase: 'pre' | 'open',
    rules: QueueRules,
  ): Promise<JoinResult | 'shuffle-needed'>;
  /** The buyer's place, or null when they never joined. */
  place(eventId: string, userId: string): Promise<Place | null>;
  /**
   * Numbers the pre-queue in a uniformly random order, exactly once per event however many
   * processes call it. Returns how many were numbered, or null when it had already happened.
   */
  shuffle(eventId: string, seed: ShuffleSeed): Promise<number | null>;
  /**
   * One ticker step: expires admissions past their deadline (freeing their slots), then admits
   * the next buyers in number order as the rate bucket and maxActive allow. Buyers who left while
   * waiting are skipped without using the budget.
   */
  advance(eventId: string, now: number, rules: QueueRules): Promise<AdvanceResult>;
  /**
   * The buyer's place, with an admitted turn claimed first (as `claim` does; one unclaimed past
   * claimMs is expired instead), in one atomic step: the buyer's own queue read. Null when never joined.
   */
  claimPlace(eventId: string, userId: string, now: number, rules: QueueRules): Promise<Place | null>;
  /** Marks an admitted buyer's turn as claimed (first queue read, hold or order). */
  claim(eventId: string, userId: string, now: number, rules: QueueRules): Promise<ClaimResult>;
  /**
   * Leaves the queue for good; frees the active slot if admitted, and appends the buyer to the
   * leave log (once: a final mark stays as it is). False when never joined.
   */
  leave(eventId: string, userId: string): Promise<boolean>;
  /** The buyer is done (order paid or canceled): frees the active slot. False when not active. */
  finish(eventId: string, userId: string): Promise<boolean>;
  counters(eventId: string): Promise<Counters>;
  /**
   * The admission log: entries `from` … `from + limit - 1` of every admission (join at once or
   * ticker step) in the order the store made them. Append-only; the ticker copies it to the database.
   */
  admissions(eventId: string, from: number, limit: number): Promise<{ number: number; userId: string }[]>;
  /**
   * The leave log: entries `from` … `from + limit - 1`, the buyers who left in the order they left.
   * Append-only; the ticker copies it to the database.
   */
  leaves(eventId: string, from: number, limit: number): Promise<string[]>;
  /**
   * The pre-queue: entries `from` … `from + limit - 1` in arrival order, until the shuffle numbers
   * them (then none). The ticker copies it to the database.
   */
  preQueue(eventId: string, from: number, limit: number): Promise<string[]>;
  /**
   * Numbered places `from` … `from + limit - 1` (those given out so far), ascending: the ticker copies
   * them to the database, so that a store that loses the queue can be given it back.
   */
  places(eventId: string, from: number, limit: number): Promise<{ number: number; userId: string }[]>;
  /** Takes or renews the ticker lease for an event; true while `owner` holds it. */
  lease(eventId: string, owner: string, ttlMs: number): Promise<boolean>;
  /** The events that have a queue, for the ticker. */
  addQueue(eventId: string): Promise<void>;
  queues(): Promise<string[]>;
  removeQueue(eventId: string): Promise<void>;
  /** Forgets an event's queue at once, and takes it off the list of queues, as a Redis flush would (tests; the next call loads it from the database). */
  forget(eventId: string): Promise<void>;
  /** Forgets everything about the event's queue after `afterMs` (an event long over: its log is in the database). */
  expireQueue(eventId: string, afterMs: number): Promise<void>;
  /**
   * The boards of admission back-off (backoff.ts): on `load`, each API process reports how slowly
   * it has been answering (ms); on `factor`, the ticker leading an event the factor it applies to
   * it (the source is the event's id). `readings` gives each
   * source's latest report younger than `maxAgeMs` (older ones are dropped: a process that stopped).
   */
  report(board: Board, source: string, value: number, now: number): Promise<void>;
  readings(board: Board, now: number, maxAgeMs: number): Promise<number[]>;
  /** One source's latest report younger than `maxAgeMs`, or null. */
  reading(board: Board, source: string, now: number, maxAgeMs: number): Promise<number | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The operations on one event's queue, which an adapter answers with NOT_LOADED until the queue is loaded. */
type EventOps = 'join' | 'place' | 'claimPlace' | 'shuffle' | 'advance' | 'claim' | 'leave' | 'finish' | 'counters';

/**
 * What store.memory.ts and store.redis.ts implement: the port, except that each operation on an
 * event's queue answers NOT_LOADED while the store does not hold that queue; `withRebuild`
 * (waiting-room.rebuild.ts) turns an adapter into the port by loading the queue from the database then.
 */
export type WaitingRoomStoreAdapter = Omit<WaitingRoomStore, EventOps> & {
  [K in EventOps]: (...args: Parameters<WaitingRoomStore[K]>) => Promise<Awaited<ReturnType<WaitingRoomStore[K]>> | NotLoaded>;
} & {
  /**
   * Loads an event's queue from `snapshot` unless the store holds it; true when it loaded it. A
   * queue the store holds is kept as it is, whatever the snapshot says (the store is ahead of the database).
   */
  load(eventId: string, snapshot: QueueSnapshot): Promise<boolean>;
};

/** Marks as both adapters store them: one short string per buyer, absent while waiting. */
export function encodeMark(mark: Mark): string | undefined {
  switch (mark.kind) {
    case 'none':
      return undefined;
    case 'admitted':
      return `a${mark.at}`;
    case 'claimed':
      return `c${mark.at}`;
    case 'expired':
      return 'x';
    case 'left':
      return 'l';
    case 'finished':
      return 'f';
  }
}

export function decodeMark(raw: string | null | undefined): Mark {
  if (raw === null || raw === undefined || raw === '') return { kind: 'none' };
  switch (raw[0]) {
    case 'a':
      return { kind: 'admitted', at: Number(raw.slice(1)) };
    case 'c':
      return { kind: 'claimed', at: Number(raw.slice(1)) };
    case 'x':
      return { kind: 'expired' };
    case 'l':
      return { kind: 'left' };
    case 'f':
      return { kind: 'finished' };
    default:
      return { kind: 'none' };
  }
}
