import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Db } from '../src/platform/db.ts';
import { buildTestApp, dbShapes, eventBody, makeUser, smallVenue, type TestApp, type TestUser, uniqueEmail } from './helpers.ts';

type Who = 'anonymous' | 'buyer' | 'organizer' | 'admin';
interface Fixtures {
  venueId: string;
  eventId: string;
  userId: string;
}
interface Case {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string | ((f: Fixtures) => string);
  as?: Who;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: Record<string, unknown> | ((f: Fixtures) => unknown);
  /** Sent as it is, with content-type application/json unless headers say otherwise. */
  raw?: string;
  status: number;
  code: string;
  /** A field the error details must name. */
  field?: string;
}

const TABLES = ['users', 'sessions', 'venues', 'sections', 'seats', 'events', 'prices', 'ga_inventory'];

async function counts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    out[table] = rows[0]!.n;
  }
  return out;
}

/** Where the server's code lives on this machine (and the directory above it): never in a response. */
const SERVER_PATHS = [fileURLToPath(new URL('..', import.meta.url)), fileURLToPath(new URL('../..', import.meta.url))]
  .map((p) => p.replace(/[/\\]$/, ''))
  .filter((p) => p.length > 1); // a checkout at the root of the disk has no parent worth checking

/**
 * What must never reach a client: stack frames, driver or SQL text, paths on the server.
 * (A bare "at " would also match "must match format", so stack frames are matched by shape.)
 */
const LEAKS: RegExp[] = [
  /\n\s+at /,
  /\bat [\w.<>$]+ \(/,
  /:\d+:\d+\)/,
  /node_modules/,
  /file:\/\//,
  /\.ts\b/,
  /\bSELECT\b/i,
  /\bINSERT\b/i,
  /\bUPDATE\s+\w+\s+SET\b/i,
  /duplicate key|violates|syntax error at or near|relation "/i,
  /FST_ERR/,
];

// Valid bodies, each case changing one thing, so a case fails for the reason it names.
const signup = (over: Record<string, unknown> = {}) => ({
  email: uniqueEmail('malformed'),
  password: 'long-enough-pw',
  name: 'Mal Formed',
  ...over,
});
const venue = (over: Record<string, unknown> = {}) => ({ ...smallVenue('Malformed Hall'), ...over });
const grid = (g: Record<string, unknown>) =>
  venue({ sections: [{ name: 'S', kind: 'seated', grid: { rows: 2, seatsPerRow: 2, ...g } }] });
const event = (f: Fixtures, over: Record<string, unknown> = {}) => eventBody(f.venueId, over);
const prices = (amount: unknown) => [
  { section: 'Stalls', amount, currency: 'USD' },
  { section: 'Circle', amount: 1, currency: 'USD' },
  { section: 'Standing', amount: 1, currency: 'USD' },
];
const SQL = "' OR 1=1 --";
const LONG_ID = 'x'.repeat(300);

const CASES: Case[] = [
  // Bodies that are not a JSON object.
  {
    name: 'signup: malformed JSON',
    method: 'POST',
    url: '/api/auth/signup',
    raw: '{"email": "a@b.co", ',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'signup: JSON array instead of an object',
    method: 'POST',
    url: '/api/auth/signup',
    raw: '[]',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body',
  },
  {
    name: 'signup: JSON string instead of an object',
    method: 'POST',
    url: '/api/auth/signup',
    raw: '"hello"',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body',
  },
  {
    name: 'signup: JSON number instead of an object',
    method: 'POST',
    url: '/api/auth/signup',
    raw: '42',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body',
  },
  {
    name: 'signup: null where an object is required',
    method: 'POST',
    url: '/api/auth/signup',
    raw: 'null',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body',
  },
  {
    name: 'signup: empty body with a JSON content type',
    method: 'POST',
    url: '/api/auth/signup',
    raw: '',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'signup: text/plain body',
    method: 'POST',
    url: '/api/auth/signup',
    headers: { 'content-type': 'text/plain' },
    raw: JSON.stringify(signup()),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'headers.content-type',
  },
  {
    name: 'signup: form-encoded body',
    method: 'POST',
    url: '/api/auth/signup',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    raw: 'email=a%40b.co&password=long-enough-pw&name=x',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'headers.content-type',
  },
  {
    name: 'signup: body over 64 KiB',
    method: 'POST',
    url: '/api/auth/signup',
    raw: JSON.stringify(signup({ name: 'x'.repeat(70_000) })),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  // Objects with the wrong fields or types.
  {
    name: 'signup: unknown field',
    method: 'POST',
    url: '/api/auth/signup',
    json: signup({ isAdmin: true }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.isAdmin',
  },
  {
    name: 'signup: choosing a role',
    method: 'POST',
    url: '/api/auth/signup',
    json: signup({ role: 'admin' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.role',
  },
  {
    name: 'signup: number for the e-mail',
    method: 'POST',
    url: '/api/auth/signup',
    json: signup({ email: 12345 }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.email',
  },
  {
    name: 'signup: number for the name',
    method: 'POST',
    url: '/api/auth/signup',
    json: signup({ name: 42 }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.name',
  },
  {
    name: 'signup: boolean for the password',
    method: 'POST',
    url: '/api/auth/signup',
    json: signup({ password: true }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.password',
  },
  {
    name: 'signup: 300-character e-mail',
    method: 'POST',
    url: '/api/auth/signup',
    json: signup({ email: `${'a'.repeat(287)}@example.test` }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.email',
  },
  {
    name: 'signup: 101-character name',
    method: 'POST',
    url: '/api/auth/signup',
    json: signup({ name: 'n'.repeat(101) }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.name',
  },
  {
    name: 'signup: 7-character password',
    method: 'POST',
    url: '/api/auth/signup',
    json: signup({ password: 'short12' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.password',
  },
  {
    name: 'signup: invalid e-mail',
    method: 'POST',
    url: '/api/auth/signup',
    json: signup({ email: 'not-an-email' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.email',
  },
  {
    name: 'signup: missing name',
    method: 'POST',
    url: '/api/auth/signup',
    json: { email: uniqueEmail(), password: 'long-enough-pw' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.name',
  },
  {
    name: 'signup: blank name',
    method: 'POST',
    url: '/api/auth/signup',
    json: signup({ name: '   ' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.name',
  },
  {
    name: 'signup: NUL character in the name',
    method: 'POST',
    url: '/api/auth/signup',
    json: signup({ name: 'Mal\u0000Formed' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.name',
  },
  {
    name: 'signup: __proto__ pollution',
    method: 'POST',
    url: '/api/auth/signup',
    raw: `{"email":"${uniqueEmail()}","password":"long-enough-pw","name":"P","__proto__":{"role":"admin"}}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'signup: constructor.prototype pollution',
    method: 'POST',
    url: '/api/auth/signup',
    raw: `{"email":"${uniqueEmail()}","password":"long-enough-pw","name":"P","constructor":{"prototype":{"role":"admin"}}}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'login: missing e-mail',
    method: 'POST',
    url: '/api/auth/login',
    json: { password: 'long-enough-pw' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.email',
  },
  {
    name: 'login: NUL character in the e-mail',
    method: 'POST',
    url: '/api/auth/login',
    json: { email: 'a\u0000@b.co', password: 'long-enough-pw' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.email',
  },
  {
    name: 'login: object for the password',
    method: 'POST',
    url: '/api/auth/login',
    json: { email: 'a@b.co', password: { $ne: '' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.password',
  },
  {
    name: 'login: SQL in the e-mail is just a wrong e-mail',
    method: 'POST',
    url: '/api/auth/login',
    json: { email: SQL, password: SQL },
    status: 401,
    code: 'INVALID_CREDENTIALS',
  },
  // Admin users.
  {
    name: 'admin users: role not in the enum',
    method: 'PATCH',
    url: (f) => `/api/admin/users/${f.userId}`,
    as: 'admin',
    json: { role: 'superuser' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.role',
  },
  {
    name: 'admin users: null role',
    method: 'PATCH',
    url: (f) => `/api/admin/users/${f.userId}`,
    as: 'admin',
    json: { role: null },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.role',
  },
  {
    name: 'admin users: body is an array',
    method: 'PATCH',
    url: (f) => `/api/admin/users/${f.userId}`,
    as: 'admin',
    raw: '[{"role":"admin"}]',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'admin users: SQL in the path id',
    method: 'PATCH',
    url: `/api/admin/users/${encodeURIComponent(SQL)}`,
    as: 'admin',
    json: { role: 'staff' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'params.id',
  },
  {
    name: 'admin users: 300-character path id',
    method: 'PATCH',
    url: `/api/admin/users/${LONG_ID}`,
    as: 'admin',
    json: { role: 'staff' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'admin users: path id with special characters',
    method: 'PATCH',
    url: '/api/admin/users/usr%24%7B1%7D%2F..',
    as: 'admin',
    json: { role: 'staff' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'params.id',
  },
  // Venues.
  {
    name: 'venues: boolean for the sections array',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: venue({ sections: true }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.sections',
  },
  {
    name: 'venues: null sections',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: venue({ sections: null }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.sections',
  },
  {
    name: 'venues: grid of 1e9 rows',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: grid({ rows: 1e9 }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.sections.0.grid.rows',
  },
  {
    name: 'venues: fractional grid rows',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: grid({ rows: 1.5 }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.sections.0.grid.rows',
  },
  {
    name: 'venues: string for a number',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: grid({ seatsPerRow: '10' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.sections.0.grid.seatsPerRow',
  },
  {
    name: 'venues: negative grid rows',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: grid({ rows: -1 }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.sections.0.grid.rows',
  },
  {
    name: 'venues: coordinate of 1e20',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: venue({ sections: [{ name: 'S', kind: 'seated', rows: [{ label: 'A', seats: [{ label: '1', x: 1e20, y: 0 }] }] }] }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.sections.0.rows.0.seats.0.x',
  },
  {
    name: 'venues: 201-character name',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: venue({ name: 'v'.repeat(201) }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.name',
  },
  {
    name: 'venues: blank name',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: venue({ name: ' \t ' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.name',
  },
  {
    name: 'venues: NUL character in a row label',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: venue({ sections: [{ name: 'S', kind: 'seated', rows: [{ label: 'A\u0000', seats: [{ label: '1', x: 0, y: 0 }] }] }] }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.sections.0.rows.0.label',
  },
  {
    name: 'venues: section kind not in the enum',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: venue({ sections: [{ name: 'S', kind: 'vip', capacity: 5 }] }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.sections.0.kind',
  },
  {
    name: 'venues: unknown field in a section',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: venue({ sections: [{ name: 'S', kind: 'ga', capacity: 5, vip: true }] }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.sections.0.vip',
  },
  {
    name: 'venues: missing sections',
    method: 'POST',
    url: '/api/venues',
    as: 'organizer',
    json: { name: 'No sections' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.sections',
  },
  // Events.
  {
    name: 'events: amount of 1e20',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { prices: prices(1e20) }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.prices.0.amount',
  },
  {
    name: 'events: fractional amount',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { prices: prices(1.5) }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.prices.0.amount',
  },
  {
    name: 'events: negative amount',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { prices: prices(-1) }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.prices.0.amount',
  },
  {
    name: 'events: string amount',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { prices: prices('5000') }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.prices.0.amount',
  },
  {
    name: 'events: impossible date 2026-13-45',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { startsAt: '2026-13-45T20:00:00Z' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.startsAt',
  },
  {
    name: 'events: "yesterday" as a date',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { onSaleAt: 'yesterday' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.onSaleAt',
  },
  {
    name: 'events: leap second',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { startsAt: '2030-06-30T23:59:60Z' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.startsAt',
  },
  {
    name: 'events: lower-case currency',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { prices: [{ section: 'Stalls', amount: 1, currency: 'usd' }] }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.prices.0.currency',
  },
  {
    name: 'events: no prices',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { prices: [] }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.prices',
  },
  {
    name: 'events: SQL as the venue id',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { venueId: SQL }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.venueId',
  },
  {
    name: 'events: NUL character in the description',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { description: 'a\u0000b' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.description',
  },
  {
    name: 'events: zero seats per order',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => event(f, { maxSeatsPerOrder: 0 }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.maxSeatsPerOrder',
  },
  {
    name: 'events: missing startsAt',
    method: 'POST',
    url: '/api/events',
    as: 'organizer',
    json: (f) => ({ ...event(f), startsAt: undefined }),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.startsAt',
  },
  // Event changes.
  {
    name: 'event patch: empty object',
    method: 'PATCH',
    url: (f) => `/api/events/${f.eventId}`,
    as: 'organizer',
    json: {},
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'event patch: null body',
    method: 'PATCH',
    url: (f) => `/api/events/${f.eventId}`,
    as: 'organizer',
    raw: 'null',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body',
  },
  {
    name: 'event patch: string for the queue settings',
    method: 'PATCH',
    url: (f) => `/api/events/${f.eventId}`,
    as: 'organizer',
    json: { queue: 'fast' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.queue',
  },
  {
    name: 'event patch: hold of 0 seconds',
    method: 'PATCH',
    url: (f) => `/api/events/${f.eventId}`,
    as: 'organizer',
    json: { holdSeconds: 0 },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.holdSeconds',
  },
  {
    name: 'event patch: SQL in the path id',
    method: 'PATCH',
    url: `/api/events/${encodeURIComponent(SQL)}`,
    as: 'organizer',
    json: { name: 'x' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'params.id',
  },
  // Seat map.
  {
    name: 'seatmap: SQL in the path id',
    method: 'GET',
    url: `/api/events/${encodeURIComponent(SQL)}/seatmap`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'params.id',
  },
  {
    name: 'seatmap: broken percent-encoding in the path',
    method: 'GET',
    url: '/api/events/%E0%A4%A/seatmap',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'seatmap: 300-character path id',
    method: 'GET',
    url: `/api/events/${LONG_ID}/seatmap`,
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  { name: 'seatmap: unknown event', method: 'GET', url: '/api/events/evt_doesnotexist/seatmap', status: 404, code: 'NOT_FOUND' },
  // Me.
  {
    name: 'me: SQL as the bearer token',
    method: 'GET',
    url: '/api/me',
    headers: { authorization: `Bearer ${SQL}` },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'me: Basic instead of Bearer',
    method: 'GET',
    url: '/api/me',
    headers: { authorization: 'Basic YWRtaW46YWRtaW4=' },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'me: garbage session cookie',
    method: 'GET',
    url: '/api/me',
    headers: { cookie: 'tm_session=%E0%A4%A.__proto__' },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  { name: 'unknown route', method: 'DELETE', url: '/api/venues', status: 404, code: 'NOT_FOUND' },
];

const shapes = await dbShapes();

for (const shape of shapes) {
  describe(`malformed requests (${shape})`, () => {
    let t: TestApp;
    let users: Record<Exclude<Who, 'anonymous'>, TestUser>;
    let fixtures: Fixtures;
    let before0: Record<string, number>;

    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
      users = {
        buyer: await makeUser(t.app, 'buyer'),
        organizer: await makeUser(t.app, 'organizer'),
        admin: await makeUser(t.app, 'admin'),
      };
      const venueRes = await t.app.inject({
        method: 'POST',
        url: '/api/venues',
        headers: users.organizer.auth,
        payload: smallVenue(),
      });
      const venueId: string = venueRes.json().venue.id;
      const eventRes = await t.app.inject({
        method: 'POST',
        url: '/api/events',
        headers: users.organizer.auth,
        payload: eventBody(venueId),
      });
      fixtures = { venueId, eventId: eventRes.json().event.id, userId: users.buyer.id };
      before0 = await counts(t.db);
    });
    after(async () => t.close());

    it(`has a table of at least 35 cases`, () => {
      assert.ok(CASES.length >= 35, `${CASES.length} cases`);
    });

    for (const c of CASES) {
      it(`answers ${c.status} ${c.code} to ${c.name}`, async () => {
        const headers: Record<string, string> = { ...(c.as && c.as !== 'anonymous' ? users[c.as].auth : {}), ...c.headers };
        let payload: string | undefined;
        if (c.raw !== undefined) payload = c.raw;
        else if (c.json !== undefined) payload = JSON.stringify(typeof c.json === 'function' ? c.json(fixtures) : c.json);
        if (payload !== undefined) headers['content-type'] ??= 'application/json';
        const url = typeof c.url === 'function' ? c.url(fixtures) : c.url;
        const res = await t.app.inject({ method: c.method, url, headers, ...(payload !== undefined ? { payload } : {}) });

        assert.equal(res.statusCode, c.status, `${c.name}: ${res.body}`);
        let body: { error?: { code?: unknown; message?: unknown; details?: { fields?: { field: string }[] } } };
        try {
          body = res.json();
        } catch {
          assert.fail(`${c.name}: the body is not JSON: ${res.body}`);
        }
        assert.equal(typeof body.error, 'object', res.body);
        assert.equal(body.error?.code, c.code, res.body);
        assert.equal(typeof body.error?.message, 'string');
        assert.ok((body.error?.message as string).length > 0);
        // The contract's body always has details, an object ({} when there is nothing more to say).
        assert.ok(body.error?.details !== null && typeof body.error?.details === 'object', `${c.name}: details ${res.body}`);
        for (const leak of LEAKS) assert.doesNotMatch(res.body, leak, `${c.name} leaks internals: ${res.body}`);
        for (const path of SERVER_PATHS) assert.ok(!res.body.includes(path), `${c.name} leaks a server path: ${res.body}`);
        if (c.field) {
          const fields = (body.error?.details?.fields ?? []).map((f) => f.field);
          assert.ok(fields.includes(c.field), `${c.name}: expected ${c.field} among [${fields.join(', ')}]`);
        }
      });
    }

    it('stored nothing for any case of the table', async () => {
      assert.deepEqual(await counts(t.db), before0);
    });

    // Positive controls: the bodies the table starts from are themselves accepted, so each case
    // above fails for the one thing it changes.
    it('accepts the valid bodies the cases are derived from', async () => {
      const s = await t.app.inject({ method: 'POST', url: '/api/auth/signup', payload: signup() });
      assert.equal(s.statusCode, 201, s.body);
      const v = await t.app.inject({ method: 'POST', url: '/api/venues', headers: users.organizer.auth, payload: grid({}) });
      assert.equal(v.statusCode, 201, v.body);
      const e = await t.app.inject({
        method: 'POST',
        url: '/api/events',
        headers: users.organizer.auth,
        payload: event(fixtures, { prices: prices(1) }),
      });
      assert.equal(e.statusCode, 201, e.body);
      const p = await t.app.inject({
        method: 'PATCH',
        url: `/api/events/${fixtures.eventId}`,
        headers: users.organizer.auth,
        payload: { holdSeconds: 60 },
      });
      assert.equal(p.statusCode, 200, p.body);
      const r = await t.app.inject({
        method: 'PATCH',
        url: `/api/admin/users/${fixtures.userId}`,
        headers: users.admin.auth,
        payload: { role: 'staff' },
      });
      assert.equal(r.statusCode, 200, r.body);
    });

    describe('text that looks odd but is valid', () => {
      it('signs up a user whose name is emoji and accents, and stores it verbatim', async () => {
        const name = '🎫 Zoë Ångström 李小龍';
        const res = await t.app.inject({ method: 'POST', url: '/api/auth/signup', payload: signup({ name }) });
        assert.equal(res.statusCode, 201, res.body);
        assert.equal(res.json().user.name, name);
        const stored = await t.db.query<{ name: string }>('SELECT name FROM users WHERE id = $1', [res.json().user.id]);
        assert.equal(stored[0]!.name, name);
      });

      it('counts characters, not UTF-16 units: a 100-emoji name is accepted, 101 are not', async () => {
        const ok = await t.app.inject({ method: 'POST', url: '/api/auth/signup', payload: signup({ name: '🎫'.repeat(100) }) });
        assert.equal(ok.statusCode, 201, ok.body);
        const tooLong = await t.app.inject({
          method: 'POST',
          url: '/api/auth/signup',
          payload: signup({ name: '🎫'.repeat(101) }),
        });
        assert.equal(tooLong.statusCode, 400);
      });

      it('creates a venue with emoji section names and non-Latin labels, and serves them verbatim in the seat map', async () => {
        const body = {
          name: 'Salle Pleyel 🎻',
          sections: [
            {
              name: 'Parterre 🎭',
              kind: 'seated',
              rows: [
                {
                  label: 'Å',
                  seats: [
                    { label: '①', x: 0, y: 0 },
                    { label: '②', x: 1, y: 0 },
                  ],
                },
              ],
            },
            { name: 'Стоячие места', kind: 'ga', capacity: 10 },
          ],
        };
        const v = await t.app.inject({ method: 'POST', url: '/api/venues', headers: users.organizer.auth, payload: body });
        assert.equal(v.statusCode, 201, v.body);
        const e = await t.app.inject({
          method: 'POST',
          url: '/api/events',
          headers: users.organizer.auth,
          payload: eventBody(v.json().venue.id, {
            name: 'Nuit 🌙',
            prices: [
              { section: 'Parterre 🎭', amount: 100, currency: 'EUR' },
              { section: 'стоячие места', amount: 50, currency: 'EUR' },
            ],
          }),
        });
        assert.equal(e.statusCode, 201, e.body);
        assert.equal(e.json().event.name, 'Nuit 🌙');
        const map = await t.app.inject({ method: 'GET', url: `/api/events/${e.json().event.id}/seatmap` });
        const sections = map.json().sections;
        assert.deepEqual(
          sections.map((s: { name: string }) => s.name),
          ['Parterre 🎭', 'Стоячие места'],
        );
        assert.equal(sections[0].rows[0].label, 'Å');
        assert.deepEqual(
          sections[0].rows[0].seats.map((s: { label: string }) => s.label),
          ['①', '②'],
        );
      });

      it('stores SQL-looking names as plain text, verbatim', async () => {
        const name = `Robert'); DROP TABLE venues; -- ${SQL}`;
        const v = await t.app.inject({
          method: 'POST',
          url: '/api/venues',
          headers: users.organizer.auth,
          payload: venue({ name }),
        });
        assert.equal(v.statusCode, 201, v.body);
        assert.equal(v.json().venue.name, name);
        const stored = await t.db.query<{ name: string }>('SELECT name FROM venues WHERE id = $1', [v.json().venue.id]);
        assert.equal(stored[0]!.name, name);
        const s = await t.app.inject({ method: 'POST', url: '/api/auth/signup', payload: signup({ name: SQL }) });
        assert.equal(s.statusCode, 201, s.body);
        assert.equal(s.json().user.name, SQL);
      });
    });
  });
}
