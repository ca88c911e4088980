import type { Queryable } from '../../platform/db.ts';
import { insertAuditLine } from '../accounts/index.ts';

export interface SectionRow {
  id: string;
  venue_id: string;
  name: string;
  kind: 'seated' | 'ga';
  capacity: number | null;
  position: number;
}
export interface SeatRow {
  id: string;
  section_id: string;
  row_label: string;
  label: string;
  x: number;
  y: number;
  idx: number;
}
export interface VenueRow {
  id: string;
  name: string;
  owner_id: string;
  seat_count: number;
  ga_capacity: number;
}
export interface EventRow {
  id: string;
  venue_id: string;
  venue_name: string;
  organizer_id: string;
  name: string;
  description: string;
  starts_at: Date;
  on_sale_at: Date;
  off_sale_at: Date | null;
  max_seats_per_order: number;
  hold_seconds: number;
  admit_per_minute: number;
  max_active: number;
  claim_seconds: number;
  pre_queue_minutes: number;
  admission_minutes: number;
  queue_paused: boolean;
  seatmap_version: number;
  seat_count: number;
  ga_capacity: number;
}
export interface PriceRow {
  event_id: string;
  section_id: string;
  section_name: string;
  kind: 'seated' | 'ga';
  position: number;
  amount: number;
  currency: string;
}

const EVENT_COLUMNS = `e.id, e.venue_id, v.name AS venue_name, e.organizer_id, e.name, e.description, e.starts_at,
  e.on_sale_at, e.off_sale_at, e.max_seats_per_order, e.hold_seconds, e.admit_per_minute, e.max_active,
  e.claim_seconds, e.pre_queue_minutes, e.admission_minutes, e.queue_paused, e.seatmap_version, v.seat_count,
  (SELECT coalesce(sum(capacity), 0)::int FROM sections s WHERE s.venue_id = v.id AND s.kind = 'ga') AS ga_capacity`;

/** Rows per INSERT … SELECT unnest(…): big enough to be fast, small enough for any driver. */
const SEAT_BATCH = 10_000;

export function createCatalogRepository(db: Queryable) {
  return {
    async insertVenue(venue: { id: string; name: string; ownerId: string; seatCount: number }) {
      await db.query('INSERT INTO venues (id, name, owner_id, seat_count) VALUES ($1, $2, $3, $4)', [
        venue.id,
        venue.name,
        venue.ownerId,
        venue.seatCount,
      ]);
    },

    async insertSections(
      sections: { id: string; venueId: string; name: string; kind: string; capacity: number | null; position: number }[],
    ) {
      await db.query(
        `INSERT INTO sections (id, venue_id, name, kind, capacity, position)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[])`,
        [
          sections.map((s) => s.id),
          sections.map((s) => s.venueId),
          sections.map((s) => s.name),
          sections.map((s) => s.kind),
          sections.map((s) => s.capacity),
          sections.map((s) => s.position),
        ],
      );
    },

    /** Inserts seats in large batches: a 50,000-seat venue is five statements. */
    async insertSeats(
      venueId: string,
      seats: { id: string; sectionId: string; rowLabel: string; label: string; x: number; y: number; idx: number }[],
    ) {
      for (let start = 0; start < seats.length; start += SEAT_BATCH) {
        const batch = seats.slice(start, start + SEAT_BATCH);
        await db.query(
          `INSERT INTO seats (id, venue_id, section_id, row_label, label, x, y, idx)
           SELECT id, $1, section_id, row_label, label, x, y, idx
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::int[])
               AS t(id, section_id, row_label, label, x, y, idx)`,
          [
            venueId,
            batch.map((s) => s.id),
            batch.map((s) => s.sectionId),
            batch.map((s) => s.rowLabel),
            batch.map((s) => s.label),
            batch.map((s) => s.x),
            batch.map((s) => s.y),
            batch.map((s) => s.idx),
          ],
        );
      }
    },

    /**
     * Renames the venue and returns the name it had (undefined when there is no such venue): the
     * row is locked before it is read, so two renames at once each see the other's name, never
     * the same one. The events sold on it show the new name at once (their rows join it).
     */
    async renameVenue(id: string, name: string): Promise<string | undefined> {
      const rows = await db.query<{ previous: string }>(
        `UPDATE venues v SET name = $2
           FROM (SELECT id, name FROM venues WHERE id = $1 FOR UPDATE) AS old
          WHERE v.id = old.id RETURNING old.name AS previous`,
        [id, name],
      );
      return rows[0]?.previous;
    },

    /** The audit line of an organizer's creation or renaming of a venue, in its transaction. */
    async logVenue(actorId: string, action: 'venue.created' | 'venue.renamed', venueId: string, details: object) {
      await insertAuditLine(db, { actorId, action, venueId, details });
    },

    async findVenue(id: string) {
      const rows = await db.query<VenueRow>(
        `SELECT v.id, v.name, v.owner_id, v.seat_count,
                (SELECT coalesce(sum(capacity), 0)::int FROM sections s WHERE s.venue_id = v.id AND s.kind = 'ga') AS ga_capacity
           FROM venues v WHERE v.id = $1`,
        [id],
      );
      return rows[0];
    },

    async listVenues() {
      return db.query<VenueRow>(
        `SELECT v.id, v.name, v.owner_id, v.seat_count,
                (SELECT coalesce(sum(capacity), 0)::int FROM sections s WHERE s.venue_id = v.id AND s.kind = 'ga') AS ga_capacity
           FROM venues v ORDER BY v.created_at DESC LIMIT 500`,
      );
    },

    async sectionsOf(venueIds: string[]) {
      return db.query<SectionRow>(
        'SELECT id, venue_id, name, kind, capacity, position FROM sections WHERE venue_id = ANY($1::text[]) ORDER BY venue_id, position',
        [venueIds],
      );
    },

    async seatsOf(venueId: string) {
      return db.query<SeatRow>('SELECT id, section_id, row_label, label, x, y, idx FROM seats WHERE venue_id = $1 ORDER BY idx', [
        venueId,
      ]);
    },

    async insertEvent(e: {
      id: string;
      venueId: string;
      organizerId: string;
      name: string;
      description: string;
      startsAt: Date;
      onSaleAt: Date;
      offSaleAt: Date | null;
      maxSeatsPerOrder: number;
      holdSeconds: number;
      admitPerMinute: number;
      maxActive: number;
      claimSeconds: number;
      preQueueMinutes: number;
      admissionMinutes: number;
    }) {
      await db.query(
        `INSERT INTO events (id, venue_id, organizer_id, name, description, starts_at, on_sale_at, off_sale_at,
           max_seats_per_order, hold_seconds, admit_per_minute, max_active, claim_seconds, pre_queue_minutes, admission_minutes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [
          e.id,
          e.venueId,
          e.organizerId,
          e.name,
          e.description,
          e.startsAt,
          e.onSaleAt,
          e.offSaleAt,
          e.maxSeatsPerOrder,
          e.holdSeconds,
          e.admitPerMinute,
          e.maxActive,
          e.claimSeconds,
          e.preQueueMinutes,
          e.admissionMinutes,
        ],
      );
    },

    /** Writes the changed columns; bumps the seat map version when prices change. */
    async updateEvent(id: string, changes: Record<string, unknown>, bumpSeatmap: boolean) {
      const columns = Object.keys(changes);
      const sets = columns.map((c, i) => `${c} = $${i + 2}`);
      sets.push('updated_at = now()');
      if (bumpSeatmap) sets.push('seatmap_version = seatmap_version + 1');
      await db.query(`UPDATE events SET ${sets.join(', ')} WHERE id = $1`, [id, ...columns.map((c) => changes[c])]);
    },

    /** The audit line of an organizer's creation of or change to the event, in its transaction. */
    async logEvent(actorId: string, action: 'event.created' | 'event.changed', eventId: string, details: object) {
      await insertAuditLine(db, { actorId, action, eventId, details });
    },

    async replacePrices(eventId: string, prices: { sectionId: string; amount: number; currency: string }[]) {
      await db.query('DELETE FROM prices WHERE event_id = $1', [eventId]);
      await db.query(
        `INSERT INTO prices (event_id, section_id, amount, currency)
         SELECT $1, * FROM unnest($2::text[], $3::int8[], $4::text[])`,
        [eventId, prices.map((p) => p.sectionId), prices.map((p) => p.amount), prices.map((p) => p.currency)],
      );
    },

    async insertGaInventory(eventId: string, sections: { sectionId: string; capacity: number }[]) {
      if (sections.length === 0) return;
      await db.query(
        `INSERT INTO ga_inventory (event_id, section_id, capacity)
         SELECT $1, * FROM unnest($2::text[], $3::int[])`,
        [eventId, sections.map((s) => s.sectionId), sections.map((s) => s.capacity)],
      );
    },

    async findEvent(id: string) {
      const rows = await db.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events e JOIN venues v ON v.id = e.venue_id WHERE e.id = $1`,
        [id],
      );
      return rows[0];
    },

    /**
     * Events still to come (or on sale) first, soonest first; then those over, the latest first;
     * `limit` of them. Only one organizer's when `organizerId` is given.
     */
    async listEvents(limit: number, now: Date, organizerId?: string) {
      return db.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events e JOIN venues v ON v.id = e.venue_id
          WHERE $3::text IS NULL OR e.organizer_id = $3
          ORDER BY coalesce(e.off_sale_at, e.starts_at) <= $2,
                   CASE WHEN coalesce(e.off_sale_at, e.starts_at) > $2 THEN e.starts_at END,
                   e.starts_at DESC, e.id
          LIMIT $1`,
        [limit, now, organizerId ?? null],
      );
    },

    async pricesOf(eventIds: string[]) {
      return db.query<PriceRow>(
        `SELECT p.event_id, p.section_id, s.name AS section_name, s.kind, s.position, p.amount, p.currency
           FROM prices p JOIN sections s ON s.id = p.section_id
          WHERE p.event_id = ANY($1::text[]) ORDER BY p.event_id, s.position`,
        [eventIds],
      );
    },

    /** Seats and GA places in pending or paid orders, per event: what the database says is gone. */
    async takenCounts(eventIds: string[]) {
      return db.query<{ event_id: string; taken: number }>(
        `SELECT event_id, coalesce(sum(quantity), 0)::int AS taken FROM order_items
          WHERE active AND event_id = ANY($1::text[]) GROUP BY event_id`,
        [eventIds],
      );
    },

    async eventHasOrders(eventId: string) {
      const rows = await db.query('SELECT 1 FROM orders WHERE event_id = $1 LIMIT 1', [eventId]);
      return rows.length > 0;
    },
  };
}
export type CatalogRepository = ReturnType<typeof createCatalogRepository>;
