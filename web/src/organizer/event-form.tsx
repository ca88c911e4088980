import type { ComponentChildren, FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type EventDetail, type VenueSummary } from '../api.ts';
import { ErrorBox, Loading, RequireUser, Title, useLoad } from '../components.tsx';
import { field } from '../format.ts';
import { navigate, queryParam } from '../state.ts';

/** ISO ⇄ the value of an <input type="datetime-local"> (local time, minutes). */
function toLocal(iso: string): string {
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
const fromLocal = (v: string) => new Date(v).toISOString();

function Field({ id, label, children }: { id: string; label: string; children: ComponentChildren }) {
  return (
    <div>
      <label class="label" for={id}>
        {label}
      </label>
      {children}
    </div>
  );
}

function Form({ id }: { id: string | undefined }) {
  const [venues] = useLoad(() => api.get<{ venues: VenueSummary[] }>('/api/venues'), []);
  const [existing, loadError] = useLoad(
    async () => (id ? (await api.get<{ event: EventDetail }>(`/api/events/${id}`)).event : null),
    [id],
  );
  const [venueId, setVenueId] = useState(queryParam('venue') ?? '');
  const [prices, setPrices] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (existing) {
      setVenueId(existing.venue.id);
      setPrices(Object.fromEntries(existing.prices.map((p) => [p.sectionId, (p.amount / 100).toFixed(2)])));
    } else if (!venueId && venues?.venues[0]) setVenueId(venues.venues[0].id);
  }, [existing, venues]);

  if (loadError) return <ErrorBox error={loadError} />;
  if (!venues || existing === undefined) return <Loading />;
  const venue = venues.venues.find((v) => v.id === venueId);
  const e = existing;
  const hour = 3600_000;

  async function submit(ev: Event) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const n = (k: string) => Number(f.get(k));
    // The form shows times to the minute: a time left as it was is sent as it was, seconds and all,
    // so that saving another change does not move the sale by a few seconds.
    const time = (k: 'startsAt' | 'onSaleAt') =>
      existing && toLocal(existing[k]) === field(f, k) ? existing[k] : fromLocal(field(f, k));
    const body: Record<string, unknown> = {
      name: field(f, 'name'),
      description: field(f, 'description'),
      startsAt: time('startsAt'),
      onSaleAt: time('onSaleAt'),
      prices: (venue?.sections ?? []).map((s) => ({
        section: s.id,
        amount: Math.round(Number(prices[s.id] ?? 0) * 100),
        currency: 'USD',
      })),
      maxSeatsPerOrder: n('maxSeatsPerOrder'),
      holdSeconds: n('holdMinutes') * 60,
      queue: {
        admitPerMinute: n('admitPerMinute'),
        maxActive: n('maxActive'),
        claimSeconds: n('claimSeconds'),
        preQueueMinutes: n('preQueueMinutes'),
      },
    };
    setBusy(true);
    setError(null);
    try {
      const res = id
        ? await api.send<{ event: EventDetail }>('PATCH', `/api/events/${id}`, body)
        : await api.send<{ event: EventDetail }>('POST', '/api/events', { venueId, ...body });
      navigate(`/organizer/events/${res.event.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <section class="mx-auto max-w-3xl">
      <Title>{id ? 'Edit event' : 'Create an event'}</Title>
      {venues.venues.length === 0 && !id && (
        <p class="mb-3">
          First{' '}
          <a class="link" href="/organizer/venues/new">
            create a venue
          </a>
          .
        </p>
      )}
      <form class="flex flex-col gap-4" onSubmit={(ev) => void submit(ev)}>
        <div class="card grid gap-3 sm:grid-cols-2">
          <Field id="ev-venue" label="Venue">
            <select
              class="input"
              id="ev-venue"
              value={venueId}
              disabled={!!id}
              onChange={(ev) => setVenueId(ev.currentTarget.value)}
            >
              {venues.venues.map((v) => (
                <option key={v.id} value={v.id}>
                  {v.name} ({(v.seatCount + v.gaCapacity).toLocaleString('en-US')} places)
                </option>
              ))}
            </select>
          </Field>
          <Field id="ev-name" label="Event name">
            <input class="input" id="ev-name" name="name" required maxLength={200} defaultValue={e?.name} />
          </Field>
          <div class="sm:col-span-2">
            <Field id="ev-description" label="Description">
              <textarea class="input" id="ev-description" name="description" rows={3} defaultValue={e?.description} />
            </Field>
          </div>
          <Field id="ev-starts" label="Starts at">
            <input
              class="input"
              id="ev-starts"
              name="startsAt"
              type="datetime-local"
              required
              defaultValue={toLocal(e?.startsAt ?? new Date(Date.now() + 24 * 30 * hour).toISOString())}
            />
          </Field>
          <Field id="ev-onsale" label="Sale opens at">
            <input
              class="input"
              id="ev-onsale"
              name="onSaleAt"
              type="datetime-local"
              required
              defaultValue={toLocal(e?.onSaleAt ?? new Date(Date.now() - 60_000).toISOString())}
            />
          </Field>
        </div>
        <fieldset class="card grid gap-3 sm:grid-cols-2">
          <legend class="font-bold">Prices (USD)</legend>
          {venue?.sections.map((s) => (
            <Field key={s.id} id={`price-${s.id}`} label={`${s.name}${s.kind === 'ga' ? ' (standing)' : ''}`}>
              <input
                class="input"
                id={`price-${s.id}`}
                type="number"
                min={0}
                step="0.01"
                required
                value={prices[s.id] ?? ''}
                onInput={(ev) => setPrices((p) => ({ ...p, [s.id]: ev.currentTarget.value }))}
              />
            </Field>
          ))}
        </fieldset>
        <fieldset class="card grid gap-3 sm:grid-cols-3">
          <legend class="font-bold">Limits and waiting room</legend>
          <Field id="ev-max" label="Tickets per order">
            <input
              class="input"
              id="ev-max"
              name="maxSeatsPerOrder"
              type="number"
              min={1}
              max={100}
              defaultValue={String(e?.maxSeatsPerOrder ?? 6)}
            />
          </Field>
          <Field id="ev-hold" label="Minutes to pay">
            <input
              class="input"
              id="ev-hold"
              name="holdMinutes"
              type="number"
              min={1}
              max={1440}
              defaultValue={String(Math.round((e?.holdSeconds ?? 600) / 60))}
            />
          </Field>
          <Field id="ev-rate" label="Admit per minute">
            <input
              class="input"
              id="ev-rate"
              name="admitPerMinute"
              type="number"
              min={0}
              defaultValue={String(e?.queue.admitPerMinute ?? 600)}
            />
          </Field>
          <Field id="ev-active" label="Buyers choosing at once">
            <input
              class="input"
              id="ev-active"
              name="maxActive"
              type="number"
              min={0}
              defaultValue={String(e?.queue.maxActive ?? 1000)}
            />
          </Field>
          <Field id="ev-claim" label="Seconds to claim a turn">
            <input
              class="input"
              id="ev-claim"
              name="claimSeconds"
              type="number"
              min={1}
              defaultValue={String(e?.queue.claimSeconds ?? 120)}
            />
          </Field>
          <Field id="ev-prequeue" label="Pre-queue opens (minutes before)">
            <input
              class="input"
              id="ev-prequeue"
              name="preQueueMinutes"
              type="number"
              min={0}
              defaultValue={String(e?.queue.preQueueMinutes ?? 30)}
            />
          </Field>
        </fieldset>
        <ErrorBox error={error} />
        <button class="btn self-start" type="submit" disabled={busy || !venue}>
          {id ? 'Save changes' : 'Create event'}
        </button>
      </form>
    </section>
  );
}

export const EventForm: FunctionComponent<{ id: string | undefined }> = ({ id }) => (
  <RequireUser roles={['organizer', 'admin']}>
    <Form id={id} />
  </RequireUser>
);
