// The waiting room through the HTTP API: both database shapes on the memory store, and the
// same cases once more on Redis. Time is a manual clock; the ticker runs by hand (tick(now)).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from '../src/app.ts';
import type { Db } from '../src/platform/db.ts';
import {
  createAdmissionGovernor,
  createMemoryStore,
  createTicker,
  createWaitingRoomService,
  type QueueView,
  type WaitingRoomStore,
  withoutDatabase,
} from '../src/modules/waiting-room/index.ts';
import type { QueueSettingsRow } from '../src/modules/waiting-room/waiting-room.repository.ts';
import { createSigner } from '../src/platform/crypto.ts';
import { AppError } from '../src/platform/errors.ts';
import {
  dbShapes,
  errorCode,
  eventBody,
  freshDb,
  makeUser,
  queueEvent,
  quickBuyer,
  SECRET,
  smallVenue,
  testConfig,
  type TestUser,
} from './helpers.ts';
import { redisTargets } from './redis-helpers.ts';

interface ManualClock {
  now(): number;
  set(t: number): void;
  advance(ms: number): void;
}
function manualClock(start = Date.now()): ManualClock {
  let t = start;
  return { now: () => t, set: (v) => (t = v), advance: (ms) => (t += ms) };
}

/** Queue settings as the events table holds them: on sale since a minute ago, starting in a day. */
function settingsRow(now: number, overrides: Partial<QueueSettingsRow> = {}): QueueSettingsRow {
  return {
    id: 'evt_unit',
    organizer_id: 'usr_org',
    starts_at: new Date(now + 86_400_000),
    on_sale_at: new Date(now - 60_000),
    off_sale_at: null,
    admit_per_minute: 60,
    max_active: 1000,
    claim_seconds: 120,
    pre_queue_minutes: 30,
    admission_minutes: 15,
    queue_paused: false,
    ...overrides,
  };
}

/** A waiting-room service on `store` (one API process), its settings read from `findSettings`. */
function serviceOn(
  store: WaitingRoomStore,
  clock: ManualClock,
  findSettings: (eventId: string) => Promise<QueueSettingsRow | undefined>,
  backoffMs?: number,
) {
  return createWaitingRoomService({
    store,
    repo: { findSettings, updateControls: async (id: string) => (await findSettings(id))! },
    signer: createSigner(SECRET, 'admission'),
    clock,
    log: { info: () => undefined, warn: () => undefined },
    backoffMs,
  });
}

interface QueueApp {
  app: App;
  db: Db;
  clock: ManualClock;
  close(): Promise<void>;
}

async function buildQueueApp(db: Db, clock: ManualClock, redisUrl?: string): Promise<App> {
  const config = testConfig({
    TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1',
    TICKETMAX_ROLES: 'api', // no background ticker: the tests tick by hand
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  });
  const app = await buildApp({ config, db, secret: SECRET, logger: false, clock });
  await app.ready();
  return app;
}

const shapes = await dbShapes();
const redis = await redisTargets();

/** Two API processes sharing one Redis and one database (one clock), closed afterwards. */
async function withTwoProcesses(fn: (a: App, b: App, clock: ManualClock) => Promise<void>): Promise<void> {
  const { db, drop } = await freshDb('pglite');
  const clock = manualClock();
  const a = await buildQueueApp(db, clock, redis[0]);
  const b = await buildQueueApp(db, clock, redis[0]);
  try {
    await fn(a, b, clock);
  } finally {
    await a.close();
    await b.close();
    await drop();
  }
}
const targets: { shape: (typeof shapes)[number]; store: string; redisUrl?: string }[] = [
  ...shapes.map((shape) => ({ shape, store: 'memory' })),
  ...redis.map((url) => ({ shape: shapes[0]!, store: 'redis', redisUrl: url })),
];

for (const target of targets) {
  describe(`waiting room API (${target.shape}, ${target.store})`, () => {
    let t: QueueApp;
    let organizer: TestUser;
    let venueId: string;

    before(async () => {
      const { db, drop } = await freshDb(target.shape);
      const clock = manualClock();
      const app = await buildQueueApp(db, clock, target.redisUrl);
      t = {
        app,
        db,
        clock,
        async close() {
          await app.close();
          await drop();
        },
      };
      organizer = await makeUser(app, 'organizer');
      const venue = await app.inject({ method: 'POST', url: '/api/venues', headers: organizer.auth, payload: smallVenue() });
      venueId = venue.json().venue.id;
    });
    after(async () => t.close());

    /** An event whose sale opens `opensInMs` from the clock's now. */
    async function newEvent(queue: Record<string, unknown> = {}, opensInMs = -60_000, startsInMs = 7 * 86_400_000) {
      const now = t.clock.now();
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/events',
        headers: organizer.auth,
        payload: eventBody(venueId, {
          onSaleAt: new Date(now + opensInMs).toISOString(),
          startsAt: new Date(now + startsInMs).toISOString(),
          queue,
        }),
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().event.id as string;
    }

    const join = (eventId: string, u: TestUser, remoteAddress?: string) =>
      t.app.inject({
        method: 'POST',
        url: `/api/events/${eventId}/queue`,
        headers: u.auth,
        ...(remoteAddress ? { remoteAddress } : {}),
      });
    const mine = async (eventId: string, u: TestUser) => {
      const res = await t.app.inject({ method: 'GET', url: `/api/events/${eventId}/queue`, headers: u.auth });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ queue: QueueView }>().queue;
    };
    const control = (eventId: string, body: Record<string, unknown>, who: TestUser = organizer) =>
      t.app.inject({ method: 'PATCH', url: `/api/admin/events/${eventId}/queue`, headers: who.auth, payload: body });
    const tick = () => t.app.services.ticker.tick(t.clock.now());
    const requireAdmission = (token: string | undefined, userId: string, eventId: string) =>
      t.app.services.admission.requireAdmission({ token, userId, eventId });

    async function refusedWith403(p: Promise<void>, label: string) {
      await assert.rejects(
        p,
        (err: unknown) => err instanceof AppError && err.status === 403 && err.code === 'NOT_ADMITTED',
        label,
      );
    }

    it('admits a joiner at once when there is room, and gives the same place on joining again', async () => {
      const e = await newEvent();
      const buyer = await makeUser(t.app);
      const first = await join(e, buyer);
      assert.equal(first.statusCode, 201);
      const q = first.json().queue;
      assert.equal(q.state, 'admitted');
      assert.equal(q.number, 1);
      assert.equal(q.position, 0);
      assert.ok(q.admission.token.length > 20);
      const again = await join(e, buyer);
      assert.equal(again.statusCode, 200);
      assert.equal(again.json().queue.number, 1);
      await requireAdmission(q.admission.token, buyer.id, e);
    });

    it('records every admission in queue_admissions in queue-number order, at once and by the ticker', async () => {
      const e = await newEvent({ admitPerMinute: 600, maxActive: 3 });
      const buyers = Array.from({ length: 6 }, () => quickBuyer(t.app, t.clock));
      const numbers = new Map<string, number>();
      for (const b of buyers) numbers.set(b.id, (await join(e, b)).json().queue.number as number);
      await tick();
      for (const b of buyers.slice(0, 3)) await t.app.services.admission.finish(e, b.id);
      t.clock.advance(1000);
      await tick();
      const rows = await t.db.query<{ seq: number; number: number; user_id: string }>(
        'SELECT seq, number, user_id FROM queue_admissions WHERE event_id = $1 ORDER BY seq',
        [e],
      );
      assert.deepEqual(
        rows.map((r) => r.number),
        [1, 2, 3, 4, 5, 6],
      );
      assert.deepEqual(
        rows.map((r) => r.seq),
        [0, 1, 2, 3, 4, 5],
      );
      for (const r of rows) assert.equal(numbers.get(r.user_id), r.number);
    });

    it('keeps one place per account under 200 concurrent joins by the same account', async () => {
      const e = await newEvent({ maxActive: 0 });
      const buyer = quickBuyer(t.app, t.clock);
      const responses = await Promise.all(Array.from({ length: 200 }, () => join(e, buyer)));
      assert.deepEqual(
        responses.map((r) => r.statusCode).sort((a, b) => a - b),
        [...new Array<number>(199).fill(200), 201],
      );
      assert.deepEqual(new Set(responses.map((r) => r.json<{ queue: QueueView }>().queue.number)), new Set([1]));
      const admin = await t.app.inject({ method: 'GET', url: `/api/admin/events/${e}/queue`, headers: organizer.auth });
      assert.equal(admin.json().joined, 1);
    });

    it('refuses to join before the pre-queue opens, and after the sale closes', async () => {
      const early = await newEvent({ preQueueMinutes: 30 }, 2 * 3600_000);
      const buyer = quickBuyer(t.app, t.clock);
      const res = await join(early, buyer);
      assert.equal(res.statusCode, 409);
      assert.equal(errorCode(res), 'SALE_NOT_OPEN');
      const status = await t.app.inject({ method: 'GET', url: `/api/events/${early}/queue/status` });
      assert.equal(status.json().state, 'prequeue');

      const closing = await newEvent({}, -60_000, 3600_000);
      t.clock.advance(3600_000);
      try {
        const late = await join(closing, buyer);
        assert.equal(late.statusCode, 409);
        assert.equal(late.json().error.details.state, 'closed');
        const closed = await t.app.inject({ method: 'GET', url: `/api/events/${closing}/queue/status` });
        assert.equal(closed.json().state, 'closed');
      } finally {
        t.clock.advance(-3600_000);
      }
    });

    it('holds pre-queued buyers without numbers, shuffles them at onSaleAt, and numbers later arrivals after them', async () => {
      const e = await newEvent({ preQueueMinutes: 30, maxActive: 0 }, 10 * 60_000);
      const early = Array.from({ length: 40 }, () => quickBuyer(t.app, t.clock));
      for (const b of early) {
        const res = await join(e, b);
        assert.equal(res.statusCode, 201);
        assert.deepEqual(res.json().queue, {
          state: 'prequeue',
          number: null,
          position: null,
          etaSeconds: null,
          admission: null,
        });
      }
      t.clock.advance(1000); // the status is cached for a second
      const status = await t.app.inject({ method: 'GET', url: `/api/events/${e}/queue/status` });
      assert.equal(status.json().state, 'prequeue');
      assert.equal(status.json().waiting, 40);
      t.clock.advance(-1000);
      t.clock.advance(10 * 60_000);
      const late = [quickBuyer(t.app, t.clock), quickBuyer(t.app, t.clock)];
      for (const b of late) assert.equal((await join(e, b)).statusCode, 201);
      const numbers = await Promise.all(early.map(async (b) => (await mine(e, b)).number as number));
      assert.deepEqual(
        [...numbers].sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      assert.notDeepEqual(
        numbers,
        Array.from({ length: 40 }, (_, i) => i + 1),
        'shuffled, not arrival order',
      );
      assert.deepEqual([(await mine(e, late[0]!)).number, (await mine(e, late[1]!)).number], [41, 42]);
      const waiting = await mine(e, late[1]!);
      assert.equal(waiting.state, 'waiting');
      assert.equal(waiting.position, 41, 'buyers ahead');
    });

    it('admits at the rate, no more than maxActive, expires no-shows and reuses their slots', async () => {
      const e = await newEvent({ admitPerMinute: 6000, maxActive: 3, claimSeconds: 30 });
      assert.equal((await control(e, { paused: true })).statusCode, 200);
      const buyers = Array.from({ length: 10 }, () => quickBuyer(t.app, t.clock));
      for (const b of buyers) await join(e, b);
      assert.equal((await control(e, { paused: false })).statusCode, 200);
      t.clock.advance(1000);
      await tick();
      const states = async () => Promise.all(buyers.map(async (b) => (await mine(e, b)).state as string));
      // Reading claims the turn, so read only the first: the second and third are no-shows.
      assert.equal((await mine(e, buyers[0]!)).state, 'admitted');
      let admin = (await t.app.inject({ method: 'GET', url: `/api/admin/events/${e}/queue`, headers: organizer.auth })).json();
      assert.equal(admin.active, 3);
      assert.equal(admin.waiting, 7);
      t.clock.advance(31_000);
      await tick();
      admin = (await t.app.inject({ method: 'GET', url: `/api/admin/events/${e}/queue`, headers: organizer.auth })).json();
      assert.equal(admin.noShows, 2);
      assert.equal(admin.active, 3, 'the two slots went to the next two');
      const all = await states();
      assert.deepEqual(all.slice(0, 5), ['admitted', 'expired', 'expired', 'admitted', 'admitted']);
      assert.deepEqual(all.slice(5), ['waiting', 'waiting', 'waiting', 'waiting', 'waiting']);
      await t.app.services.admission.finish(e, buyers[0]!.id);
      t.clock.advance(1000);
      await tick();
      assert.equal((await mine(e, buyers[5]!)).state, 'admitted', 'a finished buyer frees a slot');
    });

    it('never lets more than maxActive be active while 100 buyers join and ticks run concurrently', async () => {
      const e = await newEvent({ admitPerMinute: 60_000, maxActive: 5, claimSeconds: 5, admissionMinutes: 1 });
      const buyers = Array.from({ length: 100 }, () => quickBuyer(t.app, t.clock));
      for (let batch = 0; batch < 10; batch++) {
        // Ten joins and two tickers at once (the lease lets one of them through), then time moves on.
        await Promise.all([...buyers.slice(batch * 10, batch * 10 + 10).map((b) => join(e, b)), tick(), tick()]);
        t.clock.advance(7000);
      }
      for (let round = 0; round < 10; round++) {
        // Nobody claims these turns: each runs out after 5 s and passes on.
        await Promise.all([tick(), tick()]);
        const admin = (
          await t.app.inject({ method: 'GET', url: `/api/admin/events/${e}/queue`, headers: organizer.auth })
        ).json();
        assert.ok(admin.active <= 5, `active ${admin.active}`);
        t.clock.advance(6000);
      }
      const admin = (await t.app.inject({ method: 'GET', url: `/api/admin/events/${e}/queue`, headers: organizer.auth })).json();
      assert.ok(admin.active <= 5, `active ${admin.active}`);
      const views = await Promise.all(buyers.map((b) => mine(e, b)));
      const admitted = views.filter((q) => q.state === 'admitted');
      assert.ok(admitted.length <= 5, `admitted ${admitted.length}`);
      assert.ok(admin.admitted > 10, `turns ran out and went to the next buyers (${admin.admitted} admitted)`);
      assert.ok(admin.noShows > 0, 'unclaimed turns expired');
    });

    it('stops admission on pause and starts again on resume, and keeps the controls in the events table', async () => {
      const e = await newEvent({ admitPerMinute: 600, maxActive: 100 });
      const paused = await control(e, { paused: true, admitPerMinute: 1200, maxActive: 50 });
      assert.equal(paused.statusCode, 200);
      assert.equal(paused.json().paused, true);
      assert.equal(paused.json().state, 'paused');
      const rows = await t.db.query<{ queue_paused: boolean; admit_per_minute: number; max_active: number }>(
        'SELECT queue_paused, admit_per_minute, max_active FROM events WHERE id = $1',
        [e],
      );
      assert.deepEqual(rows[0], { queue_paused: true, admit_per_minute: 1200, max_active: 50 });
      const buyers = Array.from({ length: 30 }, () => quickBuyer(t.app, t.clock));
      for (const b of buyers) assert.equal((await join(e, b)).json().queue.state, 'waiting');
      assert.equal((await mine(e, buyers[0]!)).etaSeconds, null, 'no waiting time while paused');
      for (let i = 0; i < 10; i++) {
        t.clock.advance(500);
        await tick();
      }
      assert.equal((await mine(e, buyers[0]!)).state, 'waiting');
      assert.equal((await control(e, { paused: false })).json().paused, false);
      for (let i = 0; i < 5; i++) {
        t.clock.advance(200);
        await tick();
      }
      const views = await Promise.all(buyers.map((b) => mine(e, b)));
      const admitted = views.filter((q) => q.state === 'admitted').length;
      // 1 s at 1200/min = 20, plus at most what the bucket holds (one second's worth plus one: 21).
      assert.ok(admitted >= 20 && admitted <= 30 + 11, `admitted ${admitted}`);
    });

    it('reports sold_out and admits nobody while nothing can be held, and goes on when seats come back', async () => {
      // A venue of two GA places: the first buyer holds both.
      const venue = await t.app.inject({
        method: 'POST',
        url: '/api/venues',
        headers: organizer.auth,
        payload: { name: 'Tiny Room', sections: [{ name: 'Floor', kind: 'ga', capacity: 2 }] },
      });
      assert.equal(venue.statusCode, 201, venue.body);
      const now = t.clock.now();
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/events',
        headers: organizer.auth,
        payload: {
          venueId: venue.json().venue.id,
          name: 'Tiny Night',
          startsAt: new Date(now + 86_400_000).toISOString(),
          onSaleAt: new Date(now - 60_000).toISOString(),
          prices: [{ section: 'Floor', amount: 1000, currency: 'USD' }],
          queue: { admitPerMinute: 6000, maxActive: 100 },
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      const e = created.json().event.id as string;
      const status = async () =>
        (await t.app.inject({ method: 'GET', url: `/api/events/${e}/queue/status` })).json<{ state: string }>();

      const first = quickBuyer(t.app, t.clock);
      const token = (await join(e, first)).json().queue.admission?.token as string;
      assert.ok(token, 'the first buyer is admitted at once');
      assert.equal((await status()).state, 'open');
      const held = await t.app.inject({
        method: 'PUT',
        url: `/api/events/${e}/hold`,
        headers: { ...first.auth, 'x-admission-token': token },
        payload: { ga: { section: 'Floor', quantity: 2 } },
      });
      assert.equal(held.statusCode, 200, held.body);

      t.clock.advance(1100); // the status and the availability snapshot are a second old at most
      assert.equal((await status()).state, 'sold_out');
      const admin = await t.app.inject({ method: 'GET', url: `/api/admin/events/${e}/queue`, headers: organizer.auth });
      assert.equal(admin.json().state, 'sold_out');
      const late = Array.from({ length: 3 }, () => quickBuyer(t.app, t.clock));
      for (const b of late) {
        const q = (await join(e, b)).json().queue;
        assert.equal(q.state, 'waiting', 'nobody is admitted at once while sold out');
        assert.equal(q.etaSeconds, null, 'no waiting time is promised while sold out');
      }
      for (let i = 0; i < 5; i++) {
        t.clock.advance(300);
        await tick();
      }
      for (const b of late) assert.equal((await mine(e, b)).state, 'waiting', 'the ticker admits nobody while sold out');

      // The hold is given back: the room opens again and the next buyer in line goes in.
      const released = await t.app.inject({
        method: 'DELETE',
        url: `/api/events/${e}/hold`,
        headers: { ...first.auth, 'x-admission-token': token },
      });
      assert.equal(released.statusCode, 204, released.body);
      t.clock.advance(1100);
      await tick();
      assert.equal((await status()).state, 'open');
      t.clock.advance(300);
      await tick();
      assert.equal((await mine(e, late[0]!)).state, 'admitted');
    });

    it('keeps queue controls to the event organizer and admins', async () => {
      const e = await newEvent();
      const buyer = quickBuyer(t.app, t.clock);
      const other = await makeUser(t.app, 'organizer');
      assert.equal((await control(e, { paused: true }, buyer)).statusCode, 403);
      const foreign = await control(e, { paused: true }, other);
      assert.equal(foreign.statusCode, 403);
      assert.equal(errorCode(foreign), 'FORBIDDEN');
      assert.equal(
        (await t.app.inject({ method: 'GET', url: `/api/admin/events/${e}/queue`, headers: other.auth })).statusCode,
        403,
      );
      assert.equal((await control(e, { maxActive: -1 })).statusCode, 400);
      assert.equal((await control(e, { bogus: 1 })).statusCode, 400);
      assert.equal((await control('evt_nothere', { paused: true })).statusCode, 404);
    });

    it('refuses every forged, expired, foreign, left or missing admission token', async () => {
      const e = await newEvent({ admissionMinutes: 15 });
      const other = await newEvent();
      const a = quickBuyer(t.app, t.clock);
      const b = quickBuyer(t.app, t.clock);
      const token = (await join(e, a)).json().queue.admission.token as string;
      const otherToken = (await join(other, a)).json().queue.admission.token as string;
      await requireAdmission(token, a.id, e);
      const [body, mac] = token.split('.') as [string, string];
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
      const reSigned = (c: object) => `${Buffer.from(JSON.stringify(c)).toString('base64url')}.${mac}`;
      const wrongKey = createSigner(SECRET, 'session').sign(claims);
      const forgedUser = reSigned({ ...claims, u: b.id });
      const longer = reSigned({ ...claims, x: claims.x + 86_400_000 });
      for (const [label, tok, user, event] of [
        ['missing', undefined, a.id, e],
        ['empty', '', a.id, e],
        ['garbage', 'not-a-token', a.id, e],
        ['bad mac', `${body}.AAAA`, a.id, e],
        ['tampered user', forgedUser, b.id, e],
        ['tampered expiry', longer, a.id, e],
        ['signed for sessions', wrongKey, a.id, e],
        ['a session token', a.token, a.id, e],
        ["another user's", token, b.id, e],
        ["another event's", otherToken, a.id, e],
        ['huge', 'x'.repeat(5000), a.id, e],
      ] as const) {
        await refusedWith403(requireAdmission(tok, user, event), label);
      }
      t.clock.advance(15 * 60_000);
      try {
        await refusedWith403(requireAdmission(token, a.id, e), 'expired');
      } finally {
        t.clock.advance(-15 * 60_000);
      }
      await requireAdmission(otherToken, a.id, other);
      const left = await t.app.inject({ method: 'DELETE', url: `/api/events/${other}/queue`, headers: a.auth });
      assert.equal(left.statusCode, 204);
      await refusedWith403(requireAdmission(otherToken, a.id, other), 'after leaving');
      assert.equal((await mine(other, a)).state, 'left');
      assert.equal((await join(other, a)).json().queue.state, 'left', 'leaving is final: joining again returns the same place');
    });

    it('serves one public status for everyone, cacheable for a second, without identities', async () => {
      const e = await newEvent({ maxActive: 1 });
      const buyers = [quickBuyer(t.app, t.clock), quickBuyer(t.app, t.clock), quickBuyer(t.app, t.clock)];
      for (const b of buyers) await join(e, b);
      t.clock.advance(1000);
      const anonymous = await t.app.inject({ method: 'GET', url: `/api/events/${e}/queue/status` });
      const signedIn = await t.app.inject({ method: 'GET', url: `/api/events/${e}/queue/status`, headers: buyers[0]!.auth });
      assert.equal(anonymous.statusCode, 200);
      assert.equal(anonymous.headers['cache-control'], 'public, max-age=1');
      assert.equal(anonymous.body, signedIn.body);
      const status = anonymous.json();
      assert.deepEqual(Object.keys(status).sort(), ['admitPerMinute', 'onSaleAt', 'serving', 'state', 'waiting']);
      assert.equal(status.state, 'open');
      assert.equal(status.serving, 1);
      assert.equal(status.waiting, 2);
      for (const b of buyers) assert.ok(!anonymous.body.includes(b.id));
      const notIn = await t.app.inject({
        method: 'GET',
        url: `/api/events/${e}/queue`,
        headers: quickBuyer(t.app, t.clock).auth,
      });
      assert.equal(notIn.statusCode, 404);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/events/evt_nothere/queue/status' })).statusCode, 404);
      assert.equal((await t.app.inject({ method: 'POST', url: `/api/events/${e}/queue` })).statusCode, 401);
    });

    it('estimates the wait from the observed admission rate, not only the configured one', async () => {
      const e = await newEvent({ admitPerMinute: 600, maxActive: 1, claimSeconds: 600 });
      const buyers = Array.from({ length: 20 }, () => quickBuyer(t.app, t.clock));
      for (const b of buyers) await join(e, b);
      // Configured 600/min (10 a second), but one active at a time, each finishing after 3 s: 20/min.
      const etaBefore = (await mine(e, buyers[10]!)).etaSeconds as number;
      assert.ok(etaBefore <= 2, `configured rate: ${etaBefore} s`);
      for (let second = 1; second <= 30; second++) {
        t.clock.advance(1000);
        if (second % 3 === 0) {
          for (const b of buyers) {
            const q = await t.app.services.waitingRoom.myQueue(e, b.id, { claim: false });
            if (q.state === 'admitted') await t.app.services.admission.finish(e, b.id);
          }
        }
        await tick();
        await t.app.inject({ method: 'GET', url: `/api/events/${e}/queue/status` });
      }
      const q = await mine(e, buyers[19]!);
      assert.equal(q.state, 'waiting');
      // About 3 s a buyer: position p waits about 3 (p + 1) s.
      assert.ok(q.etaSeconds !== null && q.position !== null);
      assert.ok(q.etaSeconds >= 2 * (q.position + 1), `eta ${q.etaSeconds} s for position ${q.position}`);
    });

    it('reports queue lengths in /metrics, and the store in /readyz', async () => {
      const e = await newEvent({ maxActive: 1 });
      for (let i = 0; i < 3; i++) await join(e, quickBuyer(t.app, t.clock));
      t.clock.advance(1000);
      const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, new RegExp(`ticketmax_queue_buyers\\{event="${e}",state="waiting"\\} 2`));
      assert.match(metrics.body, new RegExp(`ticketmax_queue_buyers\\{event="${e}",state="active"\\} 1`));
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.equal(ready.json<{ checks: Record<string, string> }>().checks.redis, target.store === 'redis' ? 'ok' : undefined);
    });

    it('rate-limits polling per account and per address with 429 and Retry-After', async () => {
      const e = await newEvent();
      const buyer = quickBuyer(t.app, t.clock);
      await join(e, buyer);
      let last;
      for (let i = 0; i < 130; i++) {
        last = await t.app.inject({
          method: 'GET',
          url: `/api/events/${e}/queue`,
          headers: buyer.auth,
          remoteAddress: `198.51.100.${(i % 200) + 1}`,
        });
        if (last.statusCode === 429) break;
      }
      assert.equal(last?.statusCode, 429, 'per account, whatever the address');
      assert.equal(errorCode(last), 'RATE_LIMITED');
      assert.ok(Number(last.headers['retry-after']) > 0);
      const other = quickBuyer(t.app, t.clock);
      await join(e, other);
      assert.equal(
        (await t.app.inject({ method: 'GET', url: `/api/events/${e}/queue`, headers: other.auth, remoteAddress: '198.51.100.7' }))
          .statusCode,
        200,
      );
      let ip;
      for (let i = 0; i < 700; i++) {
        ip = await join(e, quickBuyer(t.app, t.clock), '203.0.113.50');
        if (ip.statusCode === 429) break;
      }
      assert.equal(ip?.statusCode, 429, 'per address, whatever the account');
      assert.ok(Number(ip.headers['retry-after']) > 0);
    });
  });
}

describe('waiting room streams (real port)', () => {
  it('streams my place over SSE and sends the change when I am admitted', async () => {
    const { db, drop } = await freshDb('pglite');
    const clock = manualClock();
    const app = await buildQueueApp(db, clock);
    try {
      const { e } = await queueEvent(app, {
        onSaleAt: new Date(clock.now() - 60_000).toISOString(),
        queue: { maxActive: 1 },
      });
      const first = quickBuyer(app, clock);
      const second = quickBuyer(app, clock);
      await app.inject({ method: 'POST', url: `/api/events/${e}/queue`, headers: first.auth });
      await app.inject({ method: 'POST', url: `/api/events/${e}/queue`, headers: second.auth });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const controller = new AbortController();
      const res = await fetch(`http://127.0.0.1:${port}/api/events/${e}/queue/stream`, {
        headers: second.auth,
        signal: controller.signal,
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      const nextEvent = async () => {
        for (;;) {
          const end = text.indexOf('\n\n', text.indexOf('event: queue'));
          if (text.includes('event: queue') && end !== -1) {
            const chunk = text.slice(text.indexOf('event: queue'), end);
            text = text.slice(end + 2);
            return (JSON.parse(chunk.split('\ndata: ')[1]!) as { queue: QueueView }).queue;
          }
          const { value, done } = await reader.read();
          if (done) throw new Error('stream ended');
          text += Buffer.from(value).toString();
        }
      };
      const initial = await nextEvent();
      assert.equal(initial.state, 'waiting');
      assert.equal(initial.position, 0);
      await app.services.admission.finish(e, first.id);
      clock.advance(1000);
      await app.services.ticker.tick(clock.now());
      const admitted = await nextEvent();
      assert.equal(admitted.state, 'admitted');
      assert.ok(admitted.admission?.token);
      controller.abort();
      const notIn = await fetch(`http://127.0.0.1:${port}/api/events/${e}/queue/stream`, {
        headers: quickBuyer(app, clock).auth,
      });
      assert.equal(notIn.status, 404);
    } finally {
      await app.close();
      await drop();
    }
  });

  it('shuffles once when two API processes share one Redis and race at onSaleAt', { skip: redis.length === 0 }, () =>
    withTwoProcesses(async (a, b, clock) => {
      const { e, organizer } = await queueEvent(a, {
        onSaleAt: new Date(clock.now() + 60_000).toISOString(),
        queue: { maxActive: 0 },
      });
      const buyers = Array.from({ length: 60 }, () => quickBuyer(a, clock));
      for (const [i, u] of buyers.entries()) {
        const res = await (i % 2 ? a : b).inject({ method: 'POST', url: `/api/events/${e}/queue`, headers: u.auth });
        assert.equal(res.json().queue.state, 'prequeue');
      }
      clock.advance(60_000);
      // Both processes' tickers and every buyer's first read race to open the sale.
      const read = (app: App, u: TestUser) =>
        app
          .inject({ method: 'GET', url: `/api/events/${e}/queue`, headers: u.auth })
          .then((r) => r.json().queue.number as number);
      const [, , firstA, firstB] = await Promise.all([
        a.services.ticker.tick(clock.now()),
        b.services.ticker.tick(clock.now()),
        Promise.all(buyers.map((u) => read(a, u))),
        Promise.all(buyers.map((u) => read(b, u))),
      ]);
      assert.deepEqual(firstA, firstB, 'both processes see one numbering');
      assert.deepEqual(
        [...firstA].sort((x, y) => x - y),
        Array.from({ length: 60 }, (_, i) => i + 1),
      );
      const again = await Promise.all(buyers.map((u) => read(b, u)));
      assert.deepEqual(again, firstA, 'and it never changes');
      const admin = (await a.inject({ method: 'GET', url: `/api/admin/events/${e}/queue`, headers: organizer.auth })).json();
      assert.equal(admin.joined, 60);
      assert.equal(admin.waiting, 60);
    }),
  );
});

describe('rate limits with several API processes', () => {
  it("counts a buyer's polls through every process sharing one Redis", { skip: redis.length === 0 }, () =>
    withTwoProcesses(async (a, b, clock) => {
      const { e } = await queueEvent(a, { onSaleAt: new Date(clock.now() - 60_000).toISOString() });
      const buyer = quickBuyer(a, clock);
      assert.equal((await a.inject({ method: 'POST', url: `/api/events/${e}/queue`, headers: buyer.auth })).statusCode, 201);
      // 120 polls a minute per account: alternating between the processes, 61 each would pass two per-process limits.
      const statuses: number[] = [];
      for (let i = 0; i < 122; i++) {
        const res = await (i % 2 ? b : a).inject({
          method: 'GET',
          url: `/api/events/${e}/queue`,
          headers: buyer.auth,
          remoteAddress: `198.51.100.${(i % 200) + 1}`,
        });
        statuses.push(res.statusCode);
      }
      assert.equal(statuses.filter((c) => c === 200).length, 120, statuses.join(' '));
      assert.deepEqual(statuses.slice(120), [429, 429]);
      // Another buyer's count is their own.
      const other = quickBuyer(a, clock);
      await b.inject({ method: 'POST', url: `/api/events/${e}/queue`, headers: other.auth });
      const res = await b.inject({
        method: 'GET',
        url: `/api/events/${e}/queue`,
        headers: other.auth,
        remoteAddress: '198.51.100.9',
      });
      assert.equal(res.statusCode, 200);
    }),
  );
});

describe('waiting room stream cost', () => {
  it('follows a waiting buyer (stream or poll) from the shared status without reading their place each time', async () => {
    const memory = withoutDatabase(createMemoryStore());
    let placeReads = 0;
    const store: WaitingRoomStore = {
      ...memory,
      place: (eventId, userId) => {
        placeReads += 1;
        return memory.place(eventId, userId);
      },
      // The buyer's own reads (stream, GET /queue) read the place while claiming an admitted turn.
      claimPlace: (eventId, userId, at, rules) => {
        placeReads += 1;
        return memory.claimPlace(eventId, userId, at, rules);
      },
    };
    const clock = manualClock();
    const now = clock.now();
    const row = settingsRow(now, { id: 'evt_cost' });
    const service = serviceOn(store, clock, async () => row);
    for (let i = 0; i < 30; i++) await service.join('evt_cost', `usr_${i}`);
    const next = service.watch('evt_cost', 'usr_29');
    const first = await next();
    assert.equal(first.state, 'waiting');
    const readsAfterFirst = placeReads;
    const positions = [first.position];
    for (let second = 1; second <= 8; second++) {
      clock.advance(1000);
      await service.tickEvent('evt_cost', clock.now());
      positions.push((await next()).position);
    }
    assert.equal(placeReads, readsAfterFirst, 'no place read while far behind the counter');
    assert.ok(positions.at(-1)! < positions[0]!, `position moves with the shared counter: ${positions.join(' ')}`);
    clock.advance(10_000);
    await next();
    assert.equal(placeReads, readsAfterFirst + 1, 'read again after 10 s');
    // A poll (GET /queue) is answered the same way: from the shared status and the place just read.
    clock.advance(1000);
    assert.equal((await service.myQueue('evt_cost', 'usr_29', { claim: true })).state, 'waiting');
    assert.equal(placeReads, readsAfterFirst + 1, 'no place read for a poll while far behind');
    await service.leave('evt_cost', 'usr_29');
    assert.equal((await service.myQueue('evt_cost', 'usr_29', { claim: true })).state, 'left', 'a leave here is seen at once');
  });
});

describe('admission checks on the hot path', () => {
  it('asks the store once a second per admitted buyer, and sees a turn ended elsewhere within that second', async () => {
    const memory = withoutDatabase(createMemoryStore());
    let claims = 0;
    // One store shared by two services: two API processes sharing Redis.
    const store: WaitingRoomStore = {
      ...memory,
      claim: (...args) => {
        claims += 1;
        return memory.claim(...args);
      },
    };
    const clock = manualClock();
    const now = clock.now();
    const row = settingsRow(now, { id: 'evt_claims', admit_per_minute: 6000 });
    const apiProcess = () => serviceOn(store, clock, async () => row);
    const [a, b] = [apiProcess(), apiProcess()];
    const admitted = async (userId: string) => {
      const { queue } = await a.join('evt_claims', userId);
      assert.equal(queue.state, 'admitted');
      return queue.admission!.token;
    };
    const check = (token: string, userId: string) => a.admission.requireAdmission({ token, userId, eventId: 'evt_claims' });
    const refused = (p: Promise<void>) =>
      assert.rejects(p, (err: unknown) => err instanceof AppError && err.code === 'NOT_ADMITTED');

    const token = await admitted('usr_1');
    for (let i = 0; i < 5; i++) await check(token, 'usr_1');
    assert.equal(claims, 1, 'five holds in a second: one store call');
    clock.advance(1000);
    await check(token, 'usr_1');
    assert.equal(claims, 2, 'asked again after a second');

    await b.leave('evt_claims', 'usr_1'); // the buyer leaves through the other process
    await check(token, 'usr_1'); // this process still trusts the claim it saw, for under a second
    clock.advance(1000);
    await refused(check(token, 'usr_1'));

    const other = await admitted('usr_2');
    await check(other, 'usr_2');
    await a.leave('evt_claims', 'usr_2'); // left through this process: refused at once
    await refused(check(other, 'usr_2'));
    const third = await admitted('usr_3');
    await check(third, 'usr_3');
    await a.admission.finish('evt_claims', 'usr_3'); // paid through this process
    await refused(check(third, 'usr_3'));
  });
});

describe('retiring a finished event', () => {
  it('stops ticking an event long over, and lets its queue and its inventory go after the retention', async () => {
    const store = withoutDatabase(createMemoryStore());
    const clock = manualClock();
    const now = clock.now();
    const row = settingsRow(now, {
      id: 'evt_over',
      starts_at: new Date(now + 60_000),
      admit_per_minute: 600,
      max_active: 10,
      claim_seconds: 60,
    });
    const service = serviceOn(store, clock, async () => row);
    const retired: [string, number][] = [];
    const ticker = createTicker({
      service,
      store,
      clock,
      log: { warn: () => undefined },
      retainMs: 100,
      onFinished: async (eventId, retainMs) => void retired.push([eventId, retainMs]),
    });
    await service.join('evt_over', 'usr_1');
    await ticker.tick(clock.now());
    assert.deepEqual(await store.queues(), ['evt_over'], 'ticked while the sale runs');
    assert.deepEqual(retired, []);
    // The event started (the sale closed) and every admission has run out since.
    clock.advance(60_000 + 2 * 15 * 60_000 + 1000);
    await ticker.tick(clock.now());
    assert.deepEqual(await store.queues(), [], 'no longer ticked');
    assert.deepEqual(retired, [['evt_over', 100]], 'the inventory is told, with the retention');
    assert.ok(await store.place('evt_over', 'usr_1'), 'kept for the retention');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await store.place('evt_over', 'usr_1'), null, 'then gone');

    // Another process whose database read fails keeps ticking nothing, but retires nothing either;
    // one whose database has no such event unregisters it.
    await store.addQueue('evt_live');
    const otherProcess = (findSettings: () => Promise<QueueSettingsRow | undefined>) =>
      createTicker({
        service: serviceOn(store, clock, findSettings),
        store,
        clock,
        log: { warn: () => undefined },
        retainMs: 100,
      });
    await otherProcess(async () => {
      throw new Error('connection reset');
    }).tick(clock.now());
    assert.deepEqual(await store.queues(), ['evt_live'], 'a failing read retires nothing');
    await otherProcess(async () => undefined).tick(clock.now());
    assert.deepEqual(await store.queues(), [], 'an event the database does not have is unregistered');
  });
});

describe('admission back-off', () => {
  it('holds the buyers in checkout under those in it when an API process answered slowly, lets in only as they finish, and recovers', async () => {
    const store = withoutDatabase(createMemoryStore());
    const clock = manualClock();
    const row = settingsRow(clock.now(), { id: 'evt_backoff', admit_per_minute: 600, max_active: 100 });
    const service = serviceOn(store, clock, async () => row, 50);
    const ticker = createTicker({ service, store, clock, log: { warn: () => undefined }, governor: createAdmissionGovernor(50) });
    for (let i = 0; i < 400; i++) await service.join('evt_backoff', `usr_backoff_${i}`);
    /** What the organizer's view says of the back-off. */
    const seen = async () => (await service.adminStatus({ userId: 'usr_admin', role: 'admin' }, 'evt_backoff')).backoff;
    assert.deepEqual(await seen(), { thresholdMs: 50, loadMs: null, factor: null }, 'nothing reported yet');
    const counters = () => store.counters('evt_backoff');
    /** Admissions over `steps` ticker steps of 200 ms; `load` (ms) reported by one API process before each step. */
    async function admittedOver(steps: number, load?: number) {
      const from = (await counters()).serving;
      for (let step = 0; step < steps; step++) {
        clock.advance(200);
        if (load !== undefined) await store.report('load', 'api-1', load, clock.now());
        await ticker.tick(clock.now());
      }
      return (await counters()).serving - from;
    }
    await ticker.tick(clock.now());

    const calm = await admittedOver(25, 5);
    assert.ok(calm >= 49 && calm <= 51, `10 a second while the API processes keep up (${calm} in 5 s)`);
    assert.deepEqual(await seen(), { thresholdMs: 50, loadMs: 5, factor: 1 });
    const calmInCheckout = (await counters()).active;
    assert.ok(calmInCheckout >= 50 && calmInCheckout < 75, `${calmInCheckout} in checkout`);

    // A slow spell: three steps of it are not yet a cut (one slow reading among calm ones is no
    // reason to empty checkout), and buyers are still let in at the rate.
    const before = await admittedOver(3, 300);
    assert.ok(before >= 5 && before <= 7, `still 10 a second for three slow steps (${before})`);
    assert.equal((await seen())!.factor, 1, 'held, not cut');
    const inCheckout = (await counters()).active;
    // The fourth: the limit falls to three quarters of those in checkout (not of maxActive, which
    // would let in as many as before), and nobody is let in while more than that are in.
    assert.equal(await admittedOver(1, 300), 0);
    const cut = Math.round(0.75 * (inCheckout / 100) * 1000) / 1000;
    assert.deepEqual(await seen(), { thresholdMs: 50, loadMs: 300, factor: cut }, 'the organizer sees why');
    assert.equal(await admittedOver(5, 5), 0, 'the servers are calm again, but the limit grows by 3 % a step');

    // Twenty finish (here: leave): their places go to the next buyers, up to the limit.
    const admitted = await store.admissions('evt_backoff', 0, 20);
    for (const { userId } of admitted) await service.leave('evt_backoff', userId);
    const refilled = await admittedOver(5, 5);
    const limit = Math.floor(100 * (await seen())!.factor!);
    assert.ok(refilled >= 1, 'as buyers finish, others are let in');
    assert.ok((await counters()).active <= limit, `never more in checkout than the limit (${limit})`);

    // Slow for long: at most a cut in two seconds, down to a twentieth of maxActive.
    await admittedOver(100, 300);
    assert.deepEqual(await seen(), { thresholdMs: 50, loadMs: 300, factor: 0.05 });
    // The reports stop (the process is gone, or quiet): stale after 2 s, then back to the full
    // setting in about 20 s (3 % a step, or 1/250 when that is more), not the 48 s of 1/250 alone.
    await admittedOver(115);
    assert.deepEqual(await seen(), { thresholdMs: 50, loadMs: null, factor: 1 });
    const active = (await counters()).active;
    assert.ok(active > limit, `the full maxActive again (${active} in checkout)`);
  });

  it('cuts from the buyers in checkout of the events it can read, passing over one gone from the database', async () => {
    const store = withoutDatabase(createMemoryStore());
    const clock = manualClock();
    const row = settingsRow(clock.now(), { id: 'evt_backoff_a', admit_per_minute: 600, max_active: 100 });
    const service = serviceOn(store, clock, async (id) => (id === 'evt_backoff_a' ? row : undefined), 50);
    const ticker = createTicker({ service, store, clock, log: { warn: () => undefined }, governor: createAdmissionGovernor(50) });
    for (let i = 0; i < 100; i++) await service.join('evt_backoff_a', `usr_backoff_a_${i}`);
    for (let step = 0; step < 10; step++) {
      clock.advance(200);
      // Slow for the last three steps: the next slow one cuts.
      if (step >= 7) await store.report('load', 'api-1', 300, clock.now());
      await ticker.tick(clock.now());
    }
    const active = (await store.counters('evt_backoff_a')).active;
    assert.ok(active >= 20, `${active} in checkout`);
    // Registered by another process a moment ago; this step retires it.
    await store.addQueue('evt_backoff_gone');
    clock.advance(200);
    await store.report('load', 'api-1', 300, clock.now());
    await ticker.tick(clock.now());
    const view = await service.adminStatus({ userId: 'usr_admin', role: 'admin' }, 'evt_backoff_a');
    assert.equal(view.backoff?.factor, Math.round(0.75 * (active / 100) * 1000) / 1000);
  });

  it('leaves admission alone without a governor, whatever the load board says', async () => {
    const store = withoutDatabase(createMemoryStore());
    const clock = manualClock();
    const row = settingsRow(clock.now(), { id: 'evt_no_backoff', admit_per_minute: 600, max_active: 10_000 });
    const service = serviceOn(store, clock, async () => row);
    const ticker = createTicker({ service, store, clock, log: { warn: () => undefined } });
    for (let i = 0; i < 200; i++) await service.join('evt_no_backoff', `usr_nb_${i}`);
    await ticker.tick(clock.now());
    const from = (await store.counters('evt_no_backoff')).serving;
    for (let step = 0; step < 25; step++) {
      clock.advance(200);
      await store.report('load', 'api-1', 5000, clock.now());
      await ticker.tick(clock.now());
    }
    const admitted = (await store.counters('evt_no_backoff')).serving - from;
    assert.ok(admitted >= 49 && admitted <= 51, `10 a second (${admitted} in 5 s)`);
    assert.deepEqual(await store.readings('factor', clock.now(), 2000), [], 'no factor reported');
    const view = await service.adminStatus({ userId: 'usr_admin', role: 'admin' }, 'evt_no_backoff');
    assert.equal(view.backoff, null, 'the organizer sees the back-off off');
  });
});
