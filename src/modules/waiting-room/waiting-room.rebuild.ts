import type { Clock } from '../../platform/clock.ts';
import { createLoadOnDemand } from '../../platform/load-on-demand.ts';
import type { QueueRecord, WaitingRoomRepository } from './waiting-room.repository.ts';
import {
  encodeMark,
  isNotLoaded,
  type QueueSnapshot,
  type WaitingRoomStore,
  type WaitingRoomStoreAdapter,
} from './waiting-room.store.ts';

/**
 * The waiting room's hot state is rebuildable, as the inventory's is: when the store does not hold
 * an event's queue — a new event, or one lost in a Redis restart or flush, or in a restart of the
 * embedded process — it is loaded from what the admission ticker copied to the database (numbered
 * places, the pre-queue, the admission log, the leave log) and from the orders. What the database
 * cannot know is filled in on the safe side:
 * - a buyer admitted and not finished (no order closed, none pending) counts as active until their
 *   admission runs out, so maxActive still holds: their slot returns then, or when they finish;
 * - places and admissions made in the last ticker step before the loss were not copied yet: those
 *   buyers are asked to join again (and get a new number) or are admitted again in number order;
 * - a pre-queue is copied too, and comes back while nothing is numbered; its buyers who joined in
 *   the last step join again (into it, before the sale opens). Were the queue lost after the
 *   shuffle but before its numbers were copied, the pre-queue comes back and is shuffled again;
 * - a buyer on the leave log stays left: passed over while waiting, not active if admitted;
 * - leaves of the last ticker step were not copied yet either: a buyer who had left while waiting
 *   is admitted when their number comes, and frees the slot again as a no-show after claimSeconds;
 * - the no-show and timed-out counts start again from 0.
 */
export function snapshotOf(record: QueueRecord, now: number): QueueSnapshot {
  const admissionMs = record.admission_minutes * 60_000;
  const users = new Map<number, string>();
  for (const p of record.places) users.set(p.number, p.user_id);
  // An admission copied before its place was: the log knows the buyer too.
  for (const a of record.admissions) users.set(a.number, a.user_id);
  const places = [...users].sort((a, b) => a[0] - b[0]).map(([number, userId]) => ({ number, userId }));
  const issued = places.at(-1)?.number ?? 0;
  // Before the shuffle nobody has a number; after it, the places hold every pre-queued buyer.
  const pre = issued === 0 ? [...new Set(record.prequeue)] : [];

  const orders = new Map(record.orders.map((o) => [o.user_id, o.pending]));
  const left = new Set(record.leaves);
  const marks: [string, string][] = [];
  const active: [string, number][] = [];
  const admitted = new Set<string>();
  let serving = 0;
  for (const a of record.admissions) {
    admitted.add(a.user_id);
    serving = Math.max(serving, a.number);
    const at = new Date(a.recorded_at).getTime();
    if (orders.get(a.user_id) === false) marks.push([a.user_id, encodeMark({ kind: 'finished' })!]);
    else if (left.has(a.user_id)) marks.push([a.user_id, encodeMark({ kind: 'left' })!]);
    else if (at + admissionMs <= now) marks.push([a.user_id, encodeMark({ kind: 'expired' })!]);
    else {
      marks.push([a.user_id, encodeMark({ kind: 'claimed', at })!]);
      active.push([a.user_id, at + admissionMs]);
    }
  }
  // Admission goes in number order, passing over those who left: a number at or below the
  // serving counter that was never admitted is one who left while waiting (their leave may be one
  // the database did not get), as is a number past it whose buyer's leave it did get.
  for (const { number, userId } of places)
    if (!admitted.has(userId) && (number <= serving || left.has(userId))) marks.push([userId, encodeMark({ kind: 'left' })!]);
  for (const userId of pre) if (left.has(userId)) marks.push([userId, encodeMark({ kind: 'left' })!]);
  return {
    places,
    issued,
    serving,
    shuffled: issued > 0,
    log: record.admissions.map((a) => a.number),
    marks,
    active,
    leaves: record.leaves,
    pre,
  };
}

export const EMPTY_SNAPSHOT: QueueSnapshot = Object.freeze({
  places: [],
  issued: 0,
  serving: 0,
  shuffled: false,
  log: [],
  marks: [],
  active: [],
  leaves: [],
  pre: [],
});

/**
 * Snapshots read from the database. Null (an empty queue, not ticked) for an event it does not
 * know, and for one whose queue the ticker has retired (closed longer ago than twice the admission
 * time: nobody is left to admit): a status read of an old event does not bring its places back.
 */
export function createSnapshotSource(repo: Pick<WaitingRoomRepository, 'queueRecord'>, clock: Clock) {
  return async (eventId: string): Promise<QueueSnapshot | null> => {
    const record = await repo.queueRecord(eventId);
    const now = clock.now();
    if (!record || new Date(record.closes_at).getTime() + 2 * record.admission_minutes * 60_000 <= now) return null;
    return snapshotOf(record, now);
  };
}

export interface RebuildLog {
  info(obj: object, msg: string): void;
}

/**
 * The port over an adapter: an operation the adapter answers with NOT_LOADED loads the event's
 * queue (once per event at a time in this process; the adapter's load is a no-op when another
 * process loaded it first) and runs again. A queue brought back is put back on the ticker's list
 * of queues too (a Redis flush empties that list, and each process adds an event to it only once).
 * A null snapshot loads an empty queue and leaves the list alone.
 */
export function withRebuild(
  adapter: WaitingRoomStoreAdapter,
  snapshot: (eventId: string) => Promise<QueueSnapshot | null>,
  log: RebuildLog,
): WaitingRoomStore {
  const { loaded } = createLoadOnDemand({
    isNotLoaded,
    what: 'queue',
    async load(eventId) {
      const s = await snapshot(eventId);
      const loaded = await adapter.load(eventId, s ?? EMPTY_SNAPSHOT);
      if (!s) return;
      await adapter.addQueue(eventId);
      if (loaded && s.issued > 0)
        log.info(
          { eventId, places: s.places.length, serving: s.serving, active: s.active.length },
          'queue loaded from the database',
        );
    },
  });

  return {
    ...adapter,
    join: (eventId, ...rest) => loaded(eventId, () => adapter.join(eventId, ...rest)),
    place: (eventId, ...rest) => loaded(eventId, () => adapter.place(eventId, ...rest)),
    claimPlace: (eventId, ...rest) => loaded(eventId, () => adapter.claimPlace(eventId, ...rest)),
    shuffle: (eventId, ...rest) => loaded(eventId, () => adapter.shuffle(eventId, ...rest)),
    advance: (eventId, ...rest) => loaded(eventId, () => adapter.advance(eventId, ...rest)),
    claim: (eventId, ...rest) => loaded(eventId, () => adapter.claim(eventId, ...rest)),
    leave: (eventId, ...rest) => loaded(eventId, () => adapter.leave(eventId, ...rest)),
    finish: (eventId, ...rest) => loaded(eventId, () => adapter.finish(eventId, ...rest)),
    counters: (eventId) => loaded(eventId, () => adapter.counters(eventId)),
  };
}

/** The port over an adapter with no database behind it: a queue it does not hold starts empty (benchmarks, unit tests). */
export function withoutDatabase(adapter: WaitingRoomStoreAdapter): WaitingRoomStore {
  return withRebuild(adapter, async () => null, { info: () => undefined });
}
