import type { Queryable } from '../../platform/db.ts';
import type { WaitingRoomStore } from './waiting-room.store.ts';

/** Most log entries copied in one insert. */
const BATCH = 5000;

/**
 * Copies the store's admission log to the queue_admissions table in batches (the ticker calls
 * `record` after each step and once more when it stops). Only the ticker that holds an event's
 * lease records it; the next seq to copy is read from the table when this process does not know
 * it yet, and a row already there is left alone, so a lease moving between processes loses or
 * doubles nothing.
 */
export function createAdmissionRecorder({ store, db }: { store: WaitingRoomStore; db: Queryable }) {
  const next = new Map<string, number>();

  async function nextSeq(eventId: string): Promise<number> {
    const known = next.get(eventId);
    if (known !== undefined) return known;
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM queue_admissions WHERE event_id = $1', [eventId]);
    return row?.n ?? 0;
  }

  return {
    /** Copies what the store logged since the last call; returns how many rows were written. */
    async record(eventId: string): Promise<number> {
      let from = await nextSeq(eventId);
      let written = 0;
      for (;;) {
        const entries = await store.admissions(eventId, from, BATCH);
        if (entries.length === 0) break;
        await db.query(
          `INSERT INTO queue_admissions (event_id, seq, number, user_id)
           SELECT $1, $2::int + i - 1, n, u FROM unnest($3::int[], $4::text[]) WITH ORDINALITY AS t(n, u, i)
           ON CONFLICT (event_id, seq) DO NOTHING`,
          [eventId, from, entries.map((e) => e.number), entries.map((e) => e.userId)],
        );
        from += entries.length;
        written += entries.length;
        next.set(eventId, from);
        if (entries.length < BATCH) break;
      }
      next.set(eventId, from);
      return written;
    },
    forget(eventId: string) {
      next.delete(eventId);
    },
  };
}
export type AdmissionRecorder = ReturnType<typeof createAdmissionRecorder>;
