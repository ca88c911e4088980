import type { Clock } from '../../platform/clock.ts';
import { AppError } from '../../platform/errors.ts';
import { createLoadOnDemand } from '../../platform/load-on-demand.ts';
import { createAvailability, remainingOf } from './availability.ts';
import { chooseBestAvailable, rowCannotHold } from './best-available.ts';
import { countClear, testBit } from './bitmap.ts';
import { createEventInfoCache, type EventInfo, type EventInfoSource, type Money, type SeatInfo } from './event-info.ts';
import { saleNotOpen, seatsUnavailable, soldOut, tooManySeats, unknownSeats, unknownSection } from './inventory.errors.ts';
import type { InventoryRepository } from './inventory.repository.ts';
import type { AvailabilitySnapshot, HoldRecord, InventoryStore, NotLoaded } from './inventory.store.ts';

export type HoldBody =
  { seats: string[] } | { bestAvailable: { quantity: number; section?: string } } | { ga: { section: string; quantity: number } };

export interface HoldView {
  eventId: string;
  seats: { id: string; label: string; row: string; section: string; sectionId: string; price: Money }[];
  ga: { sectionId: string; section: string; quantity: number; price: Money }[];
  total: Money;
  expiresAt: string;
}

export interface InventoryLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface InventoryDeps {
  store: InventoryStore;
  events: EventInfoSource;
  repo: InventoryRepository;
  clock: Clock;
  log: InventoryLog;
  /** Expiry sweeper period; seats of an expired hold are free within about this long. */
  sweepMs?: number;
}

/** How old a remaining-seats count may be (the waiting room asks on every status refresh). */
const REMAINING_TTL_MS = 1000;
/** Best-available chooses again this many times when someone takes its pick first. */
const BEST_AVAILABLE_ATTEMPTS = 8;

function isNotLoaded(value: unknown): value is NotLoaded {
  return typeof value === 'object' && value !== null && 'code' in value && value.code === 'NOT_LOADED';
}

export function createInventoryService({ store, events, repo, clock, log, sweepMs = 200 }: InventoryDeps) {
  const infos = createEventInfoCache(
    events,
    repo,
    () => clock.now(),
    (err, eventId) => log.warn({ err, eventId }, 'event info refresh failed'),
  );

  /** Builds the event's hot state from the database: seats of active orders taken, GA = capacity − active. */
  async function seedOf(eventId: string) {
    const info = await infos.get(eventId);
    const [taken, ga] = await Promise.all([repo.activeSeatIndexes(eventId), repo.gaState(eventId)]);
    return {
      seatCount: info.seatCount,
      taken,
      ga: Object.fromEntries(ga.map((g) => [g.section_id, { capacity: g.capacity, remaining: Math.max(0, g.remaining) }])),
    };
  }

  /** Runs a store call; when the store does not have the event (first touch, or after a flush), loads it and runs the call again. */
  const { loaded, ensureLoaded } = createLoadOnDemand({
    isNotLoaded,
    what: 'inventory',
    async load(eventId) {
      const seed = await seedOf(eventId);
      if (await store.load(eventId, seed, 'missing'))
        log.info({ eventId, taken: seed.taken.length }, 'inventory loaded from the database');
    },
  });

  const remainingReads = new Map<string, { at: number; value: Promise<number> }>();
  const readSnapshot = (eventId: string): Promise<AvailabilitySnapshot> => loaded(eventId, () => store.snapshot(eventId));
  const availability = createAvailability({
    store,
    read: readSnapshot,
    now: () => clock.now(),
    onError: (err) => log.warn({ err }, 'availability stream failed'),
  });

  function priceOf(info: EventInfo, sectionId: string): Money {
    return info.prices.get(sectionId) ?? { amount: 0, currency: info.currency };
  }

  function view(info: EventInfo, hold: HoldRecord): HoldView {
    const seats = hold.seats.map((i) => {
      const seat = info.seatsByIndex[i]!;
      return {
        id: seat.id,
        label: seat.label,
        row: seat.row,
        section: seat.section,
        sectionId: seat.sectionId,
        price: priceOf(info, seat.sectionId),
      };
    });
    const ga = Object.entries(hold.ga).map(([sectionId, quantity]) => ({
      sectionId,
      section: info.gaSections.get(sectionId)?.name ?? sectionId,
      quantity,
      price: priceOf(info, sectionId),
    }));
    const amount = seats.reduce((n, s) => n + s.price.amount, 0) + ga.reduce((n, g) => n + g.price.amount * g.quantity, 0);
    return {
      eventId: info.row.id,
      seats,
      ga,
      total: { amount, currency: info.currency },
      expiresAt: new Date(hold.expiresAt).toISOString(),
    };
  }

  function checkSaleOpen(info: EventInfo) {
    const now = clock.now();
    const closes = info.row.off_sale_at ?? info.row.starts_at;
    if (now < info.row.on_sale_at.getTime() || now >= closes.getTime()) throw saleNotOpen(info.row.on_sale_at, closes);
  }

  function section(info: EventInfo, field: string, key: string, kind: 'seated' | 'ga') {
    const found = info.sectionByKey.get(key) ?? info.sectionByKey.get(key.trim().toLowerCase());
    if (!found || found.kind !== kind) throw unknownSection(field, key, kind === 'ga' ? 'GA' : 'seated');
    return found;
  }

  /** Sets the hold in one atomic store step; maps refusals to the API's errors. */
  async function setExactly(info: EventInfo, userId: string, seats: number[], ga: Record<string, number>) {
    const eventId = info.row.id;
    const result = await loaded(eventId, () =>
      store.setHold(eventId, { userId, seats, ga, now: clock.now(), holdMs: info.row.hold_seconds * 1000 }),
    );
    return result;
  }

  async function holdSeats(info: EventInfo, userId: string, ids: string[]): Promise<HoldView> {
    const unique = [...new Set(ids)];
    const unknown = unique.filter((id) => !info.seatsById.has(id));
    if (unknown.length > 0) throw unknownSeats('body.seats', unknown);
    if (unique.length > info.row.max_seats_per_order) throw tooManySeats(info.row.max_seats_per_order);
    checkSaleOpen(info);
    const indexes = unique.map((id) => info.seatsById.get(id)!.index).sort((a, b) => a - b);
    const result = await setExactly(info, userId, indexes, {});
    if (!result.ok) {
      if (result.code === 'SEATS_TAKEN') throw seatsUnavailable(result.seats.map((i) => info.seatsByIndex[i]!.id));
      throw new Error(`unexpected hold refusal ${result.code}`);
    }
    return view(info, result.hold!);
  }

  async function holdGa(info: EventInfo, userId: string, body: { section: string; quantity: number }): Promise<HoldView> {
    const target = section(info, 'body.ga.section', body.section, 'ga');
    if (body.quantity > info.row.max_seats_per_order) throw tooManySeats(info.row.max_seats_per_order);
    checkSaleOpen(info);
    const result = await setExactly(info, userId, [], { [target.id]: body.quantity });
    if (result.ok) return view(info, result.hold!);
    if (result.code === 'GA_SHORT') {
      if (result.remaining === 0) throw soldOut();
      throw seatsUnavailable([], { section: target.id, remaining: result.remaining });
    }
    throw new Error(`unexpected hold refusal ${result.code}`);
  }

  /**
   * Chooses over the current bitmap, then holds exactly those seats with the same atomic step as
   * any hold: a buyer who took one of them in between makes the step fail, and we choose again.
   */
  async function holdBest(info: EventInfo, userId: string, body: { quantity: number; section?: string }): Promise<HoldView> {
    if (body.quantity > info.row.max_seats_per_order) throw tooManySeats(info.row.max_seats_per_order);
    const only = body.section === undefined ? undefined : section(info, 'body.bestAvailable.section', body.section, 'seated').id;
    checkSaleOpen(info);
    const eventId = info.row.id;
    const sections = only === undefined ? info.ba : info.ba.filter((s) => s.id === only);
    const current = await loaded(eventId, () => store.getHold(eventId, userId, clock.now()));
    const mine = new Set(current?.seats ?? []);
    let lost: number[] = [];
    for (let attempt = 0; attempt < BEST_AVAILABLE_ATTEMPTS; attempt++) {
      // The first choice may use the process's snapshot (≤ 150 ms old); a retry reads afresh.
      const bitmap = attempt === 0 ? await cachedBitmap(eventId) : (await readSnapshot(eventId)).bitmap;
      const skip = new Set<number>();
      const taken = (i: number) => !mine.has(i) && (testBit(bitmap, i) || skip.has(i));
      // A row's clear bits, plus the buyer's own held seats in it: no more of it can be free.
      const freeAtMost = (first: number, count: number) => {
        let n = countClear(bitmap, first, first + count);
        for (const i of mine) if (i >= first && i < first + count) n += 1;
        return n;
      };
      let choice = chooseBestAvailable(sections, taken, body.quantity, freeAtMost);
      // After losing a race, every other loser read much the same snapshot and would choose the
      // same block again: each skips a random number of the best blocks, so they spread out.
      const hops = attempt === 0 ? 0 : Math.floor(Math.random() * Math.min(64, 4 << attempt));
      for (let hop = 0; hop < hops && choice; hop++) {
        for (const i of choice.indexes) skip.add(i);
        const next = chooseBestAvailable(sections, taken, body.quantity, freeAtMost);
        if (!next) break;
        choice = next;
      }
      if (!choice) {
        if (attempt === 0) continue;
        const anyFree = sections.some((s) =>
          s.rows.some((r) => !rowCannotHold(r, 1, freeAtMost) && r.seats.some((seat) => !taken(seat.index))),
        );
        if (!anyFree) throw soldOut();
        throw seatsUnavailable(lost.map((i) => info.seatsByIndex[i]!.id));
      }
      const result = await setExactly(
        info,
        userId,
        [...choice.indexes].sort((a, b) => a - b),
        {},
      );
      if (result.ok) return view(info, result.hold!);
      if (result.code !== 'SEATS_TAKEN') throw new Error(`unexpected hold refusal ${result.code}`);
      lost = result.seats;
    }
    throw seatsUnavailable(lost.map((i) => info.seatsByIndex[i]!.id));
  }

  async function cachedBitmap(eventId: string): Promise<Uint8Array> {
    return (await availability.snapshot(eventId)).bitmap;
  }

  return {
    availability,

    /**
     * Seats and GA places free right now (0: sold out, or all held), read from the store at most
     * once a second per event (its own read: the served snapshot's cache is left to its readers).
     */
    async remaining(eventId: string): Promise<number> {
      await infos.get(eventId);
      const now = clock.now();
      const cached = remainingReads.get(eventId);
      if (cached && now - cached.at < REMAINING_TTL_MS) return cached.value;
      const value = readSnapshot(eventId).then(remainingOf);
      remainingReads.set(eventId, { at: now, value });
      value.catch(() => remainingReads.delete(eventId));
      return value;
    },

    /** PUT /hold: makes the buyer's hold exactly what the body asks, or changes nothing. */
    async putHold(userId: string, eventId: string, body: HoldBody): Promise<HoldView> {
      const info = await infos.get(eventId);
      if ('seats' in body) return holdSeats(info, userId, body.seats);
      if ('ga' in body) return holdGa(info, userId, body.ga);
      return holdBest(info, userId, body.bestAvailable);
    },

    async getHold(userId: string, eventId: string): Promise<HoldView> {
      const info = await infos.get(eventId);
      const hold = await loaded(eventId, () => store.getHold(eventId, userId, clock.now()));
      if (!hold) throw new AppError('NO_HOLD', 404, 'You hold no seats for this event');
      return view(info, hold);
    },

    async releaseHold(userId: string, eventId: string): Promise<void> {
      await infos.get(eventId);
      await loaded(eventId, () => store.setHold(eventId, { userId, seats: [], ga: {}, now: clock.now(), holdMs: 0 }));
    },

    /**
     * For the orders module: turns the buyer's live hold into ordered state (seats stay taken,
     * no expiry frees them) and returns it. Call it before writing the order; if the database
     * then refuses (its unique index is the wall), give the seats back with releaseSeats.
     */
    async commitHold(eventId: string, userId: string) {
      const info = await infos.get(eventId);
      const result = await loaded(eventId, () => store.commitHold(eventId, userId, clock.now()));
      if (!result.ok) {
        if (result.code === 'NO_HOLD') return { ok: false as const, code: 'NO_HOLD' as const };
        return { ok: false as const, code: 'HOLD_EXPIRED' as const };
      }
      const seats: (SeatInfo & { price: Money })[] = result.hold.seats.map((i) => ({
        ...info.seatsByIndex[i]!,
        price: priceOf(info, info.seatsByIndex[i]!.sectionId),
      }));
      return { ok: true as const, hold: view(info, result.hold), seats, ga: result.hold.ga, expiresAt: result.hold.expiresAt };
    },

    /** For expired, canceled or refunded orders: their seats and GA places are free again. */
    async releaseSeats(eventId: string, seatIndexes: number[], ga: Record<string, number> = {}) {
      // Not loaded: nothing to do, a later load reads the database, where these items are inactive.
      await store.releaseSeats(eventId, seatIndexes, ga);
    },

    /**
     * Rebuilds availability from the database plus live holds (after repairs, or on demand).
     * A hold committed while this runs but not yet written to the database reads as free here;
     * someone may then hold it, and the database's unique index refuses their order: the hot
     * state may be briefly optimistic, never the sale.
     */
    async rebuild(eventId: string) {
      const seed = await seedOf(eventId);
      await store.load(eventId, seed, 'replace');
    },

    ensureLoaded,

    /** The event is over: its hot state goes after `afterMs` (a later call would rebuild it from the database). */
    retire: (eventId: string, afterMs: number) => store.expire(eventId, afterMs),

    /** Forgets the event's hot state as a Redis flush would (tests; the next call rebuilds it). */
    dropHotState: (eventId: string) => store.drop(eventId),

    /** Live holds per event this process knows of (the /metrics gauge). */
    holdCounts: () => store.holdCounts(),

    /** Every hold record of the event (tests, admin stats). */
    listHolds: (eventId: string) => loaded(eventId, () => store.listHolds(eventId)),

    start() {
      store.startSweeper(
        sweepMs,
        () => clock.now(),
        (err) => log.warn({ err }, 'hold expiry sweep failed'),
      );
    },

    async close() {
      await availability.close();
      await store.close();
    },
  };
}
export type InventoryService = ReturnType<typeof createInventoryService>;
