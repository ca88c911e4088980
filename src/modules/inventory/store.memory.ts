import { bitmapBytes, setBit, testBit } from './bitmap.ts';
import {
  type AvailabilityDelta,
  type CommitResult,
  type HoldRecord,
  type InventoryMessage,
  type InventorySeed,
  type InventoryStore,
  NOT_LOADED,
  type SetHoldInput,
  type SetHoldResult,
} from './inventory.store.ts';

interface EventState {
  seatCount: number;
  version: number;
  bitmap: Uint8Array;
  ga: Map<string, number>;
  capacity: Map<string, number>;
  holds: Map<string, HoldRecord>;
}

/**
 * The embedded shape's inventory: one process, so every call runs to completion without
 * interleaving and is atomic by construction. Same semantics as the Redis scripts.
 */
export function createMemoryInventoryStore(): InventoryStore {
  const events = new Map<string, EventState>();
  const listeners = new Map<string, Set<(message: InventoryMessage) => void>>();
  let timer: NodeJS.Timeout | undefined;

  function emit(eventId: string, message: InventoryMessage) {
    for (const listener of listeners.get(eventId) ?? []) {
      try {
        listener(message);
      } catch {
        // A broken listener must not break the change that already happened.
      }
    }
  }

  function bump(eventId: string, state: EventState, taken: number[], freed: number[], ga: Record<string, number>) {
    state.version += 1;
    const delta: AvailabilityDelta = { version: state.version, taken, freed, ga };
    emit(eventId, { kind: 'delta', delta });
    return state.version;
  }

  function freeHold(state: EventState, hold: HoldRecord, freed: number[], ga: Record<string, number>) {
    for (const index of hold.seats) {
      if (testBit(state.bitmap, index)) {
        setBit(state.bitmap, index, false);
        freed.push(index);
      }
    }
    for (const [section, quantity] of Object.entries(hold.ga)) {
      const next = Math.min((state.ga.get(section) ?? 0) + quantity, state.capacity.get(section) ?? Infinity);
      state.ga.set(section, next);
      ga[section] = next;
    }
  }

  return {
    kind: 'memory',

    async load(eventId: string, seed: InventorySeed, mode: 'missing' | 'replace') {
      const existing = events.get(eventId);
      if (existing && mode === 'missing') return false;
      const state: EventState = {
        seatCount: seed.seatCount,
        version: existing ? existing.version + 1 : 1,
        bitmap: new Uint8Array(bitmapBytes(seed.seatCount)),
        ga: new Map(),
        capacity: new Map(),
        holds: existing?.holds ?? new Map<string, HoldRecord>(),
      };
      for (const index of seed.taken) if (index < seed.seatCount) setBit(state.bitmap, index, true);
      for (const [section, { capacity, remaining }] of Object.entries(seed.ga)) {
        state.capacity.set(section, capacity);
        state.ga.set(section, remaining);
      }
      // Replace keeps live holds: their seats and places stay taken on top of the database's.
      for (const hold of state.holds.values()) {
        for (const index of hold.seats) setBit(state.bitmap, index, true);
        for (const [section, quantity] of Object.entries(hold.ga)) {
          state.ga.set(section, Math.max(0, (state.ga.get(section) ?? 0) - quantity));
        }
      }
      events.set(eventId, state);
      emit(eventId, { kind: 'reset' });
      return true;
    },

    async setHold(eventId: string, input: SetHoldInput): Promise<SetHoldResult> {
      const state = events.get(eventId);
      if (!state) return NOT_LOADED;
      const previous = state.holds.get(input.userId);
      const live = previous && previous.expiresAt > input.now ? previous : undefined;
      const mine = new Set(previous?.seats ?? []);
      const wanted = new Set(input.seats);
      const conflicts = input.seats.filter((i) => !mine.has(i) && testBit(state.bitmap, i));
      if (conflicts.length > 0) return { ok: false, code: 'SEATS_TAKEN', seats: conflicts };
      const sections = new Set([...Object.keys(input.ga), ...Object.keys(previous?.ga ?? {})]);
      for (const section of sections) {
        const more = (input.ga[section] ?? 0) - (previous?.ga[section] ?? 0);
        const remaining = state.ga.get(section);
        if (more > 0 && (remaining === undefined || remaining < more)) {
          return { ok: false, code: 'GA_SHORT', section, remaining: remaining ?? 0 };
        }
      }
      const taken = input.seats.filter((i) => !mine.has(i));
      const freed = (previous?.seats ?? []).filter((i) => !wanted.has(i));
      for (const i of taken) setBit(state.bitmap, i, true);
      for (const i of freed) setBit(state.bitmap, i, false);
      const ga: Record<string, number> = {};
      for (const section of sections) {
        const more = (input.ga[section] ?? 0) - (previous?.ga[section] ?? 0);
        if (more === 0) continue;
        const next = Math.min((state.ga.get(section) ?? 0) - more, state.capacity.get(section) ?? Infinity);
        state.ga.set(section, next);
        ga[section] = next;
      }
      let hold: HoldRecord | null = null;
      if (input.seats.length === 0 && Object.keys(input.ga).length === 0) {
        state.holds.delete(input.userId);
      } else {
        hold = { seats: [...input.seats], ga: { ...input.ga }, expiresAt: live?.expiresAt ?? input.now + input.holdMs };
        state.holds.set(input.userId, hold);
      }
      const changed = taken.length > 0 || freed.length > 0 || Object.keys(ga).length > 0;
      const version = changed ? bump(eventId, state, taken, freed, ga) : state.version;
      return { ok: true, hold, version };
    },

    async getHold(eventId: string, userId: string, now: number) {
      const state = events.get(eventId);
      if (!state) return NOT_LOADED;
      const hold = state.holds.get(userId);
      return hold && hold.expiresAt > now ? structuredClone(hold) : null;
    },

    async listHolds(eventId: string) {
      const state = events.get(eventId);
      if (!state) return NOT_LOADED;
      return new Map([...state.holds].map(([user, hold]) => [user, structuredClone(hold)]));
    },

    async commitHold(eventId: string, userId: string, now: number): Promise<CommitResult> {
      const state = events.get(eventId);
      if (!state) return NOT_LOADED;
      const hold = state.holds.get(userId);
      if (!hold) return { ok: false, code: 'NO_HOLD' };
      if (hold.expiresAt <= now) return { ok: false, code: 'HOLD_EXPIRED' };
      state.holds.delete(userId);
      return { ok: true, hold };
    },

    async releaseSeats(eventId: string, seats: number[], gaIn: Record<string, number>) {
      const state = events.get(eventId);
      if (!state) return NOT_LOADED;
      const freed: number[] = [];
      const ga: Record<string, number> = {};
      freeHold(state, { seats, ga: gaIn, expiresAt: 0 }, freed, ga);
      const changed = freed.length > 0 || Object.keys(ga).length > 0;
      return { ok: true as const, version: changed ? bump(eventId, state, [], freed, ga) : state.version };
    },

    async snapshot(eventId: string) {
      const state = events.get(eventId);
      if (!state) return NOT_LOADED;
      return {
        version: state.version,
        seatCount: state.seatCount,
        bitmap: state.bitmap.slice(),
        ga: Object.fromEntries(state.ga),
      };
    },

    async sweep(eventId: string, now: number) {
      const state = events.get(eventId);
      if (!state) return 0;
      const freed: number[] = [];
      const ga: Record<string, number> = {};
      let released = 0;
      for (const [userId, hold] of state.holds) {
        if (hold.expiresAt > now) continue;
        freeHold(state, hold, freed, ga);
        state.holds.delete(userId);
        released += 1;
      }
      if (released > 0) bump(eventId, state, [], freed, ga);
      return released;
    },

    async subscribe(eventId: string, listener: (message: InventoryMessage) => void) {
      let set = listeners.get(eventId);
      if (!set) listeners.set(eventId, (set = new Set()));
      set.add(listener);
      return async () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(eventId);
      };
    },

    async drop(eventId: string) {
      events.delete(eventId);
    },

    async expire(eventId: string, afterMs: number) {
      setTimeout(() => events.delete(eventId), afterMs).unref();
    },

    async holdCounts() {
      const out: Record<string, number> = {};
      for (const [eventId, state] of events) if (state.holds.size > 0) out[eventId] = state.holds.size;
      return out;
    },

    startSweeper(intervalMs: number, now: () => number, onError: (err: unknown) => void) {
      clearInterval(timer);
      timer = setInterval(() => {
        for (const [eventId, state] of events) {
          if (state.holds.size > 0) this.sweep(eventId, now()).catch(onError);
        }
      }, intervalMs);
      timer.unref();
    },

    async close() {
      clearInterval(timer);
      listeners.clear();
    },
  };
}
