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

const COLUMNS = `id, organizer_id, starts_at, on_sale_at, off_sale_at, admit_per_minute, max_active, claim_seconds,
  pre_queue_minutes, admission_minutes, queue_paused`;

export function createWaitingRoomRepository(db: Queryable) {
  return {
    async findSettings(eventId: string) {
      const rows = await db.query<QueueSettingsRow>(`SELECT ${COLUMNS} FROM events WHERE id = $1`, [eventId]);
      return rows[0];
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
