// The waiting room's hot state is rebuildable: a store that loses an event's queue (a Redis restart
// or flush, a restart of the embedded process) is given it back from the database. Three tiers: the
// adapters' load (memory and the real Redis), the snapshot built from the database's rows, and the
// whole app through HTTP with the queue forgotten in the middle of a sale.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from '../src/app.ts';
import { createMemoryStore } from '../src/modules/waiting-room/store.memory.ts';
import { createRedisStore } from '../src/modules/waiting-room/store.redis.ts';
import { createSnapshotSource, EMPTY_SNAPSHOT, snapshotOf } from '../src/modules/waiting-room/waiting-room.rebuild.ts';
import {
  isNotLoaded,
  type QueueRules,
  type QueueSnapshot,
  type WaitingRoomStoreAdapter,
} from '../src/modules/waiting-room/waiting-room.store.ts';
import type { QueueView } from '../src/modules/waiting-room/index.ts';
import type { Db } from '../src/platform/db.ts';
import { createRedis, type Redis } from '../src/platform/redis.ts';
import { dbShapes, freshDb, queueEvent, quickBuyer, SECRET, testConfig, type TestUser } from './helpers.ts';
import { redisTargets } from './redis-helpers.ts';

const T0 = 1_800_000_000_000;
const RULES: QueueRules = { paused: false, admitPerMinute: 600, maxActive: 3, claimMs: 120_000, admissionMs: 900_000 };
const newEvent = () => `evt_test_${randomBytes(8).toString('hex')}`;
const redis = await redisTargets();
const shapes = await dbShapes();

/** Six numbered places: 1 and 2 admitted (2 still active), 3 left while waiting, 4–6 waiting. */
function sampleSnapshot(): QueueSnapshot {
  return {
    places: [1, 2, 3, 4, 5, 6].map((n) => ({ number: n, userId: `usr_${n}` })),
    issued: 6,
    serving: 3,
    shuffled: true,
    log: [1, 2],
    marks: [
      ['usr_1', 'f'],
      ['usr_2', `c${T0}`],
      ['usr_3', 'l'],
    ],
    active: [['usr_2', T0 + RULES.admissionMs]],
    leaves: ['usr_3'],
    pre: [],
  };
}

for (const target of ['memory', ...redis] as const) {
  describe(`waiting-room store load (${target})`, () => {
    let store: WaitingRoomStoreAdapter;
    let client: Redis | undefined;
    before(async () => {
      if (target === 'memory') store = createMemoryStore();
      else {
        client = await createRedis(target);
        store = await createRedisStore(client);
      }
    });
    after(async () => client?.quit());

    it('answers NOT_LOADED for a queue it does not hold, until a snapshot is loaded, and loads one only once', async () => {
      const e = newEvent();
      assert.ok(isNotLoaded(await store.join(e, 'usr_x', T0, 'open', RULES)));
      assert.ok(isNotLoaded(await store.place(e, 'usr_1')));
      assert.ok(isNotLoaded(await store.claim(e, 'usr_2', T0, RULES)));
      assert.ok(isNotLoaded(await store.advance(e, T0, RULES)));
      assert.ok(isNotLoaded(await store.counters(e)));
      assert.ok(isNotLoaded(await store.leave(e, 'usr_1')));
      assert.ok(isNotLoaded(await store.finish(e, 'usr_2')));

      assert.equal(await store.load(e, sampleSnapshot()), true);
      // A second load (another process, a little later) changes nothing: the store is ahead.
      assert.equal(await store.load(e, EMPTY_SNAPSHOT), false);

      assert.deepEqual(await store.counters(e), {
        joined: 6,
        issued: 6,
        serving: 3,
        preQueued: 0,
        shuffled: true,
        active: 1,
        admitted: 2,
        noShows: 0,
        timedOut: 0,
      });
      assert.deepEqual(await store.place(e, 'usr_5'), { number: 5, mark: { kind: 'none' }, serving: 3 });
      assert.deepEqual(await store.place(e, 'usr_2'), { number: 2, mark: { kind: 'claimed', at: T0 }, serving: 3 });
      assert.equal(await store.claim(e, 'usr_2', T0 + 1000, RULES), 'ok');
      assert.deepEqual(await store.admissions(e, 0, 10), [
        { number: 1, userId: 'usr_1' },
        { number: 2, userId: 'usr_2' },
      ]);
      assert.deepEqual(await store.places(e, 5, 10), [
        { number: 5, userId: 'usr_5' },
        { number: 6, userId: 'usr_6' },
      ]);
      // The next join gets the number after the last one given; the left buyer's number is not reused.
      const joined = await store.join(e, 'usr_new', T0 + 1000, 'open', { ...RULES, paused: true });
      assert.ok(!isNotLoaded(joined) && joined !== 'shuffle-needed');
      assert.equal(joined.place.number, 7);
      // maxActive 3 with one active: two more are admitted, in number order, and the log goes on after the loaded entries.
      const step = await store.advance(e, T0 + 2000, RULES);
      assert.ok(!isNotLoaded(step));
      assert.deepEqual(step, { admitted: 2, expired: 0, serving: 5 });
      assert.deepEqual(
        (await store.admissions(e, 2, 10)).map((a) => a.number),
        [4, 5],
      );
      await store.forget(e);
      assert.ok(isNotLoaded(await store.counters(e)));
    });

    it('keeps a leave log (each buyer once, in the order they left) that goes on from the loaded one', async () => {
      const e = newEvent();
      await store.load(e, sampleSnapshot());
      assert.deepEqual(await store.leaves(e, 0, 10), ['usr_3']);
      assert.equal(await store.leave(e, 'usr_5'), true); // waiting
      assert.equal(await store.leave(e, 'usr_2'), true); // admitted and active: the slot is freed
      assert.equal(await store.leave(e, 'usr_1'), true); // finished already: stays finished, not logged
      assert.equal(await store.leave(e, 'usr_5'), true); // again: logged once
      assert.equal(await store.leave(e, 'usr_9'), false); // never joined
      assert.deepEqual(await store.leaves(e, 0, 10), ['usr_3', 'usr_5', 'usr_2']);
      assert.deepEqual(await store.leaves(e, 1, 1), ['usr_5']);
      assert.deepEqual(await store.leaves(e, 3, 10), []);
      assert.deepEqual(await store.place(e, 'usr_1'), { number: 1, mark: { kind: 'finished' }, serving: 3 });
      // Nobody active now: maxActive 3 lets in 4 and 6, passing over 5, who left.
      const step = await store.advance(e, T0 + 1000, RULES);
      assert.ok(!isNotLoaded(step));
      assert.deepEqual(step, { admitted: 2, expired: 0, serving: 6 });
      await store.forget(e);
      assert.deepEqual(await store.leaves(e, 0, 10), []);
    });

    it('loads a pre-queue not yet shuffled, which goes on taking arrivals, then is numbered by the shuffle', async () => {
      const e = newEvent();
      await store.load(e, {
        places: [],
        issued: 0,
        serving: 0,
        shuffled: false,
        log: [],
        marks: [['usr_b', 'l']],
        active: [],
        leaves: ['usr_b'],
        pre: ['usr_a', 'usr_b', 'usr_c'],
      });
      const counters = await store.counters(e);
      assert.ok(!isNotLoaded(counters));
      assert.equal(counters.preQueued, 3);
      assert.equal(counters.joined, 3);
      assert.equal(counters.shuffled, false);
      assert.deepEqual(await store.place(e, 'usr_a'), { number: null, mark: { kind: 'none' }, serving: 0 });
      assert.deepEqual(await store.preQueue(e, 0, 10), ['usr_a', 'usr_b', 'usr_c']);
      // Joining again keeps the place; a new buyer goes to the end of the pre-queue.
      const again = await store.join(e, 'usr_c', T0, 'pre', RULES);
      assert.ok(!isNotLoaded(again) && again !== 'shuffle-needed' && !again.created);
      await store.join(e, 'usr_d', T0, 'pre', RULES);
      assert.deepEqual(await store.preQueue(e, 2, 10), ['usr_c', 'usr_d']);
      assert.equal(await store.shuffle(e, [1, 2, 3, 4]), 4);
      assert.deepEqual(await store.preQueue(e, 0, 10), []);
      const numbers = (await store.places(e, 1, 10)).map((p) => p.userId).sort();
      assert.deepEqual(numbers, ['usr_a', 'usr_b', 'usr_c', 'usr_d']);
      // The one who left before the shuffle stays left, and admission passes over them.
      const left = await store.place(e, 'usr_b');
      assert.ok(left && !isNotLoaded(left));
      assert.deepEqual(left.mark, { kind: 'left' });
      const step = await store.advance(e, T0 + 1000, RULES);
      assert.ok(!isNotLoaded(step));
      assert.equal(step.admitted, 3);
      await store.forget(e);
    });

    it('loads a large queue (a stadium: 150,000 places, 100,000 admitted, 20,000 left), as one atomic step', async () => {
      const e = newEvent();
      const n = 150_000;
      const places = Array.from({ length: n }, (_, i) => ({ number: i + 1, userId: `usr_${i + 1}` }));
      const log = places.slice(0, 100_000).map((p) => p.number);
      const marks: [string, string][] = places.slice(0, 100_000).map((p) => [p.userId, 'f']);
      const leaves = places.slice(100_000, 120_000).map((p) => p.userId);
      for (const u of leaves) marks.push([u, 'l']);
      const active: [string, number][] = [['usr_100000', T0 + RULES.admissionMs]];
      marks[99_999] = ['usr_100000', `c${T0}`];
      const snapshot = { places, issued: n, serving: 100_000, shuffled: true, log, marks, active, leaves, pre: [] };
      assert.equal(await store.load(e, snapshot), true);
      const counters = await store.counters(e);
      assert.ok(!isNotLoaded(counters));
      assert.deepEqual(
        [counters.joined, counters.issued, counters.serving, counters.active, counters.admitted],
        [n, n, 100_000, 1, 100_000],
      );
      assert.deepEqual(await store.place(e, `usr_${n}`), { number: n, mark: { kind: 'none' }, serving: 100_000 });
      assert.deepEqual(await store.leaves(e, 19_999, 5), ['usr_120000']);
      assert.deepEqual(
        (await store.admissions(e, 99_999, 5)).map((a) => a.number),
        [100_000],
      );
      // Admission passes over the 20,000 who left (at most SKIP_LIMIT a step) and goes on at 120,001.
      for (let i = 0; i < 3; i++) await store.advance(e, T0 + 1000, RULES);
      assert.deepEqual(
        (await store.admissions(e, 100_000, 5)).map((a) => a.number),
        [120_001, 120_002],
      );
      // A second loader that comes too late changes nothing and leaves none of its staged keys behind.
      assert.equal(await store.load(e, snapshot), false);
      assert.deepEqual((await store.admissions(e, 100_000, 5)).length, 2);
      if (client) assert.deepEqual(await client.client.keys(`{e:${e}}:q:stage:*`), []);
      await store.forget(e);
    });

    it('passes over a number the database lost, as over a buyer who left', async () => {
      const e = newEvent();
      const snapshot = sampleSnapshot();
      snapshot.places = snapshot.places.filter((p) => p.number !== 4);
      await store.load(e, snapshot);
      const step = await store.advance(e, T0 + 1000, RULES);
      assert.ok(!isNotLoaded(step));
      assert.deepEqual(step, { admitted: 2, expired: 0, serving: 6 });
      assert.deepEqual(
        (await store.admissions(e, 0, 10)).map((a) => a.number),
        [1, 2, 5, 6],
      );
      assert.deepEqual(
        (await store.places(e, 1, 10)).map((p) => p.number),
        [1, 2, 3, 5, 6],
      );
      await store.forget(e);
    });
  });
}

describe('the snapshot of a queue from the database', () => {
  const now = T0 + 60_000;
  const at = (ms: number) => new Date(T0 + ms);

  it('keeps numbers, puts the serving counter at the last admission, and marks each admitted buyer by what the orders say', () => {
    const s = snapshotOf(
      {
        places: [1, 2, 3, 4, 5, 6, 7, 9, 10].map((n) => ({ number: n, user_id: `usr_${n}` })),
        admissions: [
          { number: 1, user_id: 'usr_1', recorded_at: at(-20 * 60_000) }, // admission ran out
          { number: 2, user_id: 'usr_2', recorded_at: at(0) }, // paid: finished
          { number: 3, user_id: 'usr_3', recorded_at: at(0) }, // an order pending: active
          { number: 5, user_id: 'usr_5', recorded_at: at(1000) }, // no order yet: active
          { number: 6, user_id: 'usr_6', recorded_at: at(1500) }, // no order, left: not active
          { number: 8, user_id: 'usr_8', recorded_at: at(2000) }, // its place not copied yet
        ],
        // The leave log: 10 left while waiting, past the serving counter (9 waits on); 6 after
        // admission; 4 while waiting, before their number came.
        leaves: ['usr_10', 'usr_6', 'usr_4'],
        // Shuffled long ago: the pre-queue's copy is not read.
        prequeue: ['usr_1', 'usr_2'],
        orders: [
          { user_id: 'usr_2', pending: false },
          { user_id: 'usr_3', pending: true },
        ],
        admission_minutes: 15,
        closes_at: new Date(T0 + 86_400_000),
      },
      now,
    );
    assert.equal(s.issued, 10);
    assert.equal(s.serving, 8);
    assert.equal(s.shuffled, true);
    assert.deepEqual(s.log, [1, 2, 3, 5, 6, 8]);
    assert.deepEqual(s.leaves, ['usr_10', 'usr_6', 'usr_4']);
    assert.deepEqual(s.pre, []);
    assert.deepEqual(
      s.places.map((p) => p.number),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    assert.deepEqual(
      new Map(s.marks),
      new Map([
        ['usr_1', 'x'],
        ['usr_2', 'f'],
        ['usr_3', `c${T0}`],
        ['usr_5', `c${T0 + 1000}`],
        ['usr_6', 'l'],
        ['usr_8', `c${T0 + 2000}`],
        // Passed over by admission without being admitted: they had left while waiting (7's leave
        // is not on the log: made in the last step before the loss).
        ['usr_4', 'l'],
        ['usr_7', 'l'],
        // Still waiting, but on the leave log: passed over when admission reaches them.
        ['usr_10', 'l'],
      ]),
    );
    assert.deepEqual(
      new Map(s.active),
      new Map([
        ['usr_3', T0 + 900_000],
        ['usr_5', T0 + 901_000],
        ['usr_8', T0 + 902_000],
      ]),
    );
  });

  it('is empty for an event whose queue the ticker retired, or that the database does not know', async () => {
    const record = {
      places: [{ number: 1, user_id: 'usr_1' }],
      admissions: [],
      leaves: [],
      prequeue: [],
      orders: [],
      admission_minutes: 15,
      closes_at: new Date(now - 31 * 60_000),
    };
    const source = (r: typeof record | undefined) => createSnapshotSource({ queueRecord: async () => r }, { now: () => now });
    assert.equal(await source(record)('evt_old'), null);
    assert.equal(await source(undefined)('evt_none'), null);
    // Closed 29 minutes ago: still within twice the admission time, so the queue comes back.
    assert.equal((await source({ ...record, closes_at: new Date(now - 29 * 60_000) })('evt_recent'))?.issued, 1);
  });

  it('is an empty, unshuffled queue when nothing was numbered yet', () => {
    const s = snapshotOf(
      { places: [], admissions: [], leaves: [], prequeue: [], orders: [], admission_minutes: 15, closes_at: new Date(T0) },
      now,
    );
    assert.deepEqual(s, { ...EMPTY_SNAPSHOT });
  });

  it('gives back the pre-queue, in arrival order, while nothing is numbered, with its leavers marked', () => {
    const s = snapshotOf(
      {
        places: [],
        admissions: [],
        leaves: ['usr_b'],
        // A copy retried after a lease moved may repeat a buyer: each is in the pre-queue once.
        prequeue: ['usr_a', 'usr_b', 'usr_c', 'usr_c'],
        orders: [],
        admission_minutes: 15,
        closes_at: new Date(T0 + 86_400_000),
      },
      now,
    );
    assert.deepEqual(s.pre, ['usr_a', 'usr_b', 'usr_c']);
    assert.equal(s.shuffled, false);
    assert.equal(s.issued, 0);
    assert.deepEqual(s.marks, [['usr_b', 'l']]);
  });
});

const targets = [
  ...shapes.map((shape) => ({ shape, redisUrl: undefined as string | undefined })),
  ...redis.map((url) => ({ shape: shapes[0]!, redisUrl: url })),
];

for (const target of targets) {
  describe(`a queue lost by the store in the middle of a sale (${target.shape}, ${target.redisUrl ? 'redis' : 'memory'})`, () => {
    let app: App;
    let db: Db;
    let drop: () => Promise<void>;
    let now = Date.now();
    const clock = { now: () => now };

    before(async () => {
      ({ db, drop } = await freshDb(target.shape));
      const config = testConfig({
        TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1',
        TICKETMAX_ROLES: 'api', // the test ticks by hand
        ...(target.redisUrl ? { REDIS_URL: target.redisUrl } : {}),
      });
      app = await buildApp({ config, db, secret: SECRET, logger: false, clock });
      await app.ready();
    });
    after(async () => {
      await app.close();
      await drop();
    });

    const join = (e: string, b: TestUser) => app.inject({ method: 'POST', url: `/api/events/${e}/queue`, headers: b.auth });
    const mine = (e: string, b: TestUser) => app.inject({ method: 'GET', url: `/api/events/${e}/queue`, headers: b.auth });
    const view = async (e: string, b: TestUser) => {
      const res = await mine(e, b);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ queue: QueueView }>().queue;
    };
    const tick = () => app.services.ticker.tick(now);

    it('gives buyers back their numbers, the serving counter and the active buyers, and goes on in number order', async () => {
      const { e } = await queueEvent(app, { queue: { admitPerMinute: 600, maxActive: 2 } });
      const buyers = Array.from({ length: 6 }, () => quickBuyer(app, clock));
      for (const b of buyers.slice(0, 5)) assert.equal((await join(e, b)).statusCode, 201);
      // The ticker copies places and admissions to the database.
      now += 1000;
      await tick();
      const admittedBefore = await view(e, buyers[0]!);
      assert.equal(admittedBefore.state, 'admitted');
      // Buyer 6 joins after the last copy: the store loses the queue before the ticker runs again.
      assert.equal((await join(e, buyers[5]!)).json().queue.number, 6);
      // As a Redis flush does, this takes the event off the ticker's list of queues too.
      await app.services.queueStore.forget(e);
      assert.ok(!(await app.services.queueStore.queues()).includes(e));

      now += 1000;
      // Waiting buyers keep their numbers and their place in line; the admitted keep their turn and token.
      const third = await view(e, buyers[2]!);
      assert.equal(third.number, 3);
      assert.equal(third.state, 'waiting');
      assert.equal(third.position, 0);
      assert.equal((await view(e, buyers[4]!)).position, 2);
      const first = await view(e, buyers[0]!);
      assert.equal(first.state, 'admitted');
      await app.services.admission.requireAdmission({
        token: admittedBefore.admission!.token,
        userId: buyers[0]!.id,
        eventId: e,
      });
      const status = await app.inject({ method: 'GET', url: `/api/events/${e}/queue/status` });
      assert.equal(status.json().serving, 2);
      // The one place made after the last copy is gone: that buyer joins again, behind those before.
      assert.equal((await mine(e, buyers[5]!)).statusCode, 404);
      const rejoined = await join(e, buyers[5]!);
      assert.equal(rejoined.statusCode, 201);
      assert.equal(rejoined.json().queue.number, 6);

      // Both admitted buyers still count against maxActive 2: nobody more is let in ...
      now += 1000;
      await tick();
      assert.equal((await view(e, buyers[2]!)).state, 'waiting');
      // ... until one finishes: then number 3, then 4.
      await app.services.admission.finish(e, buyers[0]!.id);
      now += 1000;
      await tick();
      assert.equal((await view(e, buyers[2]!)).state, 'admitted');
      assert.equal((await view(e, buyers[3]!)).state, 'waiting');
      await app.services.admission.finish(e, buyers[1]!.id);
      now += 1000;
      await tick();
      assert.equal((await view(e, buyers[3]!)).state, 'admitted');
      assert.equal((await view(e, buyers[4]!)).state, 'waiting');

      // The admission log in the database goes on without a gap or a repeat, in number order.
      const rows = await db.query<{ seq: number; number: number }>(
        'SELECT seq, number FROM queue_admissions WHERE event_id = $1 ORDER BY seq',
        [e],
      );
      assert.deepEqual(
        rows.map((r) => [r.seq, r.number]),
        [
          [0, 1],
          [1, 2],
          [2, 3],
          [3, 4],
        ],
      );
      const ranges = await db.query<{ first_number: number; user_ids: string[] }>(
        'SELECT first_number, user_ids FROM queue_place_ranges WHERE event_id = $1 ORDER BY first_number',
        [e],
      );
      assert.deepEqual(
        ranges.flatMap((r) => r.user_ids.map((u, i) => [r.first_number + i, u])),
        buyers.map((b, i) => [i + 1, b.id]),
      );
    });

    it('remembers who left: one who left while waiting is passed over, one who left after admission is not active', async () => {
      const { e } = await queueEvent(app, { queue: { admitPerMinute: 600, maxActive: 2 } });
      const buyers = Array.from({ length: 5 }, () => quickBuyer(app, clock));
      for (const b of buyers) assert.equal((await join(e, b)).statusCode, 201);
      const leave = (b: TestUser) => app.inject({ method: 'DELETE', url: `/api/events/${e}/queue`, headers: b.auth });
      now += 1000;
      await tick(); // 1 and 2 admitted
      assert.equal((await leave(buyers[3]!)).statusCode, 204); // 4, waiting
      assert.equal((await leave(buyers[0]!)).statusCode, 204); // 1, admitted: frees a slot
      now += 1000;
      await tick(); // 3 admitted; the leave log is copied
      assert.equal((await view(e, buyers[2]!)).state, 'admitted');
      const logged = await db.query<{ seq: number; user_id: string }>(
        'SELECT seq, user_id FROM queue_leaves WHERE event_id = $1 ORDER BY seq',
        [e],
      );
      assert.deepEqual(
        logged.map((r) => [r.seq, r.user_id]),
        [
          [0, buyers[3]!.id],
          [1, buyers[0]!.id],
        ],
      );

      await app.services.queueStore.forget(e);
      now += 1000;
      assert.equal((await view(e, buyers[3]!)).state, 'left');
      assert.equal((await view(e, buyers[0]!)).state, 'left');
      assert.equal((await view(e, buyers[4]!)).state, 'waiting');
      // 2 and 3 are active (maxActive 2), 1 is not: when 2 finishes, 5 is admitted, passing over 4.
      await tick();
      assert.equal((await view(e, buyers[4]!)).state, 'waiting');
      await app.services.admission.finish(e, buyers[1]!.id);
      now += 1000;
      await tick();
      assert.equal((await view(e, buyers[4]!)).state, 'admitted');
      assert.equal((await view(e, buyers[3]!)).state, 'left');
      // The logs in the database go on without a gap: a leave after the rebuild is seq 2.
      assert.equal((await leave(buyers[4]!)).statusCode, 204);
      now += 1000;
      await tick();
      const admitted = await db.query<{ number: number }>(
        'SELECT number FROM queue_admissions WHERE event_id = $1 ORDER BY seq',
        [e],
      );
      assert.deepEqual(
        admitted.map((r) => r.number),
        [1, 2, 3, 5],
      );
      const after = await db.query<{ seq: number }>('SELECT seq FROM queue_leaves WHERE event_id = $1 AND user_id = $2', [
        e,
        buyers[4]!.id,
      ]);
      assert.deepEqual(
        after.map((r) => r.seq),
        [2],
      );
    });

    it('gives the pre-queue back before the sale opens, and the shuffle numbers every buyer in it once', async () => {
      const onSaleAt = now + 10 * 60_000;
      const { e } = await queueEvent(app, {
        onSaleAt: new Date(onSaleAt).toISOString(),
        queue: { admitPerMinute: 600, maxActive: 10, preQueueMinutes: 30 },
      });
      const buyers = Array.from({ length: 4 }, () => quickBuyer(app, clock));
      for (const b of buyers.slice(0, 3)) {
        const res = await join(e, b);
        assert.equal(res.statusCode, 201, res.body);
        assert.equal(res.json().queue.state, 'prequeue');
      }
      now += 1000;
      await tick(); // copies the pre-queue
      assert.equal((await join(e, buyers[3]!)).statusCode, 201); // after the copy: lost with the store
      const copied = await db.query<{ first_seq: number; user_ids: string[] }>(
        'SELECT first_seq, user_ids FROM queue_prequeue_ranges WHERE event_id = $1 ORDER BY first_seq',
        [e],
      );
      assert.deepEqual(
        copied.map((r) => [r.first_seq, r.user_ids]),
        [[0, buyers.slice(0, 3).map((b) => b.id)]],
      );

      await app.services.queueStore.forget(e);
      now += 1000;
      for (const b of buyers.slice(0, 3)) assert.equal((await view(e, b)).state, 'prequeue');
      assert.equal((await mine(e, buyers[3]!)).statusCode, 404);
      assert.equal((await join(e, buyers[3]!)).json().queue.state, 'prequeue');
      const status = await app.inject({ method: 'GET', url: `/api/events/${e}/queue/status` });
      assert.equal(status.json().state, 'prequeue');
      await tick(); // the new arrival is copied after the three

      // The sale opens: one shuffle numbers all four, 1 to 4.
      now = onSaleAt + 1000;
      const numbers = [];
      for (const b of buyers) numbers.push((await view(e, b)).number);
      assert.deepEqual(
        [...numbers].sort((a, b) => a! - b!),
        [1, 2, 3, 4],
      );
      await tick();
      const ranges = await db.query<{ first_seq: number; user_ids: string[] }>(
        'SELECT first_seq, user_ids FROM queue_prequeue_ranges WHERE event_id = $1 ORDER BY first_seq',
        [e],
      );
      assert.deepEqual(
        ranges.map((r) => [r.first_seq, r.user_ids]),
        [
          [0, buyers.slice(0, 3).map((b) => b.id)],
          [3, [buyers[3]!.id]],
        ],
      );
    });
  });
}

describe('a stream whose place was lost with the store (real port)', () => {
  it('ends, so that the page asks again, gets 404 and joins again', async () => {
    const { db, drop } = await freshDb('pglite');
    const clock = { now: () => Date.now() };
    const app = await buildApp({
      config: testConfig({ TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1', TICKETMAX_ROLES: 'api' }),
      db,
      secret: SECRET,
      logger: false,
    });
    try {
      const { e } = await queueEvent(app, { queue: { maxActive: 1 } });
      const first = quickBuyer(app, clock);
      const second = quickBuyer(app, clock);
      for (const b of [first, second])
        assert.equal((await app.inject({ method: 'POST', url: `/api/events/${e}/queue`, headers: b.auth })).statusCode, 201);
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/api/events/${e}/queue/stream`, { headers: second.auth });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let text = '';
      const first1 = await reader.read();
      text += Buffer.from(first1.value ?? new Uint8Array()).toString();
      assert.match(text, /event: queue/);
      // No ticker ran: neither place was copied to the database when the store loses the queue.
      await app.services.queueStore.forget(e);
      const ended = await Promise.race([
        (async () => {
          for (;;) if ((await reader.read()).done) return true;
        })(),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 5000)),
      ]);
      assert.equal(ended, true, 'the stream ends within a few seconds');
      const again = await fetch(`http://127.0.0.1:${port}/api/events/${e}/queue`, { headers: second.auth });
      assert.equal(again.status, 404);
      const rejoined = await fetch(`http://127.0.0.1:${port}/api/events/${e}/queue`, { method: 'POST', headers: second.auth });
      assert.equal(rejoined.status, 201);
    } finally {
      await app.close();
      await drop();
    }
  });
});
