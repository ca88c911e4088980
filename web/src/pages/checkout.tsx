import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type EventSummary, idempotencyKey, type Order, request, type Ticket } from '../api.ts';
import { ErrorBox, Loading, Notice, RequireUser, Title, useLoad } from '../components.tsx';
import { clock, dateTime, field, itemLabel, money } from '../format.ts';
import { navigate, useNow } from '../state.ts';

export function OrderSummary({ order }: { order: Order }) {
  return (
    <div>
      <ul class="divide-y divide-slate-200">
        {order.items.map((it, i) => (
          <li key={i} class="flex justify-between gap-2 py-1">
            <span>{itemLabel(it)}</span>
            <span>{money({ amount: it.price.amount * it.quantity, currency: it.price.currency })}</span>
          </li>
        ))}
      </ul>
      <p class="mt-2 flex justify-between border-t border-slate-300 pt-2 font-bold">
        <span>Total</span>
        <span>{money(order.total)}</span>
      </p>
    </div>
  );
}

function Pay({ id }: { id: string }) {
  const [data, loadError, reload] = useLoad(() => api.get<{ order: Order }>(`/api/orders/${id}`), [id]);
  const [error, setError] = useState<unknown>(null);
  const [phase, setPhase] = useState<'form' | 'paying' | 'confirming'>('form');
  const stopped = useRef(false);
  const now = useNow();
  useEffect(() => {
    if (data?.order.status === 'paid') navigate(`/orders/${id}`, true);
  }, [data]);
  useEffect(
    () => () => {
      stopped.current = true;
    },
    [],
  );

  /** The asynchronous card: the bank confirms by webhook; poll the order until it is paid. */
  async function waitForBank() {
    setPhase('confirming');
    // Shown for at least a moment even when the bank answers at once, so the buyer can read it.
    const shownUntil = Date.now() + 1500;
    const until = Date.now() + 60_000;
    while (!stopped.current && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 700));
      const { order } = await api.get<{ order: Order }>(`/api/orders/${id}`);
      if (order.status === 'paid') {
        await new Promise((r) => setTimeout(r, Math.max(0, shownUntil - Date.now())));
        return navigate(`/orders/${id}`, true);
      }
      if (order.status !== 'pending') throw new ApiError(410, 'ORDER_EXPIRED', 'The order is ' + order.status);
    }
    if (!stopped.current)
      throw new Error('Your bank is taking longer than usual. Check "My tickets" in a minute before trying again.');
  }

  async function submit(e: Event) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const number = field(f, 'number').replace(/[\s-]/g, '');
    const [mm = '', yy = ''] = field(f, 'expiry')
      .split('/')
      .map((s) => s.trim());
    const card = { number, expMonth: Number(mm), expYear: 2000 + Number(yy.slice(-2)), cvc: field(f, 'cvc').trim() };
    if (!/^\d{12,19}$/.test(number)) return setError(new Error('Please enter the card number: 12 to 19 digits.'));
    if (!(card.expMonth >= 1 && card.expMonth <= 12) || !/^\d{2}$/.test(yy.slice(-2)))
      return setError(new Error('Please enter the expiry date as MM/YY.'));
    if (!/^\d{3,4}$/.test(card.cvc))
      return setError(new Error('Please enter the 3 or 4 digit security code from the back of the card.'));
    setError(null);
    setPhase('paying');
    try {
      const res = await request<{ order: Order }>(`/api/orders/${id}/pay`, {
        method: 'POST',
        body: { card },
        headers: { 'idempotency-key': idempotencyKey() },
      });
      if (res.status === 202) await waitForBank();
      else navigate(`/orders/${id}`, true);
    } catch (err) {
      setError(err);
      setPhase('form');
    }
  }

  /** The buyer changed their mind: the seats go back on sale now rather than when the time runs out. */
  async function cancel() {
    const sure = window.confirm(
      'Cancel this order? Your seats go back on sale at once, and to buy for this event again you join the waiting room again.',
    );
    if (!sure) return;
    setError(null);
    setPhase('paying');
    try {
      await api.send('POST', `/api/orders/${id}/cancel`);
      reload();
    } catch (err) {
      setError(err);
    } finally {
      setPhase('form');
    }
  }

  if (loadError) return <ErrorBox error={loadError} />;
  if (!data) return <Loading what="Loading your order" />;
  const order = data.order;
  const left = (Date.parse(order.expiresAt) - now) / 1000;
  return (
    <section class="mx-auto max-w-3xl">
      <Title>Checkout</Title>
      <div class="grid gap-4 md:grid-cols-2">
        <div class="card">
          <h2 class="mb-2 text-lg font-bold">Your order</h2>
          <OrderSummary order={order} />
          {order.status === 'pending' && (
            <p class={`mt-3 ${left < 60 ? 'font-bold text-red-800' : 'text-slate-800'}`} role="timer">
              {left > 0
                ? `Your seats are held for ${clock(left)}. Pay before then to keep them.`
                : 'Time is up: your seats are being released.'}
            </p>
          )}
          {order.status === 'pending' && left > 0 && (
            <button
              type="button"
              class="mt-3 text-sm text-slate-700 underline hover:text-slate-900 disabled:opacity-50"
              disabled={phase !== 'form'}
              onClick={() => void cancel()}
            >
              Cancel order and release the seats
            </button>
          )}
          {order.status !== 'pending' && (
            <div class="mt-3">
              <Notice tone="warn">
                This order is {order.status}.{' '}
                <a class="link" href={`/events/${order.eventId}`}>
                  Back to the event
                </a>
              </Notice>
            </div>
          )}
        </div>
        <form class="card flex flex-col gap-3" onSubmit={(e) => void submit(e)} aria-busy={phase !== 'form'}>
          <h2 class="text-lg font-bold">Pay by card</h2>
          <p class="text-sm text-slate-700">
            Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined; 4000 0000 0000 0077 asks your bank.
          </p>
          <div>
            <label class="label" for="card-number">
              Card number
            </label>
            <input class="input" id="card-number" name="number" inputMode="numeric" autoComplete="cc-number" required />
          </div>
          <div class="flex gap-3">
            <div class="flex-1">
              <label class="label" for="card-expiry">
                Expiry (MM/YY)
              </label>
              <input class="input" id="card-expiry" name="expiry" placeholder="12/30" autoComplete="cc-exp" required />
            </div>
            <div class="w-28">
              <label class="label" for="card-cvc">
                CVC
              </label>
              <input class="input" id="card-cvc" name="cvc" inputMode="numeric" autoComplete="cc-csc" required maxLength={4} />
            </div>
          </div>
          <ErrorBox error={error} />
          {phase === 'confirming' && (
            <div role="status" class="flex items-center gap-3 rounded-md border border-blue-300 bg-blue-50 p-3 text-blue-950">
              <span
                class="inline-block h-5 w-5 animate-spin rounded-full border-4 border-blue-700 border-t-transparent"
                aria-hidden="true"
              />
              Confirming with your bank… please keep this page open.
            </div>
          )}
          <button class="btn" type="submit" disabled={phase !== 'form' || order.status !== 'pending' || left <= 0}>
            {phase === 'paying' ? 'Paying…' : `Pay ${money(order.total)}`}
          </button>
        </form>
      </div>
    </section>
  );
}

export function CheckoutPage({ id }: { id: string }) {
  return (
    <RequireUser>
      <Pay id={id} />
    </RequireUser>
  );
}

/** `orderStatus`: why a void ticket is void (its order was refunded or canceled). */
export function TicketCard({
  ticket,
  eventName,
  orderStatus,
  qrSvg,
}: {
  ticket: Ticket;
  eventName?: string;
  orderStatus?: Order['status'];
  /** The QR code as kept on the device (no connection), instead of fetching it. */
  qrSvg?: string | undefined;
}) {
  const seat = ticket.seat.label
    ? `${ticket.seat.section} · row ${ticket.seat.row} · seat ${ticket.seat.label}`
    : `${ticket.seat.section} (standing)`;
  return (
    <li class="card flex flex-col items-center gap-2 text-center" data-testid="ticket">
      {eventName && <p class="font-bold">{eventName}</p>}
      <p>{seat}</p>
      {ticket.status === 'valid' ? (
        <img
          src={qrSvg ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qrSvg)}` : `/api/tickets/${ticket.id}/qr.svg`}
          alt={`QR code of the ticket for ${seat}`}
          width={280}
          height={280}
          class="h-72 w-72 max-w-full bg-white"
        />
      ) : (
        <p class="font-bold text-slate-700">
          {ticket.status === 'used'
            ? `Used${ticket.checkedInAt ? ' ' + dateTime(ticket.checkedInAt) : ''}`
            : `Void (order ${orderStatus === 'refunded' ? 'refunded' : 'canceled'})`}
        </p>
      )}
      <details class="w-full text-left text-sm">
        <summary class="cursor-pointer text-blue-800">Ticket code</summary>
        <code class="block break-all text-xs" data-testid="ticket-code">
          {ticket.code}
        </code>
      </details>
    </li>
  );
}

function Confirmation({ id }: { id: string }) {
  const [data, error] = useLoad(async () => {
    const [{ order }, { tickets }, { events }] = await Promise.all([
      api.get<{ order: Order }>(`/api/orders/${id}`),
      api.get<{ tickets: Ticket[] }>('/api/tickets'),
      api.get<{ events: EventSummary[] }>('/api/events'),
    ]);
    return { order, tickets: tickets.filter((t) => t.orderId === id), event: events.find((e) => e.id === order.eventId) };
  }, [id]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="Loading your tickets" />;
  return (
    <section>
      <Title sub={data.event ? `${data.event.name} · ${dateTime(data.event.startsAt)} · ${data.event.venue.name}` : undefined}>
        {data.order.status === 'paid' ? 'You have your tickets!' : `Order ${data.order.status}`}
      </Title>
      {data.order.status === 'paid' && (
        <Notice tone="ok">Payment received. Show these QR codes at the door; they are also in My tickets.</Notice>
      )}
      <ul class="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {data.tickets.map((t) => (
          <TicketCard key={t.id} ticket={t} />
        ))}
      </ul>
      <div class="card mt-4 max-w-md">
        <OrderSummary order={data.order} />
      </div>
    </section>
  );
}

export function ConfirmationPage({ id }: { id: string }) {
  return (
    <RequireUser>
      <Confirmation id={id} />
    </RequireUser>
  );
}
