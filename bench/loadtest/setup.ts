/**
 * Before the measured window: accounts and session tokens straight in the database (one shared
 * password hash; tokens minted with the shared TICKETMAX_SECRET, exactly what login returns), then
 * the venue and the event through the API as an organizer, and the seat map parsed once.
 */
import { createSigner, DUMMY_PASSWORD_HASH, newIds } from '../../src/platform/crypto.ts';
import type { Queryable } from '../../src/platform/db.ts';
import { json } from '../lib.ts';
import type { SeatInfo, Venue } from './buyer.ts';
import type { Scenario } from './scenarios.ts';

export interface Account {
  userId: string;
  token: string;
}

const CHUNK = 20_000;

export async function seedAccounts(
  db: Queryable,
  secret: string,
  buyers: number,
): Promise<{ organizer: Account; buyers: Account[] }> {
  const signer = createSigner(secret, 'session');
  const ids = newIds('usr', buyers + 1);
  const sessions = newIds('ses', buyers + 1);
  const expires = Date.now() + 86_400_000;
  for (let from = 0; from < ids.length; from += CHUNK) {
    const part = ids.slice(from, from + CHUNK);
    await db.query(
      `INSERT INTO users (id, email, name, password_hash, role)
       SELECT id, 'load.' || id || '@example.test', 'Load buyer', $2, CASE WHEN id = $3 THEN 'organizer' ELSE 'buyer' END
         FROM unnest($1::text[]) AS t(id)`,
      [part, DUMMY_PASSWORD_HASH, ids[0]],
    );
    await db.query(
      `INSERT INTO sessions (id, user_id, expires_at) SELECT s, u, $3 FROM unnest($1::text[], $2::text[]) AS t(s, u)`,
      [sessions.slice(from, from + CHUNK), part, new Date(expires)],
    );
  }
  const e = Math.floor(expires / 1000);
  const accounts = ids.map((id, n) => ({
    userId: id,
    token: signer.sign({ s: sessions[n]!, u: id, r: n === 0 ? 'organizer' : 'buyer', e }),
  }));
  return { organizer: accounts[0]!, buyers: accounts.slice(1) };
}

interface SeatmapBody {
  sections: { id: string; name: string; kind: string; rows?: { label: string; seats: { id: string; index: number }[] }[] }[];
}

/** The venue and event for the scenario; the sale opens `opensInMs` from now. */
export async function createEvent(
  url: string,
  organizer: Account,
  scenario: Scenario,
  opensInMs: number,
): Promise<Venue & { capacity: number }> {
  const headers = { authorization: `Bearer ${organizer.token}` };
  const venue = await json<{ venue: { id: string } }>(`${url}/api/venues`, 'POST', headers, {
    name: `${scenario.name} venue`,
    sections: scenario.sections,
  });
  const now = Date.now();
  const event = await json<{ event: { id: string } }>(`${url}/api/events`, 'POST', headers, {
    venueId: venue.body.venue.id,
    name: `${scenario.name} on-sale`,
    startsAt: new Date(now + 30 * 86_400_000).toISOString(),
    onSaleAt: new Date(now + opensInMs).toISOString(),
    prices: Object.entries(scenario.prices).map(([section, amount]) => ({ section, amount, currency: 'USD' })),
    maxSeatsPerOrder: scenario.maxSeatsPerOrder,
    holdSeconds: scenario.holdSeconds,
    queue: scenario.queue,
  });
  const eventId = event.body.event.id;
  const res = await fetch(`${url}/api/events/${eventId}/seatmap`);
  const etag = res.headers.get('etag') ?? '';
  const map = (await res.json()) as SeatmapBody;
  const seats: SeatInfo[] = [];
  for (const section of map.sections) {
    for (const row of section.rows ?? [])
      for (const seat of row.seats) seats[seat.index] = { id: seat.id, row: row.label, section: section.name, index: seat.index };
  }
  const gaSections = map.sections.filter((s) => s.kind === 'ga').map((s) => s.id);
  const gaCapacity = scenario.sections.reduce((sum, s) => sum + (s.kind === 'ga' ? s.capacity : 0), 0);
  return { eventId, etag, seats, gaSections, deadline: Infinity, capacity: seats.length + gaCapacity };
}
