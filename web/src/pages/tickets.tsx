import { useEffect } from 'preact/hooks';
import { api, type EventSummary, type Order, type Ticket } from '../api.ts';
import { ErrorBox, Loading, Notice, RequireUser, Title, useLoad } from '../components.tsx';
import { dateTime, money } from '../format.ts';
import { rememberUser, useOfflinePage } from '../offline-page.ts';
import { userState } from '../state.ts';
import { TicketCard } from './checkout.tsx';

/** What this page last showed, kept on the device for a venue's gate without signal. */
interface Saved {
  savedAt: string;
  orders: Order[];
  tickets: Ticket[];
  events: EventSummary[];
  /** The QR code (SVG) of each valid ticket. */
  qr: Record<string, string>;
}

const savedKey = (userId: string) => `tm.tickets.${userId}`;

function readSaved(userId: string): Saved | null {
  try {
    return JSON.parse(localStorage.getItem(savedKey(userId)) ?? 'null') as Saved | null;
  } catch {
    return null;
  }
}

/** The QR codes of the valid tickets, as the pictures the page shows. */
async function qrCodes(tickets: Ticket[]): Promise<Record<string, string>> {
  const pairs = await Promise.all(
    tickets
      .filter((t) => t.status === 'valid')
      .map(async (t) => {
        const res = await fetch(`/api/tickets/${t.id}/qr.svg`);
        return res.ok ? [[t.id, await res.text()] as const] : [];
      }),
  );
  return Object.fromEntries(pairs.flat());
}

async function load(userId: string): Promise<Saved & { offline: boolean }> {
  try {
    const [{ orders }, { tickets }, { events }] = await Promise.all([
      api.get<{ orders: Order[] }>('/api/orders'),
      api.get<{ tickets: Ticket[] }>('/api/tickets'),
      api.get<{ events: EventSummary[] }>('/api/events'),
    ]);
    const saved: Saved = { savedAt: new Date().toISOString(), orders, tickets, events, qr: await qrCodes(tickets) };
    try {
      localStorage.setItem(savedKey(userId), JSON.stringify(saved));
    } catch {
      // Storage full: shown now, not kept.
    }
    return { ...saved, offline: false };
  } catch (err) {
    // No connection at all: what this device kept from the last time.
    const saved = err instanceof TypeError ? readSaved(userId) : null;
    if (!saved) throw err;
    return { ...saved, offline: true };
  }
}

function Mine({ userId }: { userId: string }) {
  const offlineReady = useOfflinePage();
  const [loaded, error] = useLoad(() => load(userId), [userId]);
  const data = loaded && { ...loaded, events: new Map(loaded.events.map((e) => [e.id, e])) };
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="Loading your tickets" />;
  return (
    <section data-offline-ready={offlineReady || undefined}>
      <Title>My orders and tickets</Title>
      {data.offline && (
        <div class="mb-4" data-testid="tickets-saved">
          <Notice tone="warn">
            No connection: your tickets as this device saved them {dateTime(data.savedAt)}. Show the QR code at the door as usual.
          </Notice>
        </div>
      )}
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
                  <TicketCard key={t.id} ticket={t} orderStatus={o.status} qrSvg={data.offline ? data.qr[t.id] : undefined} />
                ))}
              </ul>
            )}
          </article>
        );
      })}
    </section>
  );
}

/** The signed-in buyer's page; it remembers them, to open again without a connection. */
function Remembered() {
  const user = userState.use();
  useEffect(() => {
    if (user) rememberUser(user);
  }, [user]);
  return user ? <Mine userId={user.id} /> : null;
}

export function TicketsPage() {
  return (
    <RequireUser>
      <Remembered />
    </RequireUser>
  );
}
