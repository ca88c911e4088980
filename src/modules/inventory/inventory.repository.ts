import type { Queryable } from '../../platform/db.ts';

/** The database side of the inventory: what is ordered (the truth to rebuild from) and prices. */
export function createInventoryRepository(db: Queryable) {
  return {
    /** Seat indexes of active (pending or paid) order items: these seats are gone whatever Redis says. */
    async activeSeatIndexes(eventId: string): Promise<number[]> {
      const rows = await db.query<{ idx: number }>(
        `SELECT s.idx FROM order_items oi JOIN seats s ON s.id = oi.seat_id
          WHERE oi.event_id = $1 AND oi.active AND oi.seat_id IS NOT NULL`,
        [eventId],
      );
      return rows.map((r) => r.idx);
    },

    /** Per GA section of the event: capacity, and capacity minus active ordered quantities. */
    async gaState(eventId: string) {
      return db.query<{ section_id: string; capacity: number; remaining: number }>(
        `SELECT g.section_id, g.capacity,
                g.capacity - coalesce((SELECT sum(oi.quantity) FROM order_items oi
                  WHERE oi.event_id = g.event_id AND oi.section_id = g.section_id AND oi.active AND oi.seat_id IS NULL), 0)::int
                  AS remaining
           FROM ga_inventory g WHERE g.event_id = $1`,
        [eventId],
      );
    },

    async pricesOf(eventId: string) {
      return db.query<{ section_id: string; amount: number; currency: string }>(
        'SELECT section_id, amount, currency FROM prices WHERE event_id = $1',
        [eventId],
      );
    },
  };
}
export type InventoryRepository = ReturnType<typeof createInventoryRepository>;
