import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildApp, type App } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import type { Role } from '../src/modules/accounts/index.ts';
import { openDb, type Db } from '../src/platform/db.ts';
import { migrate } from '../src/platform/migrate.ts';

export type DbShape = 'pglite' | 'postgres';

export const CI = process.env.CI === 'true' || process.env.CI === '1';
/** The server tests create their throw-away databases on. */
export const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SECRET = 'test-secret-that-is-long-enough-for-hmac-0123456789';

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The database shapes this run covers: PGlite always, PostgreSQL when it answers.
 * Under CI=true an unreachable PostgreSQL is an error, never a silent skip.
 */
export async function dbShapes(): Promise<DbShape[]> {
  if (await postgresReachable()) return ['pglite', 'postgres'];
  if (CI) throw new Error(`CI=true but PostgreSQL at ${PG_ADMIN_URL} is unreachable`);
  console.warn(`# PostgreSQL at ${PG_ADMIN_URL} unreachable: running on PGlite only (CI would fail)`);
  return ['pglite'];
}

/** A fresh, migrated database of the given shape, dropped again by `drop`. */
export async function freshDb(shape: DbShape): Promise<{ db: Db; url: string | undefined; drop: () => Promise<void> }> {
  if (shape === 'pglite') {
    const db = await openDb({ dataDir: 'memory://' });
    await migrate(db);
    return { db, url: undefined, drop: () => db.close() };
  }
  const name = `tm_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const db = await openDb({ url: url.toString(), poolSize: 10 });
  await migrate(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    TICKETMAX_SECRET: SECRET,
    PAYMENT_WEBHOOK_SECRET: 'webhook-secret-for-tests',
    TICKETMAX_DEMO: 'false',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export interface TestApp {
  app: App;
  db: Db;
  shape: DbShape;
  close(): Promise<void>;
}

/** The real app over a fresh database of this shape, driven through app.inject. */
export async function buildTestApp(shape: DbShape, env: Record<string, string> = {}): Promise<TestApp> {
  const { db, drop } = await freshDb(shape);
  const config = testConfig(env);
  const app = await buildApp({ config, db, secret: SECRET, logger: false });
  await app.ready();
  return {
    app,
    db,
    shape,
    async close() {
      await app.close();
      await drop();
    },
  };
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}.${Date.now().toString(36)}.${counter}.${randomBytes(3).toString('hex')}@example.test`;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
  auth: { authorization: string };
}

/** Signs a new user up through the API and, for other roles, promotes them directly in the service. */
export async function makeUser(app: App, role: Role = 'buyer'): Promise<TestUser> {
  const email = uniqueEmail(role);
  const password = 'correct horse battery';
  const res = await app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password, name: `Test ${role}` } });
  if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
  const body = res.json<{ user: { id: string }; token: string }>();
  if (role !== 'buyer') await app.services.accounts.changeRole(body.user.id, role);
  return { id: body.user.id, email, password, token: body.token, auth: { authorization: `Bearer ${body.token}` } };
}

export function errorCode(res: { json: () => unknown }): string | undefined {
  return (res.json() as { error?: { code?: string } }).error?.code;
}

/** A small venue for tests: two seated grid sections and one GA section. */
export function smallVenue(name = 'Test Hall') {
  return {
    name,
    sections: [
      { name: 'Stalls', kind: 'seated', grid: { rows: 5, seatsPerRow: 10 } },
      { name: 'Circle', kind: 'seated', grid: { rows: 3, seatsPerRow: 8 } },
      { name: 'Standing', kind: 'ga', capacity: 100 },
    ],
  };
}

export function eventBody(venueId: string, overrides: Record<string, unknown> = {}) {
  const now = Date.now();
  return {
    venueId,
    name: 'Test Night',
    startsAt: new Date(now + 7 * 86_400_000).toISOString(),
    onSaleAt: new Date(now - 60_000).toISOString(),
    prices: [
      { section: 'Stalls', amount: 5000, currency: 'USD' },
      { section: 'Circle', amount: 3500, currency: 'USD' },
      { section: 'Standing', amount: 2000, currency: 'USD' },
    ],
    ...overrides,
  };
}

/** A signed-in buyer without the (deliberately slow) sign-up: a session token as sign-in issues it. */
export function quickBuyer(app: App, clock: { now(): number }): TestUser {
  const id = `usr_q${randomBytes(6).toString('hex')}`;
  const token = app.services.guard.issue({ s: `ses_${id}`, u: id, r: 'buyer', e: Math.floor(clock.now() / 1000) + 86_400 });
  return { id, email: `${id}@example.test`, password: '', token, auth: { authorization: `Bearer ${token}` } };
}

/** A new organizer's venue and event on `app` (event settings from `overrides`); returns the event id and the organizer. */
export async function queueEvent(app: App, overrides: Record<string, unknown>): Promise<{ e: string; organizer: TestUser }> {
  const organizer = await makeUser(app, 'organizer');
  const venue = await app.inject({ method: 'POST', url: '/api/venues', headers: organizer.auth, payload: smallVenue() });
  const created = await app.inject({
    method: 'POST',
    url: '/api/events',
    headers: organizer.auth,
    payload: eventBody(venue.json().venue.id, overrides),
  });
  return { e: created.json().event.id as string, organizer };
}
