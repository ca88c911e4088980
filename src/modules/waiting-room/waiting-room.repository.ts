import type { Queryable } from '../../platform/db.ts';

/** The queue settings of an event, as the events table holds them. */
export interface QueueSettingsRow {
  id: string;
  organizer_id: string;
  starts_at: Date;
  on_sale_at: Date;
  off_sale_at: Date | null;
  admit_per_minute: number;
  max_active: number;
  claim_seconds: number;
  pre_queue_minutes: number;
  admission_minutes: number;
  queue_paused: boolean;
}

/** What the database holds of an event's queue: what waiting-room.rebuild.ts builds a snapshot from. */
export interface QueueRecord {
  places: { number: number; user_id: string }[];
  /** The admission log, in admission order. */
  admissions: { number: number; user_id: string; recorded_at: Date }[];
  /** The leave log: buyers who left the queue (for good), in the order they left. */
  leaves: string[];
  /** The pre-queue as copied before the shuffle, in arrival order. */
  prequeue: string[];
  /** Every buyer with an order for the event; `pending` when one of theirs is still pending. */
  orders: { user_id: string; pending: boolean }[];
  admission_minutes: number;
  /** When the sale closes: off_sale_at, else the event's start. */
  closes_at: Date;
}

const COLUMNS = `id, organizer_id, starts_at, on_sale_at, off_sale_at, admit_per_minute, max_active, claim_seconds,
  pre_queue_minutes, admission_minutes, queue_paused`;
/** COLUMNS of the events row called e (where another relation has columns of the same names). */
const E_COLUMNS = COLUMNS.split(',')
  .map((c) => `e.${c.trim()}`)
  .join(', ');

export function createWaitingRoomRepository(db: Queryable) {
  return {
    async findSettings(eventId: string) {
      const rows = await db.query<QueueSettingsRow>(`SELECT ${COLUMNS} FROM events WHERE id = $1`, [eventId]);
      return rows[0];
    },

    /** The event's queue as the admission ticker copied it (undefined: no such event). */
    async queueRecord(eventId: string): Promise<QueueRecord | undefined> {
      const [event] = await db.query<{ admission_minutes: number; closes_at: Date }>(
        'SELECT admission_minutes, coalesce(off_sale_at, starts_at) AS closes_at FROM events WHERE id = $1',
        [eventId],
      );
      if (!event) return undefined;
      const [places, admissions, leaves, prequeue, orders] = await Promise.all([
        db.query<{ first_number: number; user_ids: string[] }>(
          'SELECT first_number, user_ids FROM queue_place_ranges WHERE event_id = $1 ORDER BY first_number',
          [eventId],
        ),
        db.query<QueueRecord['admissions'][number]>(
          'SELECT number, user_id, recorded_at FROM queue_admissions WHERE event_id = $1 ORDER BY seq',
          [eventId],
        ),
        db.query<{ user_id: string }>('SELECT user_id FROM queue_leaves WHERE event_id = $1 ORDER BY seq', [eventId]),
        db.query<{ user_ids: string[] }>('SELECT user_ids FROM queue_prequeue_ranges WHERE event_id = $1 ORDER BY first_seq', [
          eventId,
        ]),
        db.query<QueueRecord['orders'][number]>(
          `SELECT user_id, bool_or(status = 'pending') AS pending FROM orders WHERE event_id = $1 GROUP BY user_id`,
          [eventId],
        ),
      ]);
      return {
        places: places.flatMap((r) =>
          r.user_ids.flatMap((user_id, i) => (user_id ? [{ number: r.first_number + i, user_id }] : [])),
        ),
        admissions,
        leaves: leaves.map((r) => r.user_id),
        prequeue: prequeue.flatMap((r) => r.user_ids),
        orders,
        admission_minutes: event.admission_minutes,
        closes_at: event.closes_at,
      };
    },

    /**
     * Writes the organizer's live controls, so they survive restarts and reach every process, with
     * an audit line by `actorId` (what they were, what they are) in the same statement when anything
     * changed. The old values are read under the row's lock (the FOR UPDATE sub-select), so two
     * organizers changing them at once each log what they really changed.
     */
    async updateControls(
      eventId: string,
      controls: { paused?: boolean; admitPerMinute?: number; maxActive?: number },
      actorId: string,
    ) {
      const rows = await db.query<QueueSettingsRow>(
        `WITH e AS (UPDATE events e
                        SET queue_paused = coalesce($2, e.queue_paused), admit_per_minute = coalesce($3, e.admit_per_minute),
                            max_active = coalesce($4, e.max_active), updated_at = now()
                       FROM (SELECT id, queue_paused, admit_per_minute, max_active FROM events WHERE id = $1 FOR UPDATE) old
                      WHERE e.id = old.id
                  RETURNING ${E_COLUMNS}, old.queue_paused AS was_paused, old.admit_per_minute AS was_admit_per_minute,
                            old.max_active AS was_max_active),
              logged AS (INSERT INTO audit_log (actor_id, action, event_id, details)
                         SELECT $5, 'queue.changed', e.id, jsonb_build_object(
                                  'from', jsonb_build_object('paused', was_paused, 'admitPerMinute', was_admit_per_minute,
                                                             'maxActive', was_max_active),
                                  'to', jsonb_build_object('paused', queue_paused, 'admitPerMinute', admit_per_minute,
                                                           'maxActive', max_active))
                           FROM e
                          WHERE (was_paused, was_admit_per_minute, was_max_active)
                                IS DISTINCT FROM (queue_paused, admit_per_minute, max_active))
         SELECT ${COLUMNS} FROM e`,
        [eventId, controls.paused ?? null, controls.admitPerMinute ?? null, controls.maxActive ?? null, actorId],
      );
      return rows[0];
    },
  };
}
export type WaitingRoomRepository = ReturnType<typeof createWaitingRoomRepository>;
