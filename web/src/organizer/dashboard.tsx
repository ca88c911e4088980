import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type AdminQueue, api, type AuditEntry, type EventDetail, type Stats } from '../api.ts';
import { ErrorBox, Loading, RequireUser, Title, useLoad } from '../components.tsx';
import { dateTime, money } from '../format.ts';
import { OrdersChart } from './chart.tsx';
import { EventOrders } from './orders.tsx';

/** The event's stats: SSE about once a second, polling every 2 s when the stream fails. */
function useStats(id: string) {
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let poll: ReturnType<typeof setInterval> | undefined;
    const load = () => api.get<Stats>(`/api/admin/events/${id}/stats`).then((s) => (setStats(s), setError(null)), setError);
    void load();
    const source = new EventSource(`/api/admin/events/${id}/stats/stream`);
    source.addEventListener('stats', (e) => setStats(JSON.parse((e as MessageEvent<string>).data) as Stats));
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED && !poll) poll = setInterval(() => void load(), 2000);
    });
    return () => {
      source.close();
      if (poll) clearInterval(poll);
    };
  }, [id]);
  return { stats, error, setStats };
}

function Figure({ label, value, testid, note }: { label: string; value: string; testid?: string; note?: string }) {
  return (
    <div class="card">
      <dt class="text-sm text-slate-700">{label}</dt>
      <dd class="text-2xl font-bold" data-testid={testid}>
        {value}
      </dd>
      {note && (
        <dd class="text-sm text-slate-700" data-testid={testid && `${testid}-note`}>
          {note}
        </dd>
      )}
    </div>
  );
}

/** A number the organizer sets live (admission rate, buyers at once). */
function Limit(props: {
  id: string;
  label: string;
  value: string;
  onInput(v: string): void;
  onSet(v: number): void;
  action: string;
}) {
  return (
    <form
      class="flex items-end gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSet(Math.max(0, Math.floor(Number(props.value))));
      }}
    >
      <div class="flex-1">
        <label class="label" for={props.id}>
          {props.label}
        </label>
        <input
          class="input"
          id={props.id}
          type="number"
          min={0}
          value={props.value}
          onInput={(e) => props.onInput(e.currentTarget.value)}
        />
      </div>
      <button class="btn w-28" type="submit">
        {props.action}
      </button>
    </form>
  );
}

/** What admission back-off sees and does: why fewer buyers are let in than the settings allow. */
function Backoff({ backoff, queue }: { backoff: NonNullable<AdminQueue['backoff']>; queue: AdminQueue }) {
  const { thresholdMs, loadMs, factor } = backoff;
  // The limit rises only while the servers answer within half the threshold (backoff.ts).
  const raising = loadMs === null || loadMs <= thresholdMs / 2;
  const ms = (v: number) => `${Math.round(v).toLocaleString('en-US')} ms`;
  const answers =
    loadMs === null ? 'no recent reading from the servers' : `the slowest server answers in ${ms(loadMs)} (99th percentile)`;
  const held = factor !== null && factor < 1;
  return (
    <p class={held ? 'rounded bg-amber-100 p-2 text-amber-900' : 'text-sm text-slate-700'} data-testid="backoff">
      Admission back-off at {ms(thresholdMs)}: {answers}
      {held
        ? `; holding checkout to ${Math.max(1, Math.floor(queue.maxActive * factor)).toLocaleString('en-US')} buyers at once (${Math.round(
            factor * 100,
          )} % of the setting), letting more in as others finish${raising ? ' and raising the limit' : ''}.`
        : '; admission at the full settings.'}
    </p>
  );
}

const FIELD_NAMES: Record<string, string> = {
  name: 'the name',
  description: 'the description',
  startsAt: 'the start',
  onSaleAt: 'the on-sale time',
  offSaleAt: 'the off-sale time',
  maxSeatsPerOrder: 'the seats per order',
  holdSeconds: 'the hold time (s)',
  'queue.admitPerMinute': 'the admission rate',
  'queue.maxActive': 'the most at once',
  'queue.claimSeconds': 'the time to claim a turn (s)',
  'queue.preQueueMinutes': 'the pre-queue (min)',
  'queue.admissionMinutes': 'the turn length (min)',
  prices: 'the prices',
};

/** A change to the sale in words: "ana@… paused admission", "… changed the on-sale time to Dec 5, 8:00 PM". */
export function changeLine(e: AuditEntry): string {
  const actor = e.actor?.email ?? 'TicketMax';
  const from = (e.details.from ?? {}) as Record<string, unknown>;
  const to = (e.details.to ?? {}) as Record<string, unknown>;
  const n = (v: unknown) => Number(v).toLocaleString('en-US');
  if (e.action === 'queue.changed') {
    const parts: string[] = [];
    if (from.paused !== to.paused) parts.push(to.paused ? 'paused admission' : 'resumed admission');
    if (from.admitPerMinute !== to.admitPerMinute)
      parts.push(`set admission to ${n(to.admitPerMinute)} a minute (was ${n(from.admitPerMinute)})`);
    if (from.maxActive !== to.maxActive) parts.push(`set at most ${n(to.maxActive)} at once (was ${n(from.maxActive)})`);
    return `${actor} ${parts.join(' and ') || 'changed the waiting room'}.`;
  }
  if (e.action === 'event.created') {
    const venue = (e.details.venue ?? {}) as { name?: unknown };
    const at = typeof venue.name === 'string' ? ` at ${venue.name}` : '';
    const onSale = typeof e.details.onSaleAt === 'string' ? `, on sale from ${dateTime(e.details.onSaleAt)}` : '';
    return `${actor} created the event "${String(e.details.name)}"${at}${onSale}.`;
  }
  if (e.action === 'event.changed') {
    const fields = (e.details.fields ?? []) as string[];
    const said = fields.map((f) => {
      const name = FIELD_NAMES[f] ?? f;
      const value = to[f];
      if (value === null || value === undefined) return name;
      const shown =
        typeof value === 'string'
          ? /^\d{4}-\d\d-\d\dT/.test(value)
            ? dateTime(value)
            : `"${value}"`
          : typeof value === 'number'
            ? n(value)
            : JSON.stringify(value);
      return `${name} to ${shown}`;
    });
    return `${actor} changed ${said.join(', ')}.`;
  }
  if (e.action === 'order.refunded') {
    const amount =
      typeof e.details.amount === 'number'
        ? ` (${money({ amount: e.details.amount, currency: typeof e.details.currency === 'string' ? e.details.currency : 'USD' })})`
        : '';
    return `${actor} refunded ${e.target?.email ?? 'a buyer'}'s order ${String(e.details.orderId)}${amount}.`;
  }
  return `${actor}: ${e.action}.`;
}

/** Who changed the sale and when; read again when the queue's controls change (anyone's change shows within a second). */
function SaleChanges({ id, version }: { id: string; version: string }) {
  const [data, error] = useLoad(
    () => api.get<{ entries: AuditEntry[] }>(`/api/admin/events/${id}/audit?limit=20`),
    [id, version],
  );
  return (
    <section class="card mt-4" aria-labelledby="changes-heading">
      <h2 id="changes-heading" class="mb-2 text-lg font-bold">
        Changes to this sale
      </h2>
      <ErrorBox error={error} />
      {data && data.entries.length === 0 && <p class="text-sm text-slate-700">Nobody has changed this sale yet.</p>}
      {data && data.entries.length > 0 && (
        <ul class="flex flex-col gap-1 text-sm" data-testid="sale-changes">
          {data.entries.map((e) => (
            <li key={e.id}>
              <span class="text-slate-700">{dateTime(e.at)}</span> {changeLine(e)}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Board({ id }: { id: string }) {
  const [event, loadError] = useLoad(() => api.get<{ event: EventDetail }>(`/api/events/${id}`), [id]);
  const { stats, error, setStats } = useStats(id);
  const [controlError, setControlError] = useState<unknown>(null);
  const [rate, setRate] = useState('');
  const [most, setMost] = useState('');
  const q = stats?.queue;
  useEffect(() => {
    if (q && rate === '') setRate(String(q.admitPerMinute));
    if (q && most === '') setMost(String(q.maxActive));
  }, [q]);

  async function control(body: Partial<Pick<AdminQueue, 'paused' | 'admitPerMinute' | 'maxActive'>>) {
    setControlError(null);
    try {
      const queue = await api.send<AdminQueue>('PATCH', `/api/admin/events/${id}/queue`, body);
      setStats((s) => (s ? { ...s, queue } : s));
    } catch (err) {
      setControlError(err);
    }
  }

  if (loadError) return <ErrorBox error={loadError} />;
  const n = (v: number | undefined) => (v === undefined ? '…' : v.toLocaleString('en-US'));
  return (
    <section>
      <Title sub={event ? `${event.event.venue.name} · ${event.event.status.replace('_', ' ')}` : undefined}>
        {event ? `Dashboard: ${event.event.name}` : 'Dashboard'}
      </Title>
      <p class="mb-4 flex gap-3">
        <a class="link" href={`/organizer/events/${id}/edit`}>
          Edit event
        </a>
        <a class="link" href={`/events/${id}`}>
          Public page
        </a>
      </p>
      <ErrorBox error={error} />
      {!stats && !error && <Loading what="Loading live figures" />}
      {stats && (
        <>
          <dl class="grid grid-cols-2 gap-3 md:grid-cols-4" aria-live="off">
            <Figure label="Sold" value={n(stats.sold)} testid="stat-sold" note={`${n(stats.checkedIn)} checked in`} />
            <Figure label="Held now" value={n(stats.held)} />
            <Figure label="Awaiting payment" value={n(stats.pending)} />
            <Figure label="Available" value={n(stats.available)} />
            <Figure label="Revenue" value={money(stats.revenue)} testid="stat-revenue" />
            <Figure label="In the queue" value={n(q?.waiting)} />
            <Figure label="Choosing seats now" value={n(q?.active)} />
            <Figure label="Admitted so far" value={n(q?.admitted)} />
          </dl>
          <div class="mt-4 grid gap-4 lg:grid-cols-3">
            <div class="card lg:col-span-2">
              <OrdersChart points={stats.ordersPerMinute} />
            </div>
            <div class="card flex flex-col gap-3">
              <h2 class="text-lg font-bold">Waiting room</h2>
              <p>
                Admission is <strong data-testid="queue-state">{q?.paused ? 'paused' : 'running'}</strong> at{' '}
                {n(q?.admitPerMinute)} buyers a minute (at most {n(q?.maxActive)} at once).
                {q?.observedPerMinute != null && (
                  <span data-testid="observed-rate"> Lately {n(Math.round(q.observedPerMinute))} a minute.</span>
                )}
              </p>
              {q?.backoff && <Backoff backoff={q.backoff} queue={q} />}
              <button
                type="button"
                class={q?.paused ? 'btn' : 'btn-secondary'}
                onClick={() => void control({ paused: !q?.paused })}
              >
                {q?.paused ? 'Resume admission' : 'Pause admission'}
              </button>
              <Limit
                id="rate"
                label="Admit per minute"
                value={rate}
                onInput={setRate}
                onSet={(v) => void control({ admitPerMinute: v })}
                action="Set rate"
              />
              <Limit
                id="max-active"
                label="At most at once"
                value={most}
                onInput={setMost}
                onSet={(v) => void control({ maxActive: v })}
                action="Set limit"
              />
              <ErrorBox error={controlError} />
            </div>
          </div>
        </>
      )}
      <EventOrders id={id} changed={stats ? `${stats.sold}.${stats.pending}.${stats.revenue.amount}` : ''} />
      <SaleChanges id={id} version={q ? `${q.paused}.${q.admitPerMinute}.${q.maxActive}` : ''} />
    </section>
  );
}

export const Dashboard: FunctionComponent<{ id: string }> = ({ id }) => (
  <RequireUser roles={['organizer', 'admin']}>
    <Board id={id} />
  </RequireUser>
);
