// The HTTP contract (shared API.md) as the pages use it: same-origin fetch with the session cookie.

export interface Money {
  amount: number;
  currency: string;
}
export type Role = 'buyer' | 'organizer' | 'staff' | 'admin';
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
}
export interface EventSummary {
  id: string;
  name: string;
  venue: { id: string; name: string };
  startsAt: string;
  onSaleAt: string;
  offSaleAt: string | null;
  status: 'scheduled' | 'on_sale' | 'sold_out' | 'ended';
  priceRange: { min: Money; max: Money } | null;
  available: number;
  capacity: number;
}
export interface QueueSettings {
  admitPerMinute: number;
  maxActive: number;
  claimSeconds: number;
  preQueueMinutes: number;
  paused: boolean;
}
export interface EventDetail extends EventSummary {
  description: string;
  organizerId: string;
  prices: { sectionId: string; section: string; kind: string; amount: number; currency: string }[];
  maxSeatsPerOrder: number;
  holdSeconds: number;
  queue: QueueSettings;
}
export interface Seat {
  id: string;
  label: string;
  x: number;
  y: number;
  index: number;
}
export interface SeatmapSection {
  id: string;
  name: string;
  kind: string;
  price: Money;
  rows?: { label: string; seats: Seat[] }[];
  capacity?: number;
}
export interface Seatmap {
  eventId: string;
  version: number;
  sections: SeatmapSection[];
}
export interface Availability {
  version: number;
  seatCount: number;
  unavailable: string;
  ga: Record<string, number>;
}
export interface QueueView {
  state: 'prequeue' | 'waiting' | 'admitted' | 'expired' | 'left';
  number: number | null;
  position: number | null;
  etaSeconds: number | null;
  admission: { token: string; expiresAt: string } | null;
}
export interface RoomStatus {
  state: 'prequeue' | 'open' | 'paused' | 'sold_out' | 'closed';
  serving: number;
  waiting: number;
  admitPerMinute: number;
  onSaleAt: string;
}
export interface AdminQueue {
  state: RoomStatus['state'];
  joined: number;
  waiting: number;
  active: number;
  admitted: number;
  noShows: number;
  admitPerMinute: number;
  maxActive: number;
  paused: boolean;
  /** Admissions a minute over the last seconds (null until there are enough samples). */
  observedPerMinute: number | null;
  /** Admission back-off (null: off). */
  backoff: { thresholdMs: number; loadMs: number | null; factor: number | null } | null;
}
export interface Hold {
  eventId: string;
  seats: { id: string; label: string; row: string; section: string; sectionId: string; price: Money }[];
  ga: { sectionId: string; section: string; quantity: number; price: Money }[];
  total: Money;
  expiresAt: string;
}
export interface OrderItem {
  seatId: string | null;
  label: string | null;
  row: string | null;
  section: string;
  quantity: number;
  price: Money;
}
export interface Order {
  id: string;
  eventId: string;
  status: 'pending' | 'paid' | 'expired' | 'canceled' | 'refunded';
  items: OrderItem[];
  total: Money;
  createdAt: string;
  expiresAt: string;
  paidAt: string | null;
}
/** An order as its event's organizer sees it, with its buyer. */
export interface EventOrder extends Order {
  buyer: { id: string; email: string; name: string };
  closedAt: string | null;
  closedBy: { id: string; email: string } | null;
}
export interface Ticket {
  id: string;
  orderId: string;
  eventId: string;
  seat: { label: string | null; row: string | null; section: string };
  status: 'valid' | 'used' | 'void';
  code: string;
  checkedInAt: string | null;
}
/** A venue as GET /api/venues lists it; `ownerId` (its creator) or an admin may rename it. */
export interface VenueSummary {
  id: string;
  name: string;
  ownerId: string;
  seatCount: number;
  gaCapacity: number;
  sections: { id: string; name: string; kind: string; capacity: number }[];
}
/** A line of the audit log (GET /api/admin/audit, GET /api/admin/events/:id/audit, GET /api/venues/:id/audit). */
export interface AuditEntry {
  id: string;
  at: string;
  action: string;
  actor: { id: string; email: string; name: string } | null;
  target: { id: string; email: string; name: string } | null;
  details: Record<string, unknown>;
}

/** An account as an admin sees it (GET /api/admin/users). */
export type AdminUser = User & { suspended: boolean };
/** The answer to an admin's suspension of an account. */
export interface Suspension {
  user: AdminUser;
  sessionsEnded: number;
  cleared: { queuesLeft: number; holdsReleased: number; ordersCanceled: number };
}
/** One of the signed-in account's sessions (GET /api/me/sessions). */
export interface Session {
  id: string;
  createdAt: string;
  expiresAt: string;
  device: string | null;
  current: boolean;
}
/** A page of the tickets checked in or voided since a cursor (GET /api/events/:id/checkin/changes). */
export interface DoorChanges {
  tickets: { id: string; status: 'used' | 'void'; at: string }[];
  cursor: string | null;
  more: boolean;
}

export interface Stats {
  sold: number;
  checkedIn: number;
  held: number;
  pending: number;
  available: number;
  revenue: Money;
  queue: AdminQueue;
  ordersPerMinute: { minute: string; count: number }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Words a buyer understands, by the API's error code (the API's own message is the fallback). */
const PLAIN: Record<string, string> = {
  UNAUTHENTICATED: 'Please sign in to continue.',
  INVALID_CREDENTIALS: 'That e-mail and password do not match an account.',
  EMAIL_TAKEN: 'There is already an account with that e-mail. Try signing in instead.',
  FORBIDDEN: 'Your account is not allowed to do that.',
  NOT_ADMITTED: 'Your turn from the waiting room is missing or has run out. Please rejoin the waiting room.',
  NOT_FOUND: 'We could not find that. It may have been removed.',
  TOO_MANY_SEATS: 'You have picked more seats than one order allows.',
  SEATS_UNAVAILABLE: 'Someone else just took one of those seats. Please pick another.',
  SALE_NOT_OPEN: 'Tickets for this event are not on sale right now.',
  SOLD_OUT: 'Sorry, there are no seats left that match.',
  NO_HOLD: 'You have no seats selected any more. Please pick your seats again.',
  HOLD_EXPIRED: 'Your seats were released because time ran out. Please pick them again.',
  ORDER_EXPIRED: 'Time to pay ran out: the seats were released and your turn in this sale has ended.',
  ORDER_NOT_PAYABLE: 'This order cannot be paid any more (it may already be paid or canceled).',
  ALREADY_CHECKED_IN: 'This ticket was already used to enter.',
  WRONG_EVENT: 'This ticket is for a different event.',
  TICKET_VOID: 'This ticket was canceled and is no longer valid.',
  INVALID_TICKET: 'This is not a valid TicketMax ticket code.',
  RATE_LIMITED: 'Too many tries in a short time. Please wait a moment and try again.',
  IDEMPOTENCY_KEY_REUSED: 'That request was already sent with different details. Please reload the page.',
  IDEMPOTENCY_KEY_IN_USE: 'Your previous request is still being processed. Please wait a moment and try again.',
  PENDING_ORDER_EXISTS:
    'You already have an order waiting for payment for this event. Pay for it or cancel it (under My tickets) first.',
};
const DECLINES: Record<string, string> = {
  card_declined: 'Your card was declined by your bank. Please try another card.',
  insufficient_funds: 'Your card has insufficient funds. Please try another card.',
  expired_card: 'Your card has expired. Please use another card.',
  incorrect_cvc: 'The security code (CVC) is wrong. Please check it.',
};

/** The plain words for an API error code (the code itself when there are none). */
export function plainText(code: string): string {
  return PLAIN[code] ?? code;
}

export function plainMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'PAYMENT_DECLINED') {
      const reason = typeof err.details.reason === 'string' ? err.details.reason : '';
      return DECLINES[reason] ?? 'Your payment was declined. Please try another card.';
    }
    if (err.code === 'VALIDATION_FAILED') return `Please check what you entered: ${err.message}`;
    return PLAIN[err.code] ?? err.message;
  }
  if (err instanceof TypeError) return 'We could not reach TicketMax. Check your connection and try again.';
  return err instanceof Error ? err.message : String(err);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Gives up when this says so (`AbortSignal.timeout(ms)`): the promise rejects with its reason. */
  signal?: AbortSignal;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  if (res.status === 204) return { status: 204, body: undefined as T };
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? 'HTTP_' + res.status, e?.message ?? res.statusText, e?.details ?? {});
  }
  return { status: res.status, body: json as T };
}

export const api = {
  get: async <T>(path: string, headers?: Record<string, string>) => (await request<T>(path, { headers })).body,
  send: async <T>(method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    (await request<T>(path, { method, body, headers })).body,
};

export function idempotencyKey(): string {
  return crypto.randomUUID();
}

export function admissionHeader(token: string | undefined): Record<string, string> {
  return token ? { 'x-admission-token': token } : {};
}
