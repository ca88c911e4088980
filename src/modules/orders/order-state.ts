/**
 * The order state machine. Every transition happens in one database transaction as a
 * conditional UPDATE (… WHERE status = ANY(from)), so two racing transitions cannot both win.
 */
export const ORDER_STATUSES = ['pending', 'paid', 'expired', 'canceled', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['paid', 'expired', 'canceled'],
  paid: ['refunded'],
  // A payment that lands after expiry revives the order when its seats are still free.
  expired: ['paid'],
  canceled: [],
  refunded: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses an order may be in for a move to `to`. */
export function sourcesOf(to: OrderStatus): OrderStatus[] {
  return ORDER_STATUSES.filter((from) => TRANSITIONS[from].includes(to));
}

/** Statuses in which the order's seats are taken (its items are active). */
export function holdsSeats(status: OrderStatus): boolean {
  return status === 'pending' || status === 'paid';
}
