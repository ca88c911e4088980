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
     * Checks a ticket in: the signature first (no lookup for garbage), then the event, then one
     * atomic UPDATE that only the first of any number of simultaneous scans can win.
     */
    async checkIn(principal: Principal, eventId: string, code: string): Promise<TicketView> {
      if (!['staff', 'organizer', 'admin'].includes(principal.role)) throw forbidden('Check-in is for staff');
      const claims = signer.verify(code);
      if (!claims) throw invalidTicket();
      if (claims.e !== eventId) {
        throw new AppError('WRONG_EVENT', 409, 'This ticket is for another event', { ticketEventId: claims.e });
      }
      // Door staff scan for any event; an organizer only at their own events.
      if (principal.role === 'organizer') {
        const own = await db.query('SELECT 1 FROM events WHERE id = $1 AND organizer_id = $2', [eventId, principal.userId]);
        if (own.length === 0) throw forbidden('Organizers check tickets in at their own events only');
      }
      const won = await repo.checkIn(claims.t, code.trim(), principal.userId);
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
