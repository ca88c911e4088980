import type { Clock } from '../../platform/clock.ts';
import type { Signer } from '../../platform/crypto.ts';
import { AppError, forbidden, notFound } from '../../platform/errors.ts';
import { notInQueue, saleNotOpen } from './waiting-room.errors.ts';
import type { WaitingRoomRepository } from './waiting-room.repository.ts';
import { newShuffleSeed } from './shuffle.ts';
import type { Place, WaitingRoomStore } from './waiting-room.store.ts';
import {
  type AdminQueueView,
  type QueueView,
  type RoomStatus,
  salePhase,
  type Settings,
  toSettings,
} from './waiting-room.model.ts';
import { createAdmission } from './waiting-room.admission.ts';
import { createSettingsCache } from './waiting-room.settings.ts';
import { createRoomStatus } from './waiting-room.status.ts';

export type { AdminQueueView, QueueView, RoomStatus } from './waiting-room.model.ts';

export interface Actor {
  userId: string;
  role: string;
}

export interface WaitingRoomLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface WaitingRoomDeps {
  store: WaitingRoomStore;
  repo: Pick<WaitingRoomRepository, 'findSettings' | 'updateControls'>;
  /** createSigner(secret, 'admission'): tokens that can never pass as session tokens. */
  signer: Signer;
  clock: Clock;
  log: WaitingRoomLog;
  /** How long an event's settings are served from memory before they are read again. */
  settingsTtlMs?: number;
  /**
   * Seats and places the event has free right now (the inventory answers; absent: never sold out).
   * At 0 the room reports `sold_out` and admits nobody more until something is freed again
   * (a hold runs out, an order expires or is refunded); buyers keep their places meanwhile.
   */
  remaining?: (eventId: string) => Promise<number>;
  /** TICKETMAX_ADMISSION_BACKOFF_MS (0 or absent: off): the organizer's view shows what the back-off sees and does. */
  backoffMs?: number;
}

/** How long a waiting place read from the store serves this process's polls and streams. */
const WAIT_REREAD_MS = 10_000;
/** Most waiting places remembered at once (the map is emptied when full). */
const WAITING_CACHE_LIMIT = 200_000;

export function createWaitingRoomService({
  store,
  repo,
  signer,
  clock,
  log,
  settingsTtlMs = 1000,
  remaining,
  backoffMs = 0,
}: WaitingRoomDeps) {
  const settings = createSettingsCache({ repo, clock, log, ttlMs: settingsTtlMs });
  const { settingsOf } = settings;
  /** Events known (to this process) to be shuffled, and registered with the ticker. */
  const shuffled = new Set<string>();
  const turnKey = (eventId: string, userId: string) => `${eventId}|${userId}`;
  /** Places of buyers still waiting, as this process last read them: event|user -> place and when. */
  const waitingPlaces = new Map<string, { place: Place; at: number }>();
  const registered = new Set<string>();
  const admission = createAdmission({ store, signer, clock, settingsOf });
  const status = createRoomStatus({ store, clock, log, remaining, backoffMs, tokenOf: admission.tokenOf });
  const { statusEntry, viewOf } = status;

  async function ensureShuffled(eventId: string) {
    if (shuffled.has(eventId)) return;
    const count = await store.shuffle(eventId, newShuffleSeed());
    if (count !== null) log.info({ eventId, count }, 'pre-queue shuffled');
    shuffled.add(eventId);
  }

  async function register(eventId: string) {
    if (registered.has(eventId)) return;
    await store.addQueue(eventId);
    registered.add(eventId);
  }

  /**
   * Reads a place; after onSaleAt a pre-queue place is first given its number by the (one) shuffle.
   * `claim`: an admitted turn is claimed in the same store call (the buyer's own queue read).
   */
  async function readPlace(eventId: string, userId: string, s: Settings, now: number, claim = false): Promise<Place | null> {
    const read = () => (claim ? store.claimPlace(eventId, userId, now, s.rules) : store.place(eventId, userId));
    let place = await read();
    if (place && place.number === null && salePhase(s, now) !== 'pre' && salePhase(s, now) !== 'early') {
      await ensureShuffled(eventId);
      place = await read();
    }
    return place;
  }

  /**
   * The buyer's place as they see it. `claim`: this read is the buyer taking an admitted turn
   * (an authenticated queue read counts as showing up).
   */
  async function readQueue(eventId: string, userId: string, options: { claim: boolean }) {
    const s = await settingsOf(eventId);
    const now = clock.now();
    const place = await readPlace(eventId, userId, s, now, options.claim);
    if (!place) throw notInQueue();
    return { place, view: viewOf(eventId, userId, place, s, await statusEntry(eventId, s), now) };
  }

  /**
   * The buyer's view. While they wait well behind the serving counter it follows from the shared,
   * once-a-second status and the place this process last read (their number cannot change while
   * they wait), so a poll or a stream tick costs no store read; the place is read again when the
   * counter nears their number, and after WAIT_REREAD_MS in any case (a leave through another
   * process). Admission is in number order, so a number ahead of the counter is still waiting.
   */
  async function myQueue(eventId: string, userId: string, options: { claim: boolean }): Promise<QueueView> {
    const key = turnKey(eventId, userId);
    const known = waitingPlaces.get(key);
    if (known) {
      const s = await settingsOf(eventId);
      const now = clock.now();
      const entry = await statusEntry(eventId, s);
      // A number past the last one given out is a place the store has lost since (waiting-room.rebuild.ts): read it.
      const { serving, issued } = entry.counters;
      if (
        known.place.number !== null &&
        known.place.number > serving + 1 &&
        known.place.number <= issued &&
        now - known.at < WAIT_REREAD_MS
      ) {
        return viewOf(eventId, userId, known.place, s, entry, now);
      }
      waitingPlaces.delete(key);
    }
    const read = await readQueue(eventId, userId, options);
    if (read.place.mark.kind === 'none' && read.place.number !== null) {
      if (waitingPlaces.size >= WAITING_CACHE_LIMIT) waitingPlaces.clear();
      waitingPlaces.set(key, { place: read.place, at: clock.now() });
    }
    return read.view;
  }

  /** A live view for one stream: the same as polling (see myQueue). */
  function watch(eventId: string, userId: string) {
    return () => myQueue(eventId, userId, { claim: true });
  }

  function mayControl(actor: Actor, s: Settings) {
    if (actor.role !== 'admin' && actor.userId !== s.row.organizer_id) {
      throw forbidden('Only the organizer who owns this event, or an admin, may control its queue');
    }
  }

  return {
    settingsOf,

    /** Joins the queue (idempotent per buyer and event). `created` is false when the buyer already had a place. */
    async join(eventId: string, userId: string): Promise<{ created: boolean; queue: QueueView }> {
      const s = await settingsOf(eventId);
      const now = clock.now();
      const phase = salePhase(s, now);
      if (phase === 'early' || phase === 'closed') {
        const existing = await readPlace(eventId, userId, s, now);
        if (existing) return { created: false, queue: viewOf(eventId, userId, existing, s, await statusEntry(eventId, s), now) };
        if (phase === 'early') {
          throw saleNotOpen('The waiting room has not opened yet', {
            opensAt: new Date(s.preQueueAt).toISOString(),
            state: 'prequeue',
          });
        }
        throw saleNotOpen('The sale of this event has ended', { state: 'closed' });
      }
      await register(eventId);
      const entry = await statusEntry(eventId, s);
      // Nobody is admitted at once while nothing is left to hold; the place is kept for when seats come back.
      const rules = entry.soldOut ? { ...s.rules, paused: true } : s.rules;
      let result = await store.join(eventId, userId, now, phase, rules);
      if (result === 'shuffle-needed') {
        // Not shuffled, whatever this process remembers (the store may have been flushed and rebuilt).
        shuffled.delete(eventId);
        await ensureShuffled(eventId);
        result = await store.join(eventId, userId, now, phase, rules);
        if (result === 'shuffle-needed') throw new Error('queue still unshuffled after the shuffle');
      }
      if (result.place.mark.kind === 'admitted') {
        // Admitted earlier by the ticker and back: the join's answer hands over the token, so they have shown up.
        result = { created: result.created, place: (await store.claimPlace(eventId, userId, now, s.rules)) ?? result.place };
      }
      if (phase === 'open' && result.place.number === null) {
        // Pre-queued before the sale opened and back before the shuffle ran: number them now.
        result = { created: result.created, place: (await readPlace(eventId, userId, s, now)) ?? result.place };
      }
      return { created: result.created, queue: viewOf(eventId, userId, result.place, s, await statusEntry(eventId, s), now) };
    },

    myQueue,
    watch,

    async leave(eventId: string, userId: string): Promise<void> {
      await settingsOf(eventId);
      admission.forget(eventId, userId);
      waitingPlaces.delete(turnKey(eventId, userId));
      if (!(await store.leave(eventId, userId))) throw notInQueue();
    },

    /** The public status: the same for everyone, at most a second old. */
    async status(eventId: string): Promise<RoomStatus> {
      const s = await settingsOf(eventId);
      return (await statusEntry(eventId, s)).status;
    },

    /** Waiting and active buyers of the queues this process has seen (for /metrics; at most a second old). */
    async lengths(): Promise<{ eventId: string; waiting: number; active: number }[]> {
      const ids = new Set([...registered, ...status.events()]);
      const out: { eventId: string; waiting: number; active: number }[] = [];
      for (const eventId of ids) {
        try {
          const entry = await statusEntry(eventId, await settingsOf(eventId));
          out.push({ eventId, waiting: entry.status.waiting, active: entry.counters.active });
        } catch {
          registered.delete(eventId); // the event is gone
          status.forget(eventId);
        }
      }
      return out;
    },

    /** Answers 404 for an unknown event and 403 unless the actor is its organizer or an admin. */
    async mayControl(actor: Actor, eventId: string): Promise<void> {
      mayControl(actor, await settingsOf(eventId));
    },

    async adminStatus(actor: Actor, eventId: string): Promise<AdminQueueView> {
      const s = await settingsOf(eventId);
      mayControl(actor, s);
      return status.adminView(eventId, s);
    },

    /** Organizer controls, live: written to the events table first (restarts and other processes read it there). */
    async control(actor: Actor, eventId: string, controls: { paused?: boolean; admitPerMinute?: number; maxActive?: number }) {
      mayControl(actor, await settingsOf(eventId));
      const row = await repo.updateControls(eventId, controls, actor.userId);
      if (!row) throw notFound('Event');
      const s = toSettings(row, clock.now());
      settings.remember(eventId, s);
      status.forget(eventId);
      log.info({ eventId, ...controls }, 'queue controls changed');
      return status.adminView(eventId, s);
    },

    /**
     * One ticker step for one event: shuffles the pre-queue once the sale opens, expires
     * admissions past their deadline and admits the next buyers. The caller holds the lease.
     * `backoff` (admission back-off, 0–1) scales the step's maxActive.
     */
    async tickEvent(eventId: string, now: number, backoff = 1) {
      const s = await settingsOf(eventId);
      const phase = salePhase(s, now);
      if (phase === 'early' || phase === 'pre') return { admitted: 0, expired: 0 };
      await ensureShuffled(eventId);
      // After the sale closes, and while nothing is left to hold, nobody more is admitted; admissions still run out.
      const wait = phase !== 'open' || (await statusEntry(eventId, s)).soldOut;
      const rules = wait
        ? { ...s.rules, paused: true }
        : backoff < 1
          ? { ...s.rules, maxActive: Math.max(1, Math.floor(s.rules.maxActive * backoff)) }
          : s.rules;
      const result = await store.advance(eventId, now, rules);
      if (result.admitted > 0 || result.expired > 0) status.forget(eventId);
      return result;
    },

    /**
     * 'over' once the event closed long enough ago that its queue needs no more ticks, 'gone' when
     * the database has no such event, else false. A failing database read throws: a blip must
     * never retire a live queue.
     */
    async finishedLongAgo(eventId: string, now: number): Promise<'over' | 'gone' | false> {
      let s: Settings;
      try {
        s = await settingsOf(eventId);
      } catch (err) {
        if (err instanceof AppError && err.code === 'NOT_FOUND') return 'gone';
        throw err;
      }
      return now >= s.closeAt + 2 * s.rules.admissionMs ? 'over' : false;
    },

    /** The door other modules use (holds, orders): see index.ts. */
    admission: {
      requireAdmission: admission.requireAdmission,

      /** The buyer's order was paid, canceled or expired: their active slot goes to the next buyer. */
      async finish(eventId: string, userId: string): Promise<void> {
        if (await admission.finish(eventId, userId)) status.forget(eventId);
      },
    },
  };
}
export type WaitingRoomService = ReturnType<typeof createWaitingRoomService>;
export type Admission = WaitingRoomService['admission'];
