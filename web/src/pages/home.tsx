import { api, type EventSummary } from '../api.ts';
import { ErrorBox, Loading, Title, useLoad } from '../components.tsx';
import { dateTime, duration, money } from '../format.ts';
import { useNow } from '../state.ts';

export function SaleBadge({ event, now }: { event: EventSummary; now: number }) {
  const opens = Date.parse(event.onSaleAt);
  if (event.status === 'sold_out') return <span class="font-semibold text-red-800">Sold out</span>;
  if (event.status === 'ended') return <span class="text-slate-700">Sale ended</span>;
  if (opens > now) return <span class="font-semibold text-amber-900">On sale in {duration((opens - now) / 1000)}</span>;
  return (
    <span class="font-semibold text-green-800">
      On sale · {event.available.toLocaleString('en-US')} of {event.capacity.toLocaleString('en-US')} left
    </span>
  );
}

export function priceRange(e: EventSummary): string {
  if (!e.priceRange) return '';
  const { min, max } = e.priceRange;
  return min.amount === max.amount ? money(min) : `${money(min)} – ${money(max)}`;
}

export function HomePage() {
  const [data, error] = useLoad(() => api.get<{ events: EventSummary[] }>('/api/events'), []);
  const now = useNow();
  return (
    <section>
      <Title sub="Fair queues, live seat maps, instant tickets.">Upcoming events</Title>
      <ErrorBox error={error} />
      {!data && !error && <Loading what="Loading events" />}
      {data && data.events.length === 0 && <p>No events yet.</p>}
      <ul class="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {data?.events.map((e) => (
          <li key={e.id} class="card flex flex-col gap-1">
            <h2 class="text-lg font-bold">
              <a class="link" href={`/events/${e.id}`}>
                {e.name}
              </a>
            </h2>
            <p class="text-slate-800">{dateTime(e.startsAt)}</p>
            <p class="text-slate-800">{e.venue.name}</p>
            <p class="text-slate-900">{priceRange(e)}</p>
            <p>
              <SaleBadge event={e} now={now} />
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
