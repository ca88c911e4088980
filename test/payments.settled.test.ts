import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../src/app.ts';
import {
  createMemorySettledCharges,
  createRedisSettledCharges,
  SETTLED_PREFIX,
  type SettledCharges,
} from '../src/modules/payments/settled-charges.ts';
import { signWebhook } from '../src/modules/payments/webhook-signature.ts';
import type { Db, Queryable } from '../src/platform/db.ts';
import type { Redis } from '../src/platform/redis.ts';
import { freshDb, SECRET, testConfig } from './helpers.ts';
import {
  admit,
  appShapes,
  bulkBuyers,
  connectTestRedis,
  holdAndOrder,
  onSaleEvent,
  storeShapes,
  TEST_REDIS_URL,
} from './inventory.helpers.ts';

const stores = await storeShapes();
const charge = () => `ord_${randomBytes(6).toString('hex')}:key`;

for (const store of stores) {
  describe(`settled charges (${store})`, () => {
    let redis: Redis | undefined;
    let now = 1_000_000;
    let marks: SettledCharges;
    before(async () => {
      if (store === 'redis') redis = await connectTestRedis();
      marks = redis ? createRedisSettledCharges(redis, 60) : createMemorySettledCharges({ now: () => now, ttlSeconds: 60 });
    });
    after(async () => redis?.quit());

    it('knows a charge once it is added, under its own gateway only', async () => {
      const key = charge();
      assert.equal(await marks.has('test', key), false);
      await marks.add('test', key);
      assert.equal(await marks.has('test', key), true);
      assert.equal(await marks.has('other', key), false);
      assert.equal(await marks.has('test', charge()), false);
      await marks.add('test', key); // twice is once
      assert.equal(await marks.has('test', key), true);
    });

    it('forgets a mark after its time', async () => {
      const key = charge();
      await marks.add('test', key);
      if (redis) {
        const ttl = await redis.client.ttl(`${SETTLED_PREFIX}test:${key}`);
        assert.ok(ttl > 0 && ttl <= 60, `TTL ${ttl}`);
        const short = createRedisSettledCharges(redis, 1);
        const brief = charge();
        await short.add('test', brief);
        assert.equal(await short.has('test', brief), true);
        await new Promise((resolve) => setTimeout(resolve, 2100));
        assert.equal(await short.has('test', brief), false);
      } else {
        now += 59_000;
        assert.equal(await marks.has('test', key), true);
        now += 2_000;
        assert.equal(await marks.has('test', key), false);
      }
    });
  });
}

describe('settled charges in memory: bounded', () => {
  it('keeps at most its cap, dropping the oldest first', async () => {
    const marks = createMemorySettledCharges({ max: 3 });
    const keys = Array.from({ length: 5 }, charge);
    for (const key of keys) await marks.add('test', key);
    const known = await Promise.all(keys.map((key) => marks.has('test', key)));
    assert.deepEqual(known, [false, false, true, true, true]);
  });
});

/** The database, with every statement sent to it (outside or inside a transaction) written down. */
function watched(db: Db, seen: string[]): Db {
  const watch = (q: Queryable): Queryable => ({
    query: <T>(sql: string, params?: readonly unknown[]) => {
      seen.push(sql);
      return q.query<T>(sql, params);
    },
    exec: (sql: string) => q.exec(sql),
  });
  return { ...watch(db), kind: db.kind, tx: (fn) => db.tx((q) => fn(watch(q))), ping: () => db.ping(), close: () => db.close() };
}

// Memory marks over PGlite (the embedded shape), Redis marks over PostgreSQL (the scale-out shape).
const combos = await appShapes();

for (const { store, db: shape } of combos) {
  describe(`the gateway's confirming webhook for a settled charge (${store} marks, ${shape})`, () => {
    const env = { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1', ...(store === 'redis' ? { REDIS_URL: TEST_REDIS_URL } : {}) };
    let db: Db;
    let drop: () => Promise<void>;
    const seen: string[] = [];
    const apps: Awaited<ReturnType<typeof buildApp>>[] = [];
    /** Another API process over the same database (and the same Redis, on that shape). */
    async function apiProcess() {
      const app = await buildApp({ config: testConfig(env), db: watched(db, seen), secret: SECRET, logger: false });
      await app.ready();
      apps.push(app);
      return app;
    }
    before(async () => {
      ({ db, drop } = await freshDb(shape));
    });
    after(async () => {
      for (const app of apps) await app.close();
      await drop();
    });

    const paymentReads = () => seen.filter((sql) => /\bFROM payments\b/.test(sql));
    async function deliver(app: Awaited<ReturnType<typeof buildApp>>, body: string) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/payments/webhook',
        headers: {
          'content-type': 'application/json',
          'tm-signature': signWebhook('webhook-secret-for-tests', body, Math.floor(Date.now() / 1000)),
        },
        payload: body,
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ outcome: string }>().outcome;
    }

    it('is answered without reading the payment, by this process and (with Redis) by every other', async () => {
      const app = await apiProcess();
      const event = await onSaleEvent(app);
      const [buyer] = await bulkBuyers(app, 1);
      await admit(app, buyer!, event.eventId);
      const order = await holdAndOrder(app, buyer!, event.eventId, [event.seats[0]!.id], `order-${charge()}`);
      const paid = await app.inject({
        method: 'POST',
        url: `/api/orders/${order.id}/pay`,
        headers: { ...buyer!.headers, 'idempotency-key': `pay-${charge()}` },
        payload: { card: { number: '4242424242424242', expMonth: 12, expYear: 2040, cvc: '123' } },
      });
      assert.equal(paid.statusCode, 200, paid.body);
      // The gateway's own delivery held back: this test delivers its webhook by hand.
      await db.query("UPDATE test_gateway_webhooks SET deliver_after = now() + interval '1 hour' WHERE delivered_at IS NULL");
      const [hook] = await db.query<{ body: string }>(
        'SELECT w.body FROM test_gateway_webhooks w JOIN test_gateway_charges c ON c.id = w.charge_id WHERE c.order_id = $1',
        [order.id],
      );
      assert.ok(hook, 'the charge has its confirming webhook');
      assert.equal(JSON.parse(hook.body).type, 'charge.succeeded');

      // The mark is written after the pay request's answer, without it waiting.
      let outcome = '';
      for (let i = 0; i < 50; i++) {
        seen.length = 0;
        outcome = await deliver(app, hook.body);
        if (paymentReads().length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(outcome, 'ignored');
      assert.deepEqual(paymentReads(), [], 'no read of the payment');

      // A process that did not settle it: Redis tells it; its own memory does not, and it reads once.
      const other = await apiProcess();
      seen.length = 0;
      assert.equal(await deliver(other, hook.body), 'ignored');
      if (store === 'redis') assert.deepEqual(paymentReads(), []);
      else {
        assert.equal(paymentReads().length, 1, 'one read where the mark is not known');
        seen.length = 0;
        assert.equal(await deliver(other, hook.body), 'ignored');
        assert.deepEqual(paymentReads(), [], 'the read left a mark behind');
      }

      // The order is paid once, with its one ticket, whatever was delivered.
      const [row] = await db.query<{ status: string; tickets: number }>(
        'SELECT o.status, (SELECT count(*)::int FROM tickets t WHERE t.order_id = o.id) AS tickets FROM orders o WHERE o.id = $1',
        [order.id],
      );
      assert.deepEqual(row, { status: 'paid', tickets: 1 });
    });

    if (store === 'redis') {
      it('reads the payment when Redis lost the mark, and answers the same', async () => {
        const app = apps[0]!;
        const [hook] = await db.query<{ body: string }>('SELECT body FROM test_gateway_webhooks LIMIT 1');
        const key = JSON.parse(hook!.body).data.charge.idempotencyKey as string;
        const redis = await connectTestRedis();
        try {
          await redis.client.del(`${SETTLED_PREFIX}test:${key}`);
          seen.length = 0;
          assert.equal(await deliver(app, hook!.body), 'ignored');
          assert.equal(paymentReads().length, 1);
        } finally {
          await redis.quit();
        }
      });
    }
  });
}
