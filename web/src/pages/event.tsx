import { api, type EventDetail } from '../api.ts';
import { ErrorBox, Loading, Title, useLoad } from '../components.tsx';
import { dateTime, money } from '../format.ts';
import { useNow, userState } from '../state.ts';
import { priceRange, SaleBadge } from './home.tsx';

export function EventPage({ id }: { id: string }) {
  const [data, error] = useLoad(() => api.get<{ event: EventDetail }>(`/api/events/${id}`), [id]);
  const now = useNow();
  const user = userState.use();
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="Loading the event" />;
  const e = data.event;
  const queueHref = `/events/${id}/queue`;
  const canJoin = e.status === 'on_sale' || e.status === 'scheduled';
  return (
    <article>
      <Title sub={`${dateTime(e.startsAt)} · ${e.venue.name}`}>{e.name}</Title>
      <div class="grid gap-4 md:grid-cols-3">
        <div class="card md:col-span-2">
          <p class="whitespace-pre-line text-slate-800">{e.description || 'No description.'}</p>
          <p class="mt-3">
            <SaleBadge event={e} now={now} />
          </p>
          <p class="mt-1 text-slate-800">
            Sale opens {dateTime(e.onSaleAt)}. Up to {e.maxSeatsPerOrder} tickets per order.
          </p>
          {canJoin && (
            <p class="mt-4">
              <a class="btn" href={user ? queueHref : `/signin?next=${encodeURIComponent(queueHref)}`}>
                {Date.parse(e.onSaleAt) > now ? 'Join the waiting room early' : 'Get tickets'}
              </a>
              <a class="link ml-4" href={`/events/${id}/seats`}>
                See the seat map
              </a>
            </p>
          )}
        </div>
        <div class="card">
          <h2 class="mb-2 font-bold">Prices {priceRange(e) && <span class="font-normal">({priceRange(e)})</span>}</h2>
          <table class="w-full text-left">
            <thead>
              <tr>
                <th scope="col" class="py-1">
                  Section
                </th>
                <th scope="col" class="py-1 text-right">
                  Price
                </th>
              </tr>
            </thead>
            <tbody>
              {e.prices.map((p) => (
                <tr key={p.sectionId} class="border-t border-slate-200">
                  <td class="py-1">
                    {p.section}
                    {p.kind === 'ga' && ' (standing)'}
                  </td>
                  <td class="py-1 text-right">{money(p)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </article>
  );
}
