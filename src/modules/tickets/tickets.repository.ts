import type { Queryable, Statement } from '../../platform/db.ts';

export interface TicketRow {
  id: string;
  order_id: string;
  event_id: string;
  user_id: string;
  section_name: string;
  row_label: string | null;
  seat_label: string | null;
  status: 'valid' | 'used' | 'void';
  code: string;
  issued_at: Date;
  /** When the holder was let in: the door's time for a check-in sent after the connection came back, else the server's. */
  checked_in_at: Date | null;
}

export interface NewTicket {
  id: string;
  orderId: string;
  orderItemId: string;
  eventId: string;
  sectionId: string;
  seatId: string | null;
  code: string;
}

const TICKET_COLUMNS = `t.id, t.order_id, t.event_id, o.user_id, s.name AS section_name, st.row_label, st.label AS seat_label,
  t.status, t.code, t.issued_at, coalesce(t.scanned_at, t.checked_in_at) AS checked_in_at`;
/** What a ticket row shows besides the ticket and its order: its section's name and its seat. */
const TICKET_PLACE = 'JOIN sections s ON s.id = t.section_id LEFT JOIN seats st ON st.id = t.seat_id';
const TICKET_FROM = `tickets t JOIN orders o ON o.id = t.order_id ${TICKET_PLACE}`;

/** A ticket of the door's list: used or void since `at_us` (microseconds since the epoch). */
export interface DoorChangeRow {
  id: string;
  status: 'used' | 'void';
  at_us: string;
}

/** How far the door's list has been read: the last change's time (µs since the epoch) and ticket. */
export interface DoorPosition {
  atUs: string;
  id: string;
}

/**
 * Changes younger than this are not listed yet: a transaction that stamped its change a moment
 * ago may still be committing, and a reader that moved past its stamp would never see it.
 */
export const DOOR_SETTLE_SECONDS = 5;

/** The INSERT of these tickets, carried out only where `guard` (SQL) holds. */
export function insertTickets(tickets: NewTicket[], guard = 'true'): Statement {
  return {
    sql: `INSERT INTO tickets (id, order_id, order_item_id, event_id, section_id, seat_id, code)
          SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) WHERE ${guard}`,
    params: [
      tickets.map((t) => t.id),
      tickets.map((t) => t.orderId),
      tickets.map((t) => t.orderItemId),
      tickets.map((t) => t.eventId),
      tickets.map((t) => t.sectionId),
      tickets.map((t) => t.seatId),
      tickets.map((t) => t.code),
    ],
  };
}

export function createTicketsRepository(q: Queryable) {
  return {
    async insert(tickets: NewTicket[]): Promise<void> {
      if (tickets.length === 0) return;
      const { sql, params } = insertTickets(tickets);
      await q.query(sql, params);
    },

    async byOrders(orderIds: string[]): Promise<TicketRow[]> {
      return q.query<TicketRow>(
        `SELECT ${TICKET_COLUMNS} FROM ${TICKET_FROM} WHERE t.order_id = ANY($1::text[]) ORDER BY t.order_id, t.id`,
        [orderIds],
      );
    },

    /**
     * A buyer's tickets, newest first. The plan starts from the buyer's orders and reads each
     * one's tickets by index (the LATERAL subquery with OFFSET 0 is not flattened into a join):
     * on a table that has grown since it was last analyzed — a sale's first minutes — the
     * planner would otherwise scan every ticket of every buyer for each call.
     */
    async byUser(userId: string): Promise<TicketRow[]> {
      return q.query<TicketRow>(
        `SELECT ${TICKET_COLUMNS}
           FROM orders o
           CROSS JOIN LATERAL (SELECT * FROM tickets WHERE order_id = o.id OFFSET 0) t
           ${TICKET_PLACE}
          WHERE o.user_id = $1
          ORDER BY t.issued_at DESC, t.id LIMIT 1000`,
        [userId],
      );
    },

    async find(id: string): Promise<TicketRow | undefined> {
      const rows = await q.query<TicketRow>(`SELECT ${TICKET_COLUMNS} FROM ${TICKET_FROM} WHERE t.id = $1`, [id]);
      return rows[0];
    },

    /**
     * The event's tickets that were checked in or voided after `after`, oldest change first (a
     * ticket used and then voided comes again, as void). Keyset order on the door index.
     */
    async doorChanges(eventId: string, after: DoorPosition | undefined, limit: number): Promise<DoorChangeRow[]> {
      return q.query<DoorChangeRow>(
        `SELECT id, status, (extract(epoch FROM coalesce(voided_at, checked_in_at)) * 1000000)::bigint::text AS at_us
           FROM tickets
          WHERE event_id = $1 AND status <> 'valid'
            AND coalesce(voided_at, checked_in_at) < clock_timestamp() - $5 * interval '1 second'
            AND ($2::bigint IS NULL
                 OR (coalesce(voided_at, checked_in_at), id) > (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::text))
          ORDER BY coalesce(voided_at, checked_in_at), id
          LIMIT $4`,
        [eventId, after?.atUs ?? null, after?.id ?? null, limit, DOOR_SETTLE_SECONDS],
      );
    },

    /**
     * Marks a valid ticket used in one statement: of any number of simultaneous scans exactly
     * one matches `status = 'valid'` and wins. Returns the ticket when this call won.
     * `scannedAt` is the door's time of a check-in made offline; a door clock that is off cannot
     * put it before the ticket was issued or after now.
     */
    async checkIn(id: string, code: string, staffId: string, scannedAt?: string): Promise<boolean> {
      const rows = await q.query(
        `UPDATE tickets SET status = 'used', checked_in_at = now(), checked_in_by = $3,
                scanned_at = CASE WHEN $4::timestamptz IS NOT NULL THEN least(greatest($4::timestamptz, issued_at), now()) END
          WHERE id = $1 AND code = $2 AND status = 'valid' RETURNING id`,
        [id, code, staffId, scannedAt ?? null],
      );
      return rows.length > 0;
    },
  };
}
export type TicketsRepository = ReturnType<typeof createTicketsRepository>;
