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

    /** Writes the organizer's live controls, so they survive restarts and reach every process. */
    async updateControls(eventId: string, controls: { paused?: boolean; admitPerMinute?: number; maxActive?: number }) {
      const rows = await db.query<QueueSettingsRow>(
        `UPDATE events SET queue_paused = coalesce($2, queue_paused), admit_per_minute = coalesce($3, admit_per_minute),
                max_active = coalesce($4, max_active), updated_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [eventId, controls.paused ?? null, controls.admitPerMinute ?? null, controls.maxActive ?? null],
      );
      return rows[0];
    },
  };
}
export type WaitingRoomRepository = ReturnType<typeof createWaitingRoomRepository>;
