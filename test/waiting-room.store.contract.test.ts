// The waiting-room store contract: the same cases against the memory store and against Redis.
// Redis: 127.0.0.1:6379 (or TEST_REDIS_URL). Under CI=true an unreachable Redis fails the suite.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createMemoryStore } from '../src/modules/waiting-room/store.memory.ts';
import { createRedisStore } from '../src/modules/waiting-room/store.redis.ts';
import { withoutDatabase } from '../src/modules/waiting-room/waiting-room.rebuild.ts';
import { newShuffleSeed, shuffleInPlace } from '../src/modules/waiting-room/shuffle.ts';
import type { QueueRules, WaitingRoomStore } from '../src/modules/waiting-room/waiting-room.store.ts';
import { createRedis, type Redis } from '../src/platform/redis.ts';
import { redisTargets } from './redis-helpers.ts';

const T0 = 1_800_000_000_000;
const RULES: QueueRules = { paused: false, admitPerMinute: 600, maxActive: 1000, claimMs: 120_000, admissionMs: 900_000 };
const rules = (over: Partial<QueueRules> = {}): QueueRules => ({ ...RULES, ...over });
const newEvent = () => `evt_test_${randomBytes(8).toString('hex')}`;
const users = (n: number, prefix = 'usr') =>
  Array.from({ length: n }, (_, i) => `${prefix}_${i}_${randomBytes(3).toString('hex')}`);

/** Puts buyers in the pre-queue in this order, then shuffles. */
async function prequeue(store: WaitingRoomStore, eventId: string, ids: string[]) {
  for (const id of ids) await store.join(eventId, id, T0 - 1000, 'pre', RULES);
}

async function joinOpen(store: WaitingRoomStore, eventId: string, userId: string, now: number, r: QueueRules = RULES) {
  const result = await store.join(eventId, userId, now, 'open', r);
  assert.notEqual(result, 'shuffle-needed');
  if (result === 'shuffle-needed') throw new Error('unreachable');
  return result;
}

/** Opens the sale of an empty queue (shuffling an empty pre-queue). */
async function openSale(store: WaitingRoomStore, eventId: string) {
  await store.shuffle(eventId, newShuffleSeed());
}

/** Chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: number[], total: number): number {
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

const targets = await redisTargets();

for (const target of ['memory', ...targets] as const) {
  describe(`waiting-room store contract (${target})`, () => {
    let store: WaitingRoomStore;
    let second: WaitingRoomStore;
    const clients: Redis[] = [];
    /** A second store on the same state: another API process sharing one Redis. */
    before(async () => {
      if (target === 'memory') {
        store = withoutDatabase(createMemoryStore());
        second = store;
      } else {
        for (let i = 0; i < 2; i++) clients.push(await createRedis(target));
        store = withoutDatabase(await createRedisStore(clients[0]!));
        second = withoutDatabase(await createRedisStore(clients[1]!));
      }
    });
    after(async () => {
      for (const c of clients) await c.quit();
    });

    it('gives one place per account, and the same place on joining again', async () => {
      const e = newEvent();
      await openSale(store, e);
      const first = await joinOpen(store, e, 'usr_a', T0, rules({ paused: true }));
      const again = await joinOpen(store, e, 'usr_a', T0 + 5, rules({ paused: true }));
      assert.equal(first.created, true);
      assert.equal(again.created, false);
      assert.equal(again.place.number, first.place.number);
      assert.equal((await store.counters(e)).joined, 1);
    });

    it('keeps one place per account under 200 concurrent joins by the same account, from two processes', async () => {
      const e = newEvent();
      await openSale(store, e);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (i % 2 === 0 ? store : second).join(e, 'usr_same', T0 + i, 'open', rules({ paused: true })),
        ),
      );
      const numbers = new Set(results.map((r) => (r === 'shuffle-needed' ? -1 : r.place.number)));
      assert.deepEqual([...numbers], [1]);
      assert.equal(results.filter((r) => r !== 'shuffle-needed' && r.created).length, 1);
      const c = await store.counters(e);
      assert.equal(c.joined, 1);
      assert.equal(c.issued, 1);
    });

    it('keeps the pre-queue unnumbered until the shuffle, then numbers it 1..P and later arrivals after', async () => {
      const e = newEvent();
      const pre = users(50, 'pre');
      await prequeue(store, e, pre);
      assert.equal((await store.place(e, pre[0]!))?.number, null);
      assert.equal(await store.join(e, 'usr_late', T0, 'open', RULES), 'shuffle-needed');
      assert.equal((await store.counters(e)).preQueued, 50);
      assert.equal(await store.shuffle(e, newShuffleSeed()), 50);
      const numbers = await Promise.all(pre.map(async (u) => (await store.place(e, u))!.number));
      assert.deepEqual(
        [...numbers].sort((a, b) => a! - b!),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      const late = users(10, 'late');
      for (const u of late) await joinOpen(store, e, u, T0 + 1, rules({ paused: true }));
      const lateNumbers = await Promise.all(late.map(async (u) => (await store.place(e, u))!.number));
      assert.deepEqual(
        lateNumbers,
        Array.from({ length: 10 }, (_, i) => 51 + i),
        'later arrivals follow in arrival order',
      );
      const c = await store.counters(e);
      assert.equal(c.preQueued, 0);
      assert.equal(c.issued, 60);
    });

    it('gives the same order as shuffle.ts for the same seed (one algorithm in both stores)', async () => {
      const e = newEvent();
      const pre = users(200, 'seeded');
      await prequeue(store, e, pre);
      const seed = newShuffleSeed();
      await store.shuffle(e, seed);
      const expected = shuffleInPlace([...pre], seed);
      const byNumber = new Array<string>(200);
      for (const u of pre) byNumber[(await store.place(e, u))!.number! - 1] = u;
      assert.deepEqual(byNumber, expected);
    });

    it('shuffles exactly once when two processes race to do it', async () => {
      for (let round = 0; round < 20; round++) {
        const e = newEvent();
        const pre = users(30, 'race');
        await prequeue(store, e, pre);
        const results = await Promise.all([
          store.shuffle(e, newShuffleSeed()),
          second.shuffle(e, newShuffleSeed()),
          store.shuffle(e, newShuffleSeed()),
        ]);
        assert.equal(results.filter((r) => r === 30).length, 1, `round ${round}: ${results.join(',')}`);
        assert.equal(results.filter((r) => r === null).length, 2);
        const numbers = await Promise.all(pre.map(async (u) => (await second.place(e, u))!.number));
        assert.equal(new Set(numbers).size, 30);
        assert.equal((await store.counters(e)).issued, 30);
      }
    });

    it('shuffles uniformly: every order of a 4-buyer pre-queue is equally likely (chi-square, 24 cells)', async () => {
      const runs = 4800;
      const counts = new Map<string, number>();
      const batch = 200;
      for (let start = 0; start < runs; start += batch) {
        await Promise.all(
          Array.from({ length: batch }, async () => {
            const e = newEvent();
            const pre = ['a', 'b', 'c', 'd'];
            for (const u of pre) await store.join(e, u, T0 - 1, 'pre', RULES);
            await store.shuffle(e, newShuffleSeed());
            const order = new Array<string>(4);
            for (const u of pre) order[(await store.place(e, u))!.number! - 1] = u;
            const key = order.join('');
            counts.set(key, (counts.get(key) ?? 0) + 1);
          }),
        );
      }
      assert.equal(counts.size, 24, 'every permutation occurs');
      const stat = chiSquare([...counts.values()], runs);
      // df = 23; P(chi2 > 57.07) = 0.0001, so a fair shuffle fails one run in 10,000. A biased one
      // (the naive swap-with-any-index, which favours some orders by up to 50 %) scored 164 in a trial.
      assert.ok(stat < 57.07, `chi-square ${stat.toFixed(1)} over 24 permutations`);
    });

    it('admits in number order exactly: 400 shuffled and 200 later arrivals, two processes ticking and joining at once', async () => {
      const e = newEvent();
      const pre = users(400, 'fifo');
      await Promise.all(pre.map((u, i) => (i % 2 ? store : second).join(e, u, T0 - 1000, 'pre', RULES)));
      await Promise.all([store.shuffle(e, newShuffleSeed()), second.shuffle(e, newShuffleSeed())]);
      const late = users(200, 'late');
      const r = rules({ admitPerMinute: 12_000, maxActive: 100_000 });
      const everyone = [...pre, ...late];
      const admitted = new Map<string, { at: number; number: number }>();
      let now = T0;
      for (let step = 0; step < 40 && admitted.size < everyone.length; step++) {
        now += 300; // 12,000/min = 60 tokens per 300 ms
        // Later arrivals keep coming while both processes' tickers step at the same moment.
        await Promise.all([
          ...late.slice(step * 20, step * 20 + 20).map((u, i) => (i % 2 ? store : second).join(e, u, now, 'open', r)),
          store.advance(e, now, r),
          second.advance(e, now, r),
        ]);
        const serving = (await store.counters(e)).serving;
        const places = await Promise.all(everyone.map(async (u) => [u, await store.place(e, u)] as const));
        for (const [u, p] of places) {
          if (!p) continue; // a later arrival who has not come yet
          const mark = p.mark;
          const isAdmitted = mark.kind === 'admitted' || mark.kind === 'claimed'; // claimed: admitted on joining
          assert.equal(isAdmitted, p.number! <= serving, `number ${p.number} vs serving ${serving}`);
          if (isAdmitted && !admitted.has(u)) admitted.set(u, { at: mark.at, number: p.number! });
        }
      }
      assert.equal(admitted.size, 600);
      // Everyone admitted at an earlier moment holds a lower number than everyone admitted later.
      const order = [...admitted.values()].sort((a, b) => a.at - b.at || a.number - b.number);
      assert.deepEqual(
        order.map((a) => a.number),
        Array.from({ length: 600 }, (_, i) => i + 1),
        'admission order = number order',
      );
      assert.ok(new Set(order.map((a) => a.at)).size >= 10, 'admitted over many steps');
    });

    it('advances evenly at the configured rate, never a minute at once', async () => {
      const e = newEvent();
      await openSale(store, e);
      const paused = rules({ paused: true });
      for (const u of users(200, 'rate')) await joinOpen(store, e, u, T0, paused);
      const r = rules({ admitPerMinute: 120, maxActive: 1000 });
      await store.advance(e, T0, paused);
      let now = T0;
      let total = 0;
      let most = 0;
      for (let i = 0; i < 300; i++) {
        now += 200;
        const res = await store.advance(e, now, r);
        total += res.admitted;
        most = Math.max(most, res.admitted);
      }
      // 60 s at 120/min: 120, plus what the bucket starts with (one second's worth plus one: 3).
      assert.ok(total >= 120 && total <= 123, `admitted ${total}`);
      assert.ok(most <= 3, `at most one second's worth plus one in one step, saw ${most}`);
    });

    it('admits a joiner at once when nobody waits and both limits have room', async () => {
      const e = newEvent();
      await openSale(store, e);
      const a = await joinOpen(store, e, 'usr_a', T0, rules({ maxActive: 1 }));
      assert.equal(a.place.mark.kind, 'claimed', 'admitted, and here to take the turn');
      assert.equal(a.place.serving, 1);
      const b = await joinOpen(store, e, 'usr_b', T0 + 1, rules({ maxActive: 1 }));
      assert.equal(b.place.mark.kind, 'none', 'maxActive is full');
      const c = await joinOpen(store, e, 'usr_c', T0 + 2, rules({ paused: true }));
      assert.equal(c.place.mark.kind, 'none');
    });

    it('never lets active exceed maxActive under concurrent joins, ticks, claims and finishes from two processes', async () => {
      const e = newEvent();
      await openSale(store, e);
      const maxActive = 7;
      const r = rules({ admitPerMinute: 60_000, maxActive, claimMs: 50 });
      const ids = users(150, 'cap');
      let now = T0;
      const ops: Promise<unknown>[] = [];
      for (const [i, u] of ids.entries()) {
        now += 3;
        const s = i % 2 === 0 ? store : second;
        ops.push(s.join(e, u, now, 'open', r));
        ops.push(s.advance(e, now, r));
        if (i % 3 === 0) ops.push(s.claim(e, ids[Math.max(0, i - 5)]!, now, r));
        if (i % 5 === 0) ops.push(s.finish(e, ids[Math.max(0, i - 8)]!));
        if (i % 10 === 0) {
          ops.push(s.counters(e).then((c) => assert.ok(c.active <= maxActive, `active ${c.active}`)));
        }
      }
      await Promise.all(ops);
      const places = await Promise.all(ids.map((u) => store.place(e, u)));
      const active = places.filter((p) => p && (p.mark.kind === 'admitted' || p.mark.kind === 'claimed')).length;
      assert.ok(active <= maxActive, `active marks ${active}`);
      assert.equal((await store.counters(e)).active, active);
    });

    it('expires no-shows after claimSeconds and gives their slots to the next buyers', async () => {
      const e = newEvent();
      await openSale(store, e);
      const r = rules({ maxActive: 2, claimMs: 1000, admitPerMinute: 6000 });
      const ids = users(5, 'noshow');
      for (const u of ids) await joinOpen(store, e, u, T0, rules({ paused: true }));
      let res = await store.advance(e, T0 + 100, r);
      assert.equal(res.admitted, 2);
      assert.equal(await store.claim(e, ids[0]!, T0 + 500, r), 'ok');
      res = await store.advance(e, T0 + 1100, r);
      assert.equal(res.expired, 1, 'the one who never claimed');
      assert.equal(res.admitted, 1, 'the slot is reused at once');
      assert.equal((await store.place(e, ids[1]!))!.mark.kind, 'expired');
      assert.equal((await store.place(e, ids[2]!))!.mark.kind, 'admitted');
      assert.equal(await store.claim(e, ids[1]!, T0 + 1200, r), 'expired');
      // A claim that arrives after the deadline but before the ticker expires it inline.
      assert.equal(await store.claim(e, ids[2]!, T0 + 1100 + 1000, r), 'expired');
      const c = await store.counters(e);
      assert.equal(c.noShows, 2);
      assert.equal(c.active, 1);
    });

    it('reads a place and claims an admitted turn in one step, or expires one left unclaimed too long', async () => {
      const e = newEvent();
      await openSale(store, e);
      const r = rules({ maxActive: 2, claimMs: 1000, admitPerMinute: 6000, admissionMs: 5000 });
      const ids = users(3, 'claimplace');
      for (const u of ids) await joinOpen(store, e, u, T0, rules({ paused: true }));
      assert.equal((await store.advance(e, T0 + 100, r)).admitted, 2);
      const admitted = (await store.place(e, ids[0]!))!.mark;
      assert.deepEqual(admitted, { kind: 'admitted', at: T0 + 100 });
      // Claimed since its admission, from another process; reading it again changes nothing.
      const claimed = await second.claimPlace(e, ids[0]!, T0 + 500, r);
      assert.deepEqual(claimed, { number: 1, mark: { kind: 'claimed', at: T0 + 100 }, serving: 2 });
      assert.deepEqual(await store.place(e, ids[0]!), claimed);
      assert.deepEqual(await store.claimPlace(e, ids[0]!, T0 + 600, r), claimed);
      // A waiting buyer's place is only read.
      assert.deepEqual(await store.claimPlace(e, ids[2]!, T0 + 600, r), { number: 3, mark: { kind: 'none' }, serving: 2 });
      // Unclaimed past claimMs: expired here and now, its slot freed at once.
      assert.equal((await store.claimPlace(e, ids[1]!, T0 + 100 + 1000, r))!.mark.kind, 'expired');
      let c = await store.counters(e);
      assert.equal(c.noShows, 1);
      assert.equal(c.active, 1);
      // The claimed admission runs admissionMs from its admission, as claim makes it.
      assert.equal((await store.advance(e, T0 + 5099, r)).expired, 0);
      assert.equal((await store.advance(e, T0 + 5100, r)).expired, 1);
      c = await store.counters(e);
      assert.equal(c.timedOut, 1);
      assert.equal(await store.claimPlace(e, 'usr_never_joined', T0, r), null);
    });

    it('logs every admission, at once or by a step, in queue-number order after the shuffle', async () => {
      const e = newEvent();
      const early = users(40, 'log');
      await prequeue(store, e, early);
      await store.shuffle(e, newShuffleSeed());
      const r = rules({ admitPerMinute: 600, maxActive: 25 });
      let now = T0;
      for (let i = 0; i < 12; i++) {
        now += 200;
        await second.advance(e, now, r);
      }
      const late = users(5, 'late');
      for (const u of late) await joinOpen(store, e, u, now, r);
      assert.deepEqual(await store.admissions(e, 0, 0), []);
      const log = await store.admissions(e, 0, 1000);
      assert.equal(log.length, (await store.counters(e)).admitted);
      assert.ok(log.length >= 20, `admitted ${log.length}`);
      assert.deepEqual(
        log.map((x) => x.number),
        log.map((_, i) => i + 1),
      );
      for (const entry of log) assert.equal((await store.place(e, entry.userId))!.number, entry.number);
      assert.deepEqual(await store.admissions(e, 3, 2), log.slice(3, 5));
    });

    it('ends a claimed admission after admissionMs', async () => {
      const e = newEvent();
      await openSale(store, e);
      const r = rules({ claimMs: 1000, admissionMs: 5000 });
      await joinOpen(store, e, 'usr_a', T0, r);
      assert.equal(await store.claim(e, 'usr_a', T0 + 10, r), 'ok');
      assert.equal((await store.advance(e, T0 + 4999, r)).expired, 0);
      assert.equal((await store.advance(e, T0 + 5000, r)).expired, 1);
      assert.equal(await store.claim(e, 'usr_a', T0 + 5001, r), 'expired');
      assert.equal((await store.counters(e)).timedOut, 1);
    });

    it('stops admitting while paused and starts again on resume', async () => {
      const e = newEvent();
      await openSale(store, e);
      const paused = rules({ paused: true, admitPerMinute: 600 });
      for (const u of users(30, 'pause')) await joinOpen(store, e, u, T0, paused);
      let now = T0;
      for (let i = 0; i < 20; i++) {
        now += 500;
        assert.equal((await store.advance(e, now, paused)).admitted, 0);
      }
      const open = rules({ admitPerMinute: 600 });
      let admitted = 0;
      for (let i = 0; i < 10; i++) {
        now += 200;
        admitted += (await store.advance(e, now, open)).admitted;
      }
      // 2 s at 10/s plus at most what the bucket holds (11): the pause earned nothing more.
      assert.ok(admitted >= 20 && admitted <= 31, `admitted ${admitted}`);
    });

    it('passes over buyers who left while waiting, without using a turn; leaving frees an active slot', async () => {
      const e = newEvent();
      await openSale(store, e);
      const ids = users(6, 'leave');
      for (const u of ids) await joinOpen(store, e, u, T0, rules({ paused: true }));
      assert.equal(await store.leave(e, ids[0]!), true);
      assert.equal(await store.leave(e, ids[1]!), true);
      const r = rules({ maxActive: 2 });
      const res = await store.advance(e, T0 + 1000, r);
      assert.equal(res.admitted, 2);
      assert.equal(res.serving, 4);
      assert.equal((await store.place(e, ids[2]!))!.mark.kind, 'admitted');
      assert.equal(await store.leave(e, ids[2]!), true);
      assert.equal(await store.claim(e, ids[2]!, T0 + 1001, r), 'not-admitted', 'leaving revokes the admission');
      assert.equal((await store.advance(e, T0 + 2000, r)).admitted, 1, 'its slot goes to the next');
      assert.equal(await store.leave(e, 'usr_never_joined'), false);
    });

    it('frees the slot when the buyer finishes', async () => {
      const e = newEvent();
      await openSale(store, e);
      const r = rules({ maxActive: 1 });
      await joinOpen(store, e, 'usr_a', T0, r);
      await joinOpen(store, e, 'usr_b', T0, r);
      assert.equal((await store.advance(e, T0 + 1000, r)).admitted, 0);
      assert.equal(await store.finish(e, 'usr_a'), true);
      assert.equal(await store.finish(e, 'usr_a'), false, 'idempotent');
      assert.equal((await store.place(e, 'usr_a'))!.mark.kind, 'finished');
      assert.equal((await store.advance(e, T0 + 2000, r)).admitted, 1);
      assert.equal(await store.claim(e, 'usr_a', T0 + 2001, r), 'not-admitted');
    });

    it('lets one owner at a time hold the ticker lease', async () => {
      const e = newEvent();
      assert.equal(await store.lease(e, 'p1', 60_000), true);
      assert.equal(await second.lease(e, 'p2', 60_000), false);
      assert.equal(await store.lease(e, 'p1', 60_000), true, 'renewal');
    });

    it(
      'loads its scripts again when Redis has forgotten them (a restart, SCRIPT FLUSH)',
      { skip: target === 'memory' },
      async () => {
        await clients[0]!.client.scriptFlush();
        const e = newEvent();
        await openSale(store, e);
        assert.equal((await joinOpen(store, e, 'usr_after_flush', T0)).created, true);
      },
    );

    it("keeps each process's latest report on admission back-off's boards, and drops the stale ones", async () => {
      const now = T0 + 5_000_000;
      const [a, b] = users(2, 'api');
      const sorted = async (s: WaitingRoomStore, board: 'load' | 'factor', at: number) =>
        (await s.readings(board, at, 2000)).sort((x, y) => x - y);
      for (const board of ['load', 'factor'] as const) await store.readings(board, now + 1e9, 0); // drops what an earlier run left
      assert.deepEqual(await sorted(second, 'load', now), [], 'nobody reported');
      await store.report('load', a!, 40, now - 500);
      await second.report('load', b!, 120, now - 2500);
      assert.deepEqual(await sorted(second, 'load', now), [40], 'a report older than the age given does not count');
      await store.report('load', b!, 90.5, now);
      assert.deepEqual(await sorted(store, 'load', now), [40, 90.5], "each process's latest report");
      await second.report('load', a!, 10, now);
      assert.deepEqual(await sorted(store, 'load', now), [10, 90.5], "a new report replaces the process's last one");
      await second.report('factor', a!, 0.75, now);
      assert.deepEqual(await sorted(store, 'factor', now), [0.75], 'the boards are apart');
      assert.deepEqual(await sorted(store, 'load', now), [10, 90.5]);
      assert.deepEqual(await sorted(store, 'load', now + 2001), [], 'every report stale: none');
      assert.deepEqual(await sorted(second, 'load', now), [], 'and the stale reports are gone');
      assert.deepEqual(await sorted(second, 'factor', now), [0.75], 'from their board only');
      // One source's report: the organizer's view reads an event's factor by the event's id.
      assert.equal(await store.reading('factor', a!, now, 2000), 0.75);
      assert.equal(await second.reading('factor', b!, now, 2000), null, 'never reported');
      assert.equal(await store.reading('factor', a!, now + 2001, 2000), null, 'too old');
    });

    it('keeps the set of events with a queue', async () => {
      const e = newEvent();
      await store.addQueue(e);
      assert.ok((await second.queues()).includes(e));
      await store.removeQueue(e);
      assert.ok(!(await store.queues()).includes(e));
    });

    it("forgets an event's queue after the retention it is given", async () => {
      const e = newEvent();
      await openSale(store, e);
      assert.equal((await joinOpen(store, e, 'usr_retired', T0)).created, true);
      await store.expireQueue(e, 100);
      assert.ok(await store.place(e, 'usr_retired'), 'kept until the retention runs out');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(await store.place(e, 'usr_retired'), null);
      assert.equal((await store.counters(e)).joined, 0);
    });
  });
}
