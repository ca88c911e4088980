import { randomBytes } from 'node:crypto';
import type { App } from '../src/app.ts';
import { DUMMY_PASSWORD_HASH, newIds } from '../src/platform/crypto.ts';
import { createRedis, type Redis } from '../src/platform/redis.ts';
import { CI, dbShapes, type DbShape, eventBody, makeUser, smallVenue } from './helpers.ts';

/** The Redis the inventory tests use: a database index of its own, so flushing it in a test touches nobody else. */
export const TEST_REDIS_URL = process.env.TEST_INVENTORY_REDIS_URL ?? 'redis://127.0.0.1:6379/5';

export type StoreShape = 'memory' | 'redis';

/**
 * The hot-state shapes this run covers: memory always, Redis when it answers.
 * Under CI=true an unreachable Redis is an error, never a silent skip.
 */
export async function storeShapes(): Promise<StoreShape[]> {
  try {
    const redis = await createRedis(TEST_REDIS_URL, { connectTimeoutMs: 2000 });
    await redis.quit();
    return ['memory', 'redis'];
  } catch (err) {
    if (CI) throw new Error(`CI=true but Redis at ${TEST_REDIS_URL} is unreachable: ${String(err)}`);
    console.warn(`# Redis at ${TEST_REDIS_URL} unreachable: running the memory store only (CI would fail)`);
    return ['memory'];
  }
}

/**
 * The app's two shapes this run covers, as hot state over database: memory over PGlite (the
 * embedded shape) always, Redis over PostgreSQL (the scale-out shape) when both answer.
 */
export async function appShapes(): Promise<{ store: StoreShape; db: DbShape }[]> {
  const dbs = await dbShapes();
  return (await storeShapes()).map((store) => ({
    store,
    db: store === 'redis' && dbs.includes('postgres') ? 'postgres' : 'pglite',
  }));
}

export async function connectTestRedis(): Promise<Redis> {
  return createRedis(TEST_REDIS_URL);
}

export function randomEventId(): string {
  return `evt_t${randomBytes(6).toString('hex')}`;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 3000, stepMs = 10): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

export interface Buyer {
  id: string;
  auth: { authorization: string };
  /** Session + admission headers for hold calls, once admitted. */
  headers: Record<string, string>;
}

/**
 * Many buyer accounts fast. Signing up through the API costs ~50 ms of scrypt each, so these
 * are inserted straight into the database with one shared password hash, and their session
 * tokens are minted by the app's own session guard — the same tokens login would return.
 * Signup itself is covered by the accounts tests.
 */
export async function bulkBuyers(app: App, count: number): Promise<Buyer[]> {
  const { db, guard } = app.services;
  const ids = newIds('usr', count);
  const sessions = newIds('ses', count);
  const tag = randomBytes(4).toString('hex');
  const expires = Date.now() + 86_400_000;
  await db.query(
    `INSERT INTO users (id, email, name, password_hash)
     SELECT id, 'bulk.' || id || '.' || $3 || '@example.test', 'Bulk buyer', $2 FROM unnest($1::text[]) AS t(id)`,
    [ids, DUMMY_PASSWORD_HASH, tag],
  );
  await db.query(
    `INSERT INTO sessions (id, user_id, expires_at) SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])`,
    [sessions, ids, ids.map(() => new Date(expires))],
  );
  return ids.map((id, n) => {
    const token = guard.issue({ s: sessions[n]!, u: id, r: 'buyer', e: Math.floor(expires / 1000) });
    const auth = { authorization: `Bearer ${token}` };
    return { id, auth, headers: { ...auth } };
  });
}

/** Joins the event's waiting room through the API; the event's queue must admit at once. */
export async function admit(app: App, buyer: Buyer, eventId: string): Promise<Buyer> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const res = await app.inject({ method: 'POST', url: `/api/events/${eventId}/queue`, headers: buyer.auth });
    if (res.statusCode !== 200 && res.statusCode !== 201) throw new Error(`join failed: ${res.statusCode} ${res.body}`);
    const token = res.json<{ queue: { admission: { token: string } | null } }>().queue.admission?.token;
    if (token) {
      buyer.headers = { ...buyer.auth, 'x-admission-token': token };
      return buyer;
    }
    // Not admitted yet (the admission rate's bucket): wait a little and ask again.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('not admitted after 50 tries');
}

/** An admitted buyer holds these seats and turns the hold into a pending order; returns the order. */
export async function holdAndOrder(app: App, buyer: Buyer, eventId: string, seatIds: string[], idempotencyKey: string) {
  await app.inject({ method: 'PUT', url: `/api/events/${eventId}/hold`, headers: buyer.headers, payload: { seats: seatIds } });
  const res = await app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: { ...buyer.headers, 'idempotency-key': idempotencyKey },
    payload: { eventId },
  });
  return res.json<{ order: { id: string; expiresAt: string } }>().order;
}

/** Queue settings under which every buyer who joins is admitted at once. */
export const OPEN_DOORS = { admitPerMinute: 1_000_000, maxActive: 1_000_000 };

/** A venue and an on-sale event through the API, as an organizer; returns the event and its seat map. */
export async function onSaleEvent(app: App, overrides: Record<string, unknown> = {}, venue = smallVenue()) {
  const organizer = await makeUser(app, 'organizer');
  const v = await app.inject({ method: 'POST', url: '/api/venues', headers: organizer.auth, payload: venue });
  if (v.statusCode !== 201) throw new Error(`venue: ${v.statusCode} ${v.body}`);
  const venueId = v.json<{ venue: { id: string } }>().venue.id;
  const e = await app.inject({
    method: 'POST',
    url: '/api/events',
    headers: organizer.auth,
    payload: eventBody(venueId, { queue: OPEN_DOORS, ...overrides }),
  });
  if (e.statusCode !== 201) throw new Error(`event: ${e.statusCode} ${e.body}`);
  const eventId = e.json<{ event: { id: string } }>().event.id;
  const map = await app.inject({ method: 'GET', url: `/api/events/${eventId}/seatmap` });
  const sections = map.json<{ sections: SeatmapSection[] }>().sections;
  const seats = sections.flatMap((s) =>
    (s.rows ?? []).flatMap((r) => r.seats.map((seat) => ({ ...seat, row: r.label, section: s.name }))),
  );
  return { eventId, organizer, sections, seats };
}

export interface SeatmapSection {
  id: string;
  name: string;
  kind: 'seated' | 'ga';
  capacity?: number;
  rows?: { label: string; seats: { id: string; label: string; index: number }[] }[];
}

/** The set bits of an availability response's base64 bitmap. */
export function takenIndexes(availability: { unavailable: string; seatCount: number }): number[] {
  const bytes = Buffer.from(availability.unavailable, 'base64');
  const out: number[] = [];
  for (let i = 0; i < availability.seatCount; i++) if ((bytes[i >> 3]! >> (i & 7)) & 1) out.push(i);
  return out;
}
