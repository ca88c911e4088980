import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type EventOrder, type Order } from '../api.ts';
import { ErrorBox, Loading, Notice } from '../components.tsx';
import { userState } from '../state.ts';
import { dateTime, field, itemLabel, money } from '../format.ts';

const STATUSES: { value: string; label: string }[] = [
  { value: '', label: 'Any status' },
  { value: 'paid', label: 'Paid' },
  { value: 'pending', label: 'Awaiting payment' },
  { value: 'refunded', label: 'Refunded' },
  { value: 'canceled', label: 'Canceled' },
  { value: 'expired', label: 'Expired' },
];

const BADGE: Record<Order['status'], string> = {
  paid: 'bg-green-100 text-green-900',
  pending: 'bg-amber-100 text-amber-900',
  refunded: 'bg-slate-200 text-slate-800',
  canceled: 'bg-slate-200 text-slate-800',
  expired: 'bg-slate-200 text-slate-800',
};

interface Filter {
  q: string;
  status: string;
}

function query(filter: Filter, after: string | null): string {
  const params = new URLSearchParams();
  if (filter.q.trim()) params.set('q', filter.q.trim());
  if (filter.status) params.set('status', filter.status);
  if (after) params.set('after', after);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Newest first, as the API lists them. */
const newestFirst = (a: EventOrder, b: EventOrder) =>
  b.createdAt.localeCompare(a.createdAt) || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);

/** Looks again at most this often while the sale goes on. */
const REFRESH_MS = 5000;

/** What the organizer is about to do to an order, in words, before doing it. */
function consequence(order: EventOrder): string {
  return order.status === 'paid'
    ? `Refund ${money(order.total)} to ${order.buyer.email}? Their tickets stop working and the seats go back on sale.`
    : `Cancel the order of ${order.buyer.email}? Its seats go back on sale.`;
}

function Row({ order, onClosed }: { order: EventOrder; onClosed: (o: Order) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const closable = order.status === 'paid' || order.status === 'pending';
  async function close() {
    if (!window.confirm(consequence(order))) return;
    setBusy(true);
    setError(null);
    try {
      onClosed((await api.send<{ order: Order }>('POST', `/api/orders/${order.id}/cancel`)).order);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <li class="flex flex-wrap items-start justify-between gap-x-4 gap-y-2 py-3" data-testid="event-order">
      <div class="min-w-0 flex-1">
        <p class="font-semibold">
          {order.buyer.name} <span class="font-normal break-all text-slate-700">{order.buyer.email}</span>
        </p>
        <p class="text-sm text-slate-700">
          {order.items.map(itemLabel).join(', ')} · {money(order.total)}
        </p>
        <p class="text-xs text-slate-700">
          <code>{order.id}</code> · ordered {dateTime(order.createdAt)}
          {order.paidAt && ` · paid ${dateTime(order.paidAt)}`}
          {order.closedAt && ` · ${order.status} ${dateTime(order.closedAt)}`}
          {order.closedBy && ` by ${order.closedBy.id === order.buyer.id ? 'the buyer' : order.closedBy.email}`}
        </p>
        <ErrorBox error={error} />
      </div>
      <div class="flex items-center gap-2">
        <span class={`rounded px-2 py-0.5 text-sm font-semibold ${BADGE[order.status]}`} data-testid="order-status">
          {order.status === 'pending' ? 'awaiting payment' : order.status}
        </span>
        {closable && (
          <button type="button" class="btn-secondary" disabled={busy} onClick={() => void close()}>
            {order.status === 'paid' ? 'Refund' : 'Cancel'}
          </button>
        )}
      </div>
    </li>
  );
}

/**
 * The event's orders for its organizer: find one by buyer or id, refund or cancel it. While the
 * sale goes on (`changed` moves whenever the live figures do), the first page is read again at
 * most every few seconds: the orders shown take their new statuses in place, and newer orders wait
 * behind a "show" button rather than pushing the list down under the organizer's pointer.
 */
export function EventOrders({ id, changed }: { id: string; changed: string }) {
  const user = userState.use();
  const me = user ? { id: user.id, email: user.email } : null;
  const [filter, setFilter] = useState<Filter>({ q: '', status: '' });
  const [orders, setOrders] = useState<EventOrder[] | null>(null);
  const [fresh, setFresh] = useState<EventOrder[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const seen = useRef({ filter, orders, fresh, at: 0 });
  seen.current = { ...seen.current, filter, orders, fresh };

  async function load(f: Filter, after: string | null) {
    setLoading(true);
    setError(null);
    try {
      const page = await api.get<{ orders: EventOrder[]; next: string | null }>(
        `/api/admin/events/${id}/orders${query(f, after)}`,
      );
      setOrders((old) => (after && old ? [...old, ...page.orders] : page.orders));
      if (!after) setFresh([]);
      setNext(page.next);
      seen.current.at = Date.now();
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  }
  useEffect(() => void load(filter, null), [id]);

  async function refresh() {
    seen.current.at = Date.now();
    const { filter: f, orders: shown } = seen.current;
    if (!shown) return;
    try {
      const page = await api.get<{ orders: EventOrder[] }>(`/api/admin/events/${id}/orders${query(f, null)}`);
      if (seen.current.filter !== f) return; // searched again meanwhile
      const latest = new Map(page.orders.map((o) => [o.id, o]));
      setOrders((all) => all && all.map((o) => latest.get(o.id) ?? o));
      const known = new Set([...shown, ...seen.current.fresh].map((o) => o.id));
      const added = page.orders.filter((o) => !known.has(o.id));
      setFresh((waiting) => [...added, ...waiting.map((o) => latest.get(o.id) ?? o)]);
    } catch {
      // The figures will move again; the next look may get through.
    }
  }
  useEffect(() => {
    if (!changed || !seen.current.orders) return;
    const timer = setTimeout(() => void refresh(), Math.max(0, seen.current.at + REFRESH_MS - Date.now()));
    return () => clearTimeout(timer);
  }, [changed]);

  function showFresh() {
    setOrders((all) => [...fresh, ...(all ?? [])].sort(newestFirst));
    setFresh([]);
  }

  return (
    <section class="card mt-4" aria-labelledby="orders-title">
      <h2 id="orders-title" class="mb-3 text-lg font-bold">
        Orders
      </h2>
      <form
        class="flex flex-wrap items-end gap-2"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          const f = { q: field(form, 'q'), status: field(form, 'status') };
          setFilter(f);
          void load(f, null);
        }}
      >
        <div class="min-w-48 flex-1">
          <label class="label" for="orders-q">
            Buyer's e-mail or name, or an order id
          </label>
          <input class="input" id="orders-q" name="q" type="search" maxLength={200} defaultValue={filter.q} />
        </div>
        <div>
          <label class="label" for="orders-status">
            Status
          </label>
          <select class="input" id="orders-status" name="status" defaultValue={filter.status}>
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <button class="btn" type="submit" disabled={loading}>
          Find orders
        </button>
        <a class="btn-secondary" href={`/api/admin/events/${id}/orders.csv${query(filter, null)}`} download>
          Download CSV
        </a>
      </form>
      <ErrorBox error={error} />
      {fresh.length > 0 && (
        <button type="button" class="btn-secondary mt-3" onClick={showFresh}>
          Show {fresh.length === 1 ? '1 new order' : `${fresh.length} new orders`}
        </button>
      )}
      {orders === null && loading && <Loading what="Loading orders" />}
      {orders && orders.length === 0 && (
        <div class="mt-3">
          <Notice>No orders match.</Notice>
        </div>
      )}
      {orders && orders.length > 0 && (
        <ul class="mt-2 divide-y divide-slate-200" aria-live="polite">
          {orders.map((o) => (
            <Row
              key={o.id}
              order={o}
              onClosed={(closed) =>
                setOrders(
                  (all) =>
                    all &&
                    all.map((x) =>
                      x.id === closed.id ? { ...x, ...closed, closedAt: new Date().toISOString(), closedBy: me } : x,
                    ),
                )
              }
            />
          ))}
        </ul>
      )}
      {next && (
        <button type="button" class="btn-secondary mt-3" disabled={loading} onClick={() => void load(filter, next)}>
          Show more orders
        </button>
      )}
    </section>
  );
}
