import type { Queryable } from '../../platform/db.ts';
import { AppError, forbidden, notFound } from '../../platform/errors.ts';
import { newIds } from '../../platform/crypto.ts';
import type { Principal } from '../accounts/index.ts';
import { qrSvg, type TicketSigner } from './ticket-codes.ts';
import { createTicketsRepository, type NewTicket, type TicketRow } from './tickets.repository.ts';

export interface TicketView {
  id: string;
  orderId: string;
  eventId: string;
  seat: { label: string | null; row: string | null; section: string };
  status: 'valid' | 'used' | 'void';
  code: string;
  checkedInAt: string | null;
}

export function ticketView(row: TicketRow): TicketView {
  return {
    id: row.id,
    orderId: row.order_id,
    eventId: row.event_id,
    seat: { label: row.seat_label, row: row.row_label, section: row.section_name },
    status: row.status,
    code: row.code,
    checkedInAt: row.checked_in_at?.toISOString() ?? null,
  };
}

/** An order item as tickets are issued from it: a seat, or a quantity of GA places. */
export interface IssuableItem {
  id: string;
  section_id: string;
  section_name: string;
  seat_id: string | null;
  seat_label: string | null;
  row_label: string | null;
  quantity: number;
}

export const invalidTicket = () => new AppError('INVALID_TICKET', 400, 'This is not a TicketMax ticket code, or it was altered');

export function createTicketsService({ db, signer, now }: { db: Queryable; signer: TicketSigner; now: () => number }) {
  const repo = createTicketsRepository(db);

  /**
   * The tickets of a paid order, one per seat and per GA place, signed and ready to insert
   * (`rows`), with their views as `ofOrders` will read them back. Writes nothing.
   */
  function prepare(order: { id: string; event_id: string }, items: IssuableItem[]): { rows: NewTicket[]; views: TicketView[] } {
    const count = items.reduce((n, i) => n + (i.seat_id ? 1 : i.quantity), 0);
    const ids = newIds('tkt', count);
    const issuedAt = Math.floor(now() / 1000);
    let next = 0;
    const tickets = items.flatMap((item) =>
      Array.from({ length: item.seat_id ? 1 : item.quantity }, () => {
        const id = ids[next++]!;
        const seat = item.seat_id ? `${item.section_name} · ${item.row_label} · ${item.seat_label}` : `${item.section_name} · GA`;
        return {
          id,
          orderId: order.id,
          orderItemId: item.id,
          eventId: order.event_id,
          sectionId: item.section_id,
          seatId: item.seat_id,
          code: signer.sign({ t: id, e: order.event_id, s: seat, i: issuedAt }),
          view: { label: item.seat_label, row: item.row_label, section: item.section_name },
        };
      }),
    );
    // As ofOrders reads them back: by id.
    const views = [...tickets]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((t) => ({
        id: t.id,
        orderId: t.orderId,
        eventId: t.eventId,
        seat: t.view,
        status: 'valid' as const,
        code: t.code,
        checkedInAt: null,
      }));
    return { rows: tickets, views };
  }

  /** Check-in is for door staff, organizers and admins. */
  function mayCheckIn(principal: Principal) {
    if (!['staff', 'organizer', 'admin'].includes(principal.role)) throw forbidden('Check-in is for staff');
  }

  /** Door staff work any event; an organizer only their own events. */
  async function mayCheckInAt(principal: Principal, eventId: string, organizerId?: string) {
    if (principal.role !== 'organizer') return;
    const owner =
      organizerId ??
      (await db.query<{ organizer_id: string }>('SELECT organizer_id FROM events WHERE id = $1', [eventId]))[0]?.organizer_id;
    if (owner !== principal.userId) throw forbidden('Organizers check tickets in at their own events only');
  }

  return {
    publicKey: { alg: 'Ed25519' as const, publicKey: signer.publicKey },

    prepare,

    /** Issues the tickets of a paid order inside the caller's transaction (the one that marks the order paid); returns them. */
    async issue(q: Queryable, order: { id: string; event_id: string }, items: IssuableItem[]): Promise<TicketView[]> {
      const { rows, views } = prepare(order, items);
      await createTicketsRepository(q).insert(rows);
      return views;
    },

    async mine(principal: Principal): Promise<TicketView[]> {
      return (await repo.byUser(principal.userId)).map(ticketView);
    },

    async ofOrders(orderIds: string[]): Promise<TicketView[]> {
      return (await repo.byOrders(orderIds)).map(ticketView);
    },

    async qr(principal: Principal, ticketId: string): Promise<string> {
      const row = await repo.find(ticketId);
      if (!row) throw notFound('Ticket');
      if (row.user_id !== principal.userId && principal.role !== 'admin') throw notFound('Ticket');
      return qrSvg(row.code);
    },

    /**
     * GET /api/events/:id/checkin/changes: the event's tickets checked in or voided since
     * `after` (the previous answer's `cursor`), for a door that must go on checking tickets while
     * the venue's connection is down. Changes of the last few seconds come in a later read.
     */
    async doorChanges(principal: Principal, eventId: string, after: string | undefined, limit: number) {
      mayCheckIn(principal);
      const event = await db.query<{ organizer_id: string }>('SELECT organizer_id FROM events WHERE id = $1', [eventId]);
      if (!event[0]) throw notFound('Event');
      await mayCheckInAt(principal, eventId, event[0].organizer_id);
      const [atUs, id] = after?.split('.') ?? [];
      const rows = await repo.doorChanges(eventId, atUs && id ? { atUs, id } : undefined, limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        tickets: page.map((r) => ({ id: r.id, status: r.status, at: new Date(Number(r.at_us) / 1000).toISOString() })),
        cursor: last ? `${last.at_us}.${last.id}` : (after ?? null),
        more: rows.length > limit,
      };
    },

    /**
     * Checks a ticket in: the signature first (no lookup for garbage), then the event, then one
     * atomic UPDATE that only the first of any number of simultaneous scans can win. `scannedAt`:
     * when a door that had lost its connection let the holder in (sent once it is back).
     */
    async checkIn(principal: Principal, eventId: string, code: string, scannedAt?: string): Promise<TicketView> {
      mayCheckIn(principal);
      const claims = signer.verify(code);
      if (!claims) throw invalidTicket();
      if (claims.e !== eventId) {
        throw new AppError('WRONG_EVENT', 409, 'This ticket is for another event', { ticketEventId: claims.e });
      }
      await mayCheckInAt(principal, eventId);
      const won = await repo.checkIn(claims.t, code.trim(), principal.userId, scannedAt);
      const row = await repo.find(claims.t);
      if (!row || row.code !== code.trim()) throw invalidTicket();
      if (won) return ticketView(row);
      if (row.status === 'void') throw new AppError('TICKET_VOID', 410, 'This ticket was canceled or refunded');
      throw new AppError('ALREADY_CHECKED_IN', 409, 'This ticket was already checked in', {
        checkedInAt: row.checked_in_at?.toISOString() ?? null,
      });
    },
  };
}
export type TicketsService = ReturnType<typeof createTicketsService>;
