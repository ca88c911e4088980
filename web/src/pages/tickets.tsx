import { api, type EventSummary, type Order, type Ticket } from '../api.ts';
import { ErrorBox, Loading, RequireUser, Title, useLoad } from '../components.tsx';
import { dateTime, money } from '../format.ts';
import { TicketCard } from './checkout.tsx';

function Mine() {
  const [data, error] = useLoad(async () => {
    const [{ orders }, { tickets }, { events }] = await Promise.all([
      api.get<{ orders: Order[] }>('/api/orders'),
      api.get<{ tickets: Ticket[] }>('/api/tickets'),
      api.get<{ events: EventSummary[] }>('/api/events'),
    ]);
    return { orders, tickets, events: new Map(events.map((e) => [e.id, e])) };
  }, []);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="Loading your tickets" />;
  return (
    <section>
      <Title>My orders and tickets</Title>
      {data.orders.length === 0 && (
        <p>
          No orders yet.{' '}
          <a class="link" href="/">
            Find an event
          </a>
          .
        </p>
      )}
      {data.orders.map((o) => {
        const event = data.events.get(o.eventId);
        const tickets = data.tickets.filter((t) => t.orderId === o.id);
        return (
          <article key={o.id} class="mb-6">
            <h2 class="text-xl font-bold">{event?.name ?? 'Event'}</h2>
            <p class="text-slate-800">
              {event && `${dateTime(event.startsAt)} · ${event.venue.name} · `}
              Order {o.status} · {money(o.total)} · {dateTime(o.createdAt)}
              {o.status === 'pending' && (
                <>
                  {' · '}
                  <a class="link" href={`/checkout/${o.id}`}>
                    Pay now
                  </a>
                </>
              )}
            </p>
            {tickets.length > 0 && (
              <ul class="mt-2 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
                {tickets.map((t) => (
                  <TicketCard key={t.id} ticket={t} orderStatus={o.status} />
                ))}
              </ul>
            )}
          </article>
        );
      })}
    </section>
  );
}

export function TicketsPage() {
  return (
    <RequireUser>
      <Mine />
    </RequireUser>
  );
}
