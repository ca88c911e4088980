// The room's status as this process serves it (read from the store at most once a second), and the
// views built on it: the buyer's view of a place and the organizer's view of the queue.
import type { Clock } from '../../platform/clock.ts';
import { backoffView } from './backoff.ts';
import {
  type AdminQueueView,
  createRateMeter,
  type QueueView,
  type RoomState,
  type RoomStatus,
  salePhase,
  type Settings,
} from './waiting-room.model.ts';
import type { Counters, Place, WaitingRoomStore } from './waiting-room.store.ts';

export interface StatusEntry {
  at: number;
  status: RoomStatus;
  counters: Counters;
  /** Admissions a minute used for waiting times: observed once there are 10 s of samples, else configured. */
  ratePerMinute: number;
  /** Nothing could be held when this entry was read: admission waits. */
  soldOut: boolean;
}

const STATUS_TTL_MS = 1000;

export interface RoomStatusDeps {
  store: WaitingRoomStore;
  clock: Clock;
  log: { warn(obj: object, msg: string): void };
  /** See WaitingRoomDeps.remaining. */
  remaining?: (eventId: string) => Promise<number>;
  /** See WaitingRoomDeps.backoffMs. */
  backoffMs: number;
  /** The admission shown with an admitted turn (waiting-room.admission.ts). */
  tokenOf: (
    eventId: string,
    userId: string,
    number: number,
    admittedAt: number,
    s: Settings,
  ) => NonNullable<QueueView['admission']>;
}

export function createRoomStatus({ store, clock, log, remaining, backoffMs, tokenOf }: RoomStatusDeps) {
  const statusCache = new Map<string, StatusEntry>();
  const statusLoads = new Map<string, Promise<StatusEntry>>();
  const meter = createRateMeter();

  function roomState(s: Settings, now: number, soldOut: boolean): RoomState {
    const phase = salePhase(s, now);
    if (phase === 'closed') return 'closed';
    if (phase !== 'open') return 'prequeue';
    if (soldOut) return 'sold_out';
    return s.rules.paused ? 'paused' : 'open';
  }

  /** Whether nothing can be held now. An inventory that cannot answer does not stop the queue. */
  async function isSoldOut(eventId: string, s: Settings, now: number): Promise<boolean> {
    if (!remaining || salePhase(s, now) !== 'open') return false;
    try {
      return (await remaining(eventId)) <= 0;
    } catch (err) {
      log.warn({ err, eventId }, 'remaining seats unknown');
      return false;
    }
  }

  async function refreshStatus(eventId: string, s: Settings): Promise<StatusEntry> {
    const now = clock.now();
    const [counters, soldOut] = await Promise.all([store.counters(eventId), isSoldOut(eventId, s, now)]);
    meter.sample(eventId, now, counters.admitted);
    const entry: StatusEntry = {
      at: now,
      counters,
      soldOut,
      ratePerMinute: meter.perMinute(eventId) ?? s.rules.admitPerMinute,
      status: {
        state: roomState(s, now, soldOut),
        serving: counters.serving,
        waiting: counters.preQueued + Math.max(0, counters.issued - counters.serving),
        admitPerMinute: s.rules.admitPerMinute,
        onSaleAt: s.row.on_sale_at.toISOString(),
      },
    };
    statusCache.set(eventId, entry);
    return entry;
  }

  /** The public status, read from the store at most once a second per process. */
  async function statusEntry(eventId: string, s: Settings): Promise<StatusEntry> {
    const cached = statusCache.get(eventId);
    if (cached && clock.now() - cached.at < STATUS_TTL_MS) return cached;
    let load = statusLoads.get(eventId);
    if (!load) {
      load = refreshStatus(eventId, s).finally(() => statusLoads.delete(eventId));
      statusLoads.set(eventId, load);
    }
    return load;
  }

  /** Something moved the counters or the rules: the next read goes to the store. */
  function forget(eventId: string) {
    statusCache.delete(eventId);
  }

  /** The events whose status this process holds. */
  function events(): Iterable<string> {
    return statusCache.keys();
  }

  /** The buyer's view of a place. Deadlines are applied here too, so a late ticker never shows a stale turn. */
  function viewOf(eventId: string, userId: string, place: Place, s: Settings, entry: StatusEntry, now: number): QueueView {
    const none = { number: place.number, position: null, etaSeconds: null, admission: null };
    if (place.number === null) return { state: 'prequeue', ...none };
    const mark = place.mark;
    switch (mark.kind) {
      case 'none': {
        const serving = Math.max(place.serving, entry.counters.serving);
        const position = Math.max(0, place.number - serving - 1);
        const perSecond = entry.ratePerMinute / 60;
        const stalled = s.rules.paused || entry.soldOut || perSecond <= 0 || salePhase(s, now) !== 'open';
        return { state: 'waiting', ...none, position, etaSeconds: stalled ? null : Math.ceil((position + 1) / perSecond) };
      }
      case 'admitted':
      case 'claimed': {
        const limit = mark.kind === 'admitted' ? s.rules.claimMs : s.rules.admissionMs;
        if (now >= mark.at + limit) return { state: 'expired', ...none };
        return {
          state: 'admitted',
          ...none,
          position: 0,
          etaSeconds: 0,
          admission: tokenOf(eventId, userId, place.number, mark.at, s),
        };
      }
      case 'expired':
        return { state: 'expired', ...none };
      case 'left':
      case 'finished':
        return { state: 'left', ...none };
    }
  }

  /** The organizer's view: read from the store each time, not from the once-a-second status. */
  async function adminView(eventId: string, s: Settings): Promise<AdminQueueView> {
    const now = clock.now();
    const [counters, soldOut, backoff] = await Promise.all([
      store.counters(eventId),
      isSoldOut(eventId, s, now),
      backoffMs > 0 ? backoffView(store, backoffMs, eventId, now) : null,
    ]);
    meter.sample(eventId, now, counters.admitted);
    const observed = meter.perMinute(eventId);
    return {
      state: roomState(s, now, soldOut),
      joined: counters.joined,
      waiting: counters.preQueued + Math.max(0, counters.issued - counters.serving),
      active: counters.active,
      admitted: counters.admitted,
      noShows: counters.noShows,
      admitPerMinute: s.rules.admitPerMinute,
      maxActive: s.rules.maxActive,
      paused: s.rules.paused,
      observedPerMinute: observed === null ? null : Math.round(observed * 10) / 10,
      serving: counters.serving,
      backoff,
    };
  }

  return { statusEntry, forget, events, viewOf, adminView };
}
