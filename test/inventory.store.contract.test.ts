import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setBits, testBit } from '../src/modules/inventory/bitmap.ts';
import type { AvailabilityDelta, InventorySeed, InventoryStore } from '../src/modules/inventory/inventory.store.ts';
import { createMemoryInventoryStore } from '../src/modules/inventory/store.memory.ts';
import { createRedisInventoryStore } from '../src/modules/inventory/store.redis.ts';
import type { Redis } from '../src/platform/redis.ts';
import { connectTestRedis, randomEventId, storeShapes, waitFor } from './inventory.helpers.ts';

const shapes = await storeShapes();
const HOUR = 3_600_000;

function seed(overrides: Partial<InventorySeed> = {}): InventorySeed {
  return { seatCount: 100, taken: [], ga: { sec_ga: { capacity: 10, remaining: 10 } }, ...overrides };
}

for (const shape of shapes) {
  describe(`inventory store contract (${shape})`, () => {
    let store: InventoryStore;
    let redis: Redis | undefined;
    before(async () => {
      if (shape === 'memory') store = createMemoryInventoryStore();
      else {
        redis = await connectTestRedis();
        store = await createRedisInventoryStore(redis);
      }
    });
    after(async () => {
      await store.close();
      await redis?.quit();
    });

    async function loaded(s = seed()) {
      const eventId = randomEventId();
      assert.equal(await store.load(eventId, s, 'missing'), true);
      return eventId;
    }
    const hold = (
      eventId: string,
      userId: string,
      seats: number[],
      ga: Record<string, number> = {},
      now = Date.now(),
      holdMs = HOUR,
    ) => store.setHold(eventId, { userId, seats, ga, now, holdMs });
    async function heldBy(eventId: string, userId: string) {
      const h = await store.getHold(eventId, userId, Date.now());
      assert.ok(h === null || !('code' in h));
      return h;
    }
    async function bitmapSet(eventId: string) {
      const snap = await store.snapshot(eventId);
      assert.ok(!('code' in snap));
      return setBits(snap.bitmap, snap.seatCount);
    }

    it('answers NOT_LOADED for every call on an event it has not loaded', async () => {
      const eventId = randomEventId();
      assert.deepEqual(await hold(eventId, 'u1', [1]), { ok: false, code: 'NOT_LOADED' });
      assert.deepEqual(await store.getHold(eventId, 'u1', Date.now()), { ok: false, code: 'NOT_LOADED' });
      assert.deepEqual(await store.snapshot(eventId), { ok: false, code: 'NOT_LOADED' });
      assert.deepEqual(await store.commitHold(eventId, 'u1', Date.now()), { ok: false, code: 'NOT_LOADED' });
      assert.deepEqual(await store.releaseSeats(eventId, [1], {}), { ok: false, code: 'NOT_LOADED' });
      assert.deepEqual(await store.listHolds(eventId), { ok: false, code: 'NOT_LOADED' });
    });

    it('forgets an event after the retention it is given (and can load it again)', async () => {
      const eventId = await loaded();
      assert.equal((await hold(eventId, 'u1', [1])).ok, true);
      await store.expire(eventId, 100);
      assert.ok(!('code' in (await store.snapshot(eventId))), 'kept until the retention runs out');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(await store.snapshot(eventId), { ok: false, code: 'NOT_LOADED' });
      assert.equal(await store.load(eventId, seed(), 'missing'), true);
    });

    it('loads an event once when two loads race, from the seed', async () => {
      const eventId = randomEventId();
      const s = seed({ seatCount: 20, taken: [0, 9, 19], ga: { sec_ga: { capacity: 10, remaining: 7 } } });
      const results = await Promise.all([store.load(eventId, s, 'missing'), store.load(eventId, seed(), 'missing')]);
      assert.deepEqual(results.sort(), [false, true]);
      const snap = await store.snapshot(eventId);
      assert.ok(!('code' in snap));
      assert.equal(snap.seatCount, 20);
      assert.equal(snap.bitmap.length, 3);
      assert.deepEqual(setBits(snap.bitmap, 20), [0, 9, 19]);
      assert.deepEqual(snap.ga, { sec_ga: 7 });
    });

    it('orders bits least significant first: seat 0 is 0x01 of byte 0, seat 9 is 0x02 of byte 1', async () => {
      const eventId = await loaded(seed({ seatCount: 16 }));
      await hold(eventId, 'u1', [0, 9]);
      const snap = await store.snapshot(eventId);
      assert.ok(!('code' in snap));
      assert.deepEqual([...snap.bitmap], [0x01, 0x02]);
    });

    it('holds free seats and shows them taken, with the expiry now + holdMs', async () => {
      const eventId = await loaded();
      const now = Date.now();
      const result = await hold(eventId, 'u1', [3, 4, 5], {}, now, 60_000);
      assert.ok(result.ok);
      assert.equal(result.hold?.expiresAt, now + 60_000);
      assert.deepEqual(await bitmapSet(eventId), [3, 4, 5]);
      assert.deepEqual(await store.getHold(eventId, 'u1', now), { seats: [3, 4, 5], ga: {}, expiresAt: now + 60_000 });
      assert.equal(await store.getHold(eventId, 'u2', now), null);
    });

    it('rejects a hold on a seat someone else holds, names exactly the lost seats and leaves the previous hold unchanged', async () => {
      const eventId = await loaded();
      await hold(eventId, 'u1', [10, 11]);
      const before = await hold(eventId, 'u2', [20]);
      assert.ok(before.ok);
      const result = await hold(eventId, 'u2', [11, 12, 20, 10]);
      assert.deepEqual(result, { ok: false, code: 'SEATS_TAKEN', seats: [11, 10] });
      assert.deepEqual((await heldBy(eventId, 'u2'))?.seats, [20]);
      assert.deepEqual(await bitmapSet(eventId), [10, 11, 20]);
    });

    it('changes a hold: seats left out are released, the expiry does not move', async () => {
      const eventId = await loaded();
      const t0 = Date.now();
      const first = await hold(eventId, 'u1', [1, 2, 3], {}, t0, 60_000);
      assert.ok(first.ok);
      const second = await hold(eventId, 'u1', [3, 4], {}, t0 + 5_000, 60_000);
      assert.ok(second.ok);
      assert.equal(second.hold?.expiresAt, t0 + 60_000);
      assert.ok(second.version > first.version);
      assert.deepEqual(await bitmapSet(eventId), [3, 4]);
    });

    it('releases the hold when asked for nothing', async () => {
      const eventId = await loaded();
      await hold(eventId, 'u1', [7], { sec_ga: 2 });
      const result = await hold(eventId, 'u1', []);
      assert.ok(result.ok);
      assert.equal(result.hold, null);
      assert.equal(await store.getHold(eventId, 'u1', Date.now()), null);
      assert.deepEqual(await bitmapSet(eventId), []);
      const snap = await store.snapshot(eventId);
      assert.ok(!('code' in snap));
      assert.deepEqual(snap.ga, { sec_ga: 10 });
    });

    it('holds GA places from the remaining count and never takes it below zero', async () => {
      const eventId = await loaded();
      assert.ok((await hold(eventId, 'u1', [], { sec_ga: 6 })).ok);
      assert.deepEqual(await hold(eventId, 'u2', [], { sec_ga: 5 }), {
        ok: false,
        code: 'GA_SHORT',
        section: 'sec_ga',
        remaining: 4,
      });
      assert.ok((await hold(eventId, 'u2', [], { sec_ga: 4 })).ok);
      assert.deepEqual(await hold(eventId, 'u3', [], { sec_ga: 1 }), {
        ok: false,
        code: 'GA_SHORT',
        section: 'sec_ga',
        remaining: 0,
      });
      // Shrinking my own quantity gives places back; growing it needs them free.
      assert.ok((await hold(eventId, 'u1', [], { sec_ga: 2 })).ok);
      assert.ok((await hold(eventId, 'u3', [], { sec_ga: 3 })).ok);
      const snap = await store.snapshot(eventId);
      assert.ok(!('code' in snap));
      assert.deepEqual(snap.ga, { sec_ga: 1 });
      assert.deepEqual(await hold(eventId, 'u1', [], { sec_unknown: 1 }), {
        ok: false,
        code: 'GA_SHORT',
        section: 'sec_unknown',
        remaining: 0,
      });
    });

    it('fails the whole hold when its GA part is short, seats included', async () => {
      const eventId = await loaded(seed({ ga: { sec_ga: { capacity: 10, remaining: 1 } } }));
      assert.equal((await hold(eventId, 'u1', [5], { sec_ga: 2 })).ok, false);
      assert.deepEqual(await bitmapSet(eventId), []);
      assert.equal(await store.getHold(eventId, 'u1', Date.now()), null);
    });

    it('commits a hold: the record goes, its seats and places stay taken and expiry never frees them', async () => {
      const eventId = await loaded();
      const now = Date.now();
      await hold(eventId, 'u1', [1, 2], { sec_ga: 3 }, now, 1_000);
      const committed = await store.commitHold(eventId, 'u1', now);
      assert.deepEqual(committed, { ok: true, hold: { seats: [1, 2], ga: { sec_ga: 3 }, expiresAt: now + 1_000 } });
      assert.equal(await store.getHold(eventId, 'u1', now), null);
      assert.deepEqual(await store.commitHold(eventId, 'u1', now), { ok: false, code: 'NO_HOLD' });
      assert.equal(await store.sweep(eventId, now + 10_000), 0);
      assert.deepEqual(await bitmapSet(eventId), [1, 2]);
      const snap = await store.snapshot(eventId);
      assert.ok(!('code' in snap));
      assert.deepEqual(snap.ga, { sec_ga: 7 });
    });

    it('refuses to commit an expired hold', async () => {
      const eventId = await loaded();
      const now = Date.now();
      await hold(eventId, 'u1', [1], {}, now, 1_000);
      assert.deepEqual(await store.commitHold(eventId, 'u1', now + 1_000), { ok: false, code: 'HOLD_EXPIRED' });
    });

    it('releases the seats and places of an order, never above capacity', async () => {
      const eventId = await loaded(seed({ taken: [4, 5], ga: { sec_ga: { capacity: 10, remaining: 8 } } }));
      const result = await store.releaseSeats(eventId, [4, 5], { sec_ga: 5 });
      assert.ok(result.ok);
      assert.deepEqual(await bitmapSet(eventId), []);
      const snap = await store.snapshot(eventId);
      assert.ok(!('code' in snap));
      assert.deepEqual(snap.ga, { sec_ga: 10 });
    });

    it('sweeps expired holds, and a buyer whose hold expired gets a new expiry', async () => {
      const eventId = await loaded();
      const now = Date.now();
      await hold(eventId, 'old', [1, 2], { sec_ga: 2 }, now, 1_000);
      await hold(eventId, 'new', [3], {}, now, HOUR);
      await hold(eventId, 'again', [4], {}, now, 1_000);
      assert.equal(await store.getHold(eventId, 'old', now + 1_000), null);
      const renewed = await hold(eventId, 'again', [4, 5], {}, now + 2_000, 1_000);
      assert.ok(renewed.ok);
      assert.equal(renewed.hold?.expiresAt, now + 3_000);
      assert.equal(await store.sweep(eventId, now + 2_000), 1);
      assert.deepEqual(await bitmapSet(eventId), [3, 4, 5]);
      const snap = await store.snapshot(eventId);
      assert.ok(!('code' in snap));
      assert.deepEqual(snap.ga, { sec_ga: 10 });
    });

    it('frees expired holds with no call at all once the sweeper runs', async () => {
      const eventId = await loaded();
      await hold(eventId, 'u1', [8, 9], {}, Date.now(), 300);
      store.startSweeper(
        50,
        () => Date.now(),
        (err) => assert.fail(String(err)),
      );
      await waitFor(async () => (await bitmapSet(eventId)).length === 0, 2000);
    });

    it('rebuilds availability as seed plus live holds on replace', async () => {
      const eventId = await loaded();
      await hold(eventId, 'u1', [1], { sec_ga: 2 });
      assert.equal(
        await store.load(eventId, seed({ taken: [50], ga: { sec_ga: { capacity: 10, remaining: 9 } } }), 'replace'),
        true,
      );
      assert.deepEqual(await bitmapSet(eventId), [1, 50]);
      const snap = await store.snapshot(eventId);
      assert.ok(!('code' in snap));
      assert.deepEqual(snap.ga, { sec_ga: 7 });
      assert.deepEqual((await heldBy(eventId, 'u1'))?.seats, [1]);
    });

    it('counts the hold records of each event with holds', async () => {
      const eventId = await loaded();
      await hold(eventId, 'u1', [1]);
      await hold(eventId, 'u2', [2], { sec_ga: 1 });
      assert.equal((await store.holdCounts())[eventId], 2);
      await hold(eventId, 'u1', []);
      await hold(eventId, 'u2', []);
      assert.equal((await store.holdCounts())[eventId], undefined);
    });

    it('keeps working when Redis forgets its scripts (a restart or SCRIPT FLUSH)', { skip: shape !== 'redis' }, async () => {
      const eventId = await loaded();
      await redis!.client.scriptFlush();
      assert.ok((await hold(eventId, 'u1', [3])).ok);
      await redis!.client.scriptFlush();
      assert.deepEqual(await bitmapSet(eventId), [3]);
    });

    it('forgets an event on drop, as a flush would', async () => {
      const eventId = await loaded();
      await hold(eventId, 'u1', [1]);
      await store.drop(eventId);
      assert.deepEqual(await store.snapshot(eventId), { ok: false, code: 'NOT_LOADED' });
      assert.equal(await store.load(eventId, seed(), 'missing'), true);
      assert.deepEqual(await bitmapSet(eventId), []);
    });

    it('announces every change as a delta in version order, and a load as a reset', async () => {
      const eventId = await loaded();
      const deltas: AvailabilityDelta[] = [];
      let resets = 0;
      const unsubscribe = await store.subscribe(eventId, (m) => (m.kind === 'delta' ? deltas.push(m.delta) : (resets += 1)));
      const a = await hold(eventId, 'u1', [1, 2], { sec_ga: 1 });
      await hold(eventId, 'u1', [2, 3]);
      await hold(eventId, 'u1', [2, 3]); // no change, no delta
      await store.releaseSeats(eventId, [2], {});
      await store.load(eventId, seed(), 'replace');
      await waitFor(() => resets === 1);
      await unsubscribe();
      assert.ok(a.ok);
      assert.deepEqual(deltas, [
        { version: a.version, taken: [1, 2], freed: [], ga: { sec_ga: 9 } },
        { version: a.version + 1, taken: [3], freed: [1], ga: { sec_ga: 10 } },
        { version: a.version + 2, taken: [], freed: [2], ga: {} },
      ]);
    });

    it('never gives one seat to two buyers when 200 holds race for the same 20 seats', async () => {
      const eventId = await loaded();
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, n) => {
          const seats = [...new Set([n % 20, (n * 7) % 20, (n * 13 + 5) % 20])].sort((x, y) => x - y);
          return hold(eventId, `u${n}`, seats).then((r) => ({ user: `u${n}`, seats, r }));
        }),
      );
      const holds = await store.listHolds(eventId);
      assert.ok(!('code' in holds));
      const owner = new Map<number, string>();
      for (const [user, h] of holds) {
        for (const seat of h.seats) {
          assert.equal(owner.get(seat), undefined, `seat ${seat} held twice`);
          owner.set(seat, user);
        }
      }
      for (const { user, seats, r } of results) {
        if (r.ok) assert.deepEqual(holds.get(user)?.seats, seats);
        else {
          assert.equal(r.code, 'SEATS_TAKEN');
          if (r.code === 'SEATS_TAKEN') for (const lost of r.seats) assert.ok(seats.includes(lost) && owner.get(lost) !== user);
        }
      }
      const snap = await store.snapshot(eventId);
      assert.ok(!('code' in snap));
      for (let i = 0; i < 100; i++) assert.equal(testBit(snap.bitmap, i), owner.has(i), `bit ${i}`);
    });
  });
}
