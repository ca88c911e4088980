import type { Queryable } from '../../platform/db.ts';
import type { WaitingRoomStore } from './waiting-room.store.ts';

/** Most log entries copied in one insert. */
const BATCH = 5000;

/** Where each copied log ends in its table: where copying goes on from. */
const LOG_END = {
  admissions: 'SELECT count(*)::int AS n FROM queue_admissions WHERE event_id = $1',
  leaves: 'SELECT count(*)::int AS n FROM queue_leaves WHERE event_id = $1',
  prequeue: 'SELECT coalesce(max(first_seq + cardinality(user_ids)), 0)::int AS n FROM queue_prequeue_ranges WHERE event_id = $1',
};

/**
 * Copies the store's admission log to the queue_admissions table, its leave log to queue_leaves,
 * its pre-queue (until the shuffle) to queue_prequeue_ranges and its numbered places to
 * queue_place_ranges (one row a copy of each of the last two: the buyers who joined since), in
 * batches. The ticker calls `record` after each step and once more when it stops;
 * waiting-room.rebuild.ts reads them back into a store that lost the queue. Only the ticker that
 * holds an event's lease records it; where to go on from is read from the tables when this process
 * does not know it yet, and a row already there is left alone, so a lease moving between processes
 * loses or doubles nothing. Places are copied after the admissions, so every admission copied has
 * its place copied by the end of the same call.
 */
export function createAdmissionRecorder({ store, db }: { store: WaitingRoomStore; db: Queryable }) {
  /** Where each log goes on from, per event, once this process knows it. */
  const next: Record<keyof typeof LOG_END, Map<string, number>> = {
    admissions: new Map(),
    leaves: new Map(),
    prequeue: new Map(),
  };
  const nextPlace = new Map<string, number>();

  /**
   * Copies one of the store's append-only logs (entries seq 0, 1, 2, … of an event) to its table,
   * from where the table ends; the first call for an event reads that from the table.
   */
  async function copyLog<T>(
    eventId: string,
    log: keyof typeof LOG_END,
    read: (from: number) => Promise<T[]>,
    write: (from: number, entries: T[]) => Promise<unknown>,
  ): Promise<number> {
    let from = next[log].get(eventId);
    if (from === undefined) {
      const [row] = await db.query<{ n: number }>(LOG_END[log], [eventId]);
      from = row?.n ?? 0;
    }
    let written = 0;
    for (;;) {
      const entries = await read(from);
      if (entries.length === 0) break;
      await write(from, entries);
      from += entries.length;
      written += entries.length;
      next[log].set(eventId, from);
      if (entries.length < BATCH) break;
    }
    next[log].set(eventId, from);
    return written;
  }

  const recordAdmissions = (eventId: string) =>
    copyLog(
      eventId,
      'admissions',
      (from) => store.admissions(eventId, from, BATCH),
      (from, entries) =>
        db.query(
          `INSERT INTO queue_admissions (event_id, seq, number, user_id)
           SELECT $1, $2::int + i - 1, n, u FROM unnest($3::int[], $4::text[]) WITH ORDINALITY AS t(n, u, i)
           ON CONFLICT (event_id, seq) DO NOTHING`,
          [eventId, from, entries.map((e) => e.number), entries.map((e) => e.userId)],
        ),
    );

  const recordLeaves = (eventId: string) =>
    copyLog(
      eventId,
      'leaves',
      (from) => store.leaves(eventId, from, BATCH),
      (from, users) =>
        db.query(
          `INSERT INTO queue_leaves (event_id, seq, user_id)
           SELECT $1, $2::int + i - 1, u FROM unnest($3::text[]) WITH ORDINALITY AS t(u, i)
           ON CONFLICT (event_id, seq) DO NOTHING`,
          [eventId, from, users],
        ),
    );

  const recordPreQueue = (eventId: string) =>
    copyLog(
      eventId,
      'prequeue',
      (from) => store.preQueue(eventId, from, BATCH),
      (from, users) =>
        db.query('INSERT INTO queue_prequeue_ranges (event_id, first_seq, user_ids) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          eventId,
          from,
          users,
        ]),
    );

  async function recordPlaces(eventId: string): Promise<number> {
    let from = nextPlace.get(eventId);
    if (from === undefined) {
      const [row] = await db.query<{ n: number }>(
        'SELECT coalesce(max(first_number + cardinality(user_ids)), 1)::int AS n FROM queue_place_ranges WHERE event_id = $1',
        [eventId],
      );
      from = row?.n ?? 1;
    }
    let written = 0;
    for (;;) {
      const places = await store.places(eventId, from, BATCH);
      const last = places.at(-1)?.number;
      if (last === undefined) break;
      // Consecutive numbers from `from`: a number the store no longer knows (after a rebuild) is ''.
      const users = new Array<string>(last - from + 1).fill('');
      for (const p of places) users[p.number - from] = p.userId;
      await db.query(
        'INSERT INTO queue_place_ranges (event_id, first_number, user_ids) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [eventId, from, users],
      );
      written += places.length;
      from = last + 1;
      nextPlace.set(eventId, from);
      if (places.length < BATCH) break;
    }
    return written;
  }

  return {
    /** Copies what the store logged since the last call; returns how many rows were written. */
    async record(eventId: string): Promise<number> {
      const admissions = await recordAdmissions(eventId);
      const leaves = await recordLeaves(eventId);
      return admissions + leaves + (await recordPreQueue(eventId)) + (await recordPlaces(eventId));
    },
    forget(eventId: string) {
      for (const log of Object.values(next)) log.delete(eventId);
      nextPlace.delete(eventId);
    },
  };
}
export type AdmissionRecorder = ReturnType<typeof createAdmissionRecorder>;
