import type { OrderItemRow, OrderRow } from './orders.repository.ts';

export interface Money {
  amount: number;
  currency: string;
}

export interface OrderView {
  id: string;
  eventId: string;
  status: OrderRow['status'];
  items: {
    seatId: string | null;
    label: string | null;
    row: string | null;
    section: string;
    sectionId: string;
    quantity: number;
    price: Money;
  }[];
  total: Money;
  createdAt: string;
  expiresAt: string;
  paidAt: string | null;
}

export function orderView(row: OrderRow, items: OrderItemRow[]): OrderView {
  const price = (amount: number) => ({ amount, currency: row.currency });
  return {
    id: row.id,
    eventId: row.event_id,
    status: row.status,
    items: items.map((i) => ({
      seatId: i.seat_id,
      label: i.seat_label,
      row: i.row_label,
      section: i.section_name,
      sectionId: i.section_id,
      quantity: i.quantity,
      price: price(i.price_amount),
    })),
    total: price(row.total_amount),
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    paidAt: row.paid_at?.toISOString() ?? null,
  };
}

/** "Stalls · row C · seat 6", or "Standing · 2 standing": one line of an order, as the pages say it. */
export function placeLabel(item: OrderView['items'][number]): string {
  return item.seatId ? `${item.section} · row ${item.row} · seat ${item.label}` : `${item.section} · ${item.quantity} standing`;
}

/** Minor units as the currency writes them: 12000 USD → "120.00", 500 JPY → "500". */
export function decimalAmount(m: Money): string {
  const digits =
    new Intl.NumberFormat('en-US', { style: 'currency', currency: m.currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return (m.amount / 10 ** digits).toFixed(digits);
}
