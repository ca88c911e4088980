/** The invariants, read from the database after the run (every count must be 0). */
import type { Queryable } from '../../src/platform/db.ts';
import type { BuyerRecord } from './buyer.ts';

export interface Verification {
  oversoldSeats: number;
  doubleTicketedSeats: number;
  gaOverCapacity: number;
  paidOrdersWithoutTickets: number;
  ticketsWithoutPaidOrder: number;
  chargesWithoutPaidOrder: number;
  /** Admissions (in the order the store made them) whose number is not above the one before. */
  admissionOrderInversions: number;
  /** Admissions whose logged number is not the one the buyer was shown. */
  admissionNumberMismatches: number;
  /** Buyers who saw an admission the log does not have, or the reverse. */
  admissionsMissingFromLog: number;
  admittedButCouldNotAct: number;
}

export interface Sold {
  seats: number;
  gaPlaces: number;
  paidOrders: number;
  tickets: number;
  ordersByStatus: Record<string, number>;
  admissionsLogged: number;
}

const count = async (db: Queryable, sql: string, params: unknown[] = []) =>
  (await db.query<{ n: number }>(sql, params))[0]?.n ?? 0;

export async function verify(
  db: Queryable,
  eventId: string,
  buyers: BuyerRecord[],
): Promise<{ verification: Verification; sold: Sold }> {
  const p = [eventId];
  const oversoldSeats = await count(
    db,
    `SELECT count(*)::int AS n FROM (SELECT seat_id FROM order_items WHERE event_id = $1 AND active AND seat_id IS NOT NULL GROUP BY seat_id HAVING count(*) > 1) x`,
    p,
  );
  const doubleTicketedSeats = await count(
    db,
    `SELECT count(*)::int AS n FROM (SELECT seat_id FROM tickets WHERE event_id = $1 AND status <> 'void' AND seat_id IS NOT NULL GROUP BY seat_id HAVING count(*) > 1) x`,
    p,
  );
  const gaOverCapacity = await count(
    db,
    `SELECT count(*)::int AS n FROM ga_inventory g
      WHERE g.event_id = $1 AND (g.taken > g.capacity OR g.capacity < (SELECT coalesce(sum(quantity), 0) FROM order_items i
             WHERE i.event_id = g.event_id AND i.section_id = g.section_id AND i.active AND i.seat_id IS NULL))`,
    p,
  );
  const paidOrdersWithoutTickets = await count(
    db,
    `SELECT count(*)::int AS n FROM orders o WHERE o.event_id = $1 AND o.status = 'paid'
        AND (SELECT count(*) FROM tickets t WHERE t.order_id = o.id AND t.status <> 'void')
         <> (SELECT coalesce(sum(quantity), 0) FROM order_items i WHERE i.order_id = o.id)`,
    p,
  );
  const ticketsWithoutPaidOrder = await count(
    db,
    `SELECT count(*)::int AS n FROM tickets t JOIN orders o ON o.id = t.order_id WHERE t.event_id = $1 AND t.status <> 'void' AND o.status <> 'paid'`,
    p,
  );
  const chargesWithoutPaidOrder = await count(
    db,
    `SELECT count(*)::int AS n FROM test_gateway_charges c LEFT JOIN orders o ON o.id = c.order_id
      WHERE c.status = 'succeeded' AND (o.id IS NULL OR o.event_id = $1) AND (o.id IS NULL OR o.status NOT IN ('paid', 'refunded'))`,
    p,
  );
  const log = await db.query<{ number: number; user_id: string }>(
    'SELECT number, user_id FROM queue_admissions WHERE event_id = $1 ORDER BY seq',
    p,
  );
  let admissionOrderInversions = 0;
  for (let i = 1; i < log.length; i++) if (log[i]!.number <= log[i - 1]!.number) admissionOrderInversions += 1;
  const logged = new Map(log.map((r) => [r.user_id, r.number]));
  let admissionNumberMismatches = 0;
  let admissionsMissingFromLog = 0;
  for (const b of buyers) {
    if (!b.admitted) continue;
    const n = logged.get(b.userId);
    if (n === undefined) admissionsMissingFromLog += 1;
    else if (n !== b.number) admissionNumberMismatches += 1;
  }
  const statuses = await db.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM orders WHERE event_id = $1 GROUP BY status',
    p,
  );
  const [sold] = await db.query<{ seats: number; ga: number; tickets: number }>(
    `SELECT count(*) FILTER (WHERE seat_id IS NOT NULL)::int AS seats, count(*) FILTER (WHERE seat_id IS NULL)::int AS ga, count(*)::int AS tickets
       FROM tickets WHERE event_id = $1 AND status <> 'void'`,
    p,
  );
  const ordersByStatus = Object.fromEntries(statuses.map((r) => [r.status, r.n]));
  return {
    verification: {
      oversoldSeats,
      doubleTicketedSeats,
      gaOverCapacity,
      paidOrdersWithoutTickets,
      ticketsWithoutPaidOrder,
      chargesWithoutPaidOrder,
      admissionOrderInversions,
      admissionNumberMismatches,
      admissionsMissingFromLog,
      admittedButCouldNotAct: buyers.filter((b) => b.couldNotAct).length,
    },
    sold: {
      seats: sold?.seats ?? 0,
      gaPlaces: sold?.ga ?? 0,
      tickets: sold?.tickets ?? 0,
      paidOrders: ordersByStatus.paid ?? 0,
      ordersByStatus,
      admissionsLogged: log.length,
    },
  };
}

export function verificationLine(v: Verification): string {
  const failed = Object.values(v).some((n) => n !== 0);
  return `${failed ? 'FAILED' : 'ok'}: oversold ${v.oversoldSeats}, double tickets ${v.doubleTicketedSeats}, GA over ${v.gaOverCapacity}, paid w/o tickets ${v.paidOrdersWithoutTickets}, tickets w/o paid ${v.ticketsWithoutPaidOrder}, charges w/o paid ${v.chargesWithoutPaidOrder}, FIFO inversions ${v.admissionOrderInversions}, number mismatches ${v.admissionNumberMismatches}, admissions missing from log ${v.admissionsMissingFromLog}, admitted but could not act ${v.admittedButCouldNotAct}`;
}
