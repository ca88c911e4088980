// Housekeeping: sessions, idempotency keys, outbox messages and the test gateway's webhooks past
// their use are deleted, a batch at a time; everything still of use stays.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../src/platform/db.ts';
import { createEmbeddedMaintenance, createHousekeeping } from '../src/workers/housekeeping.ts';
import { buildTestApp, dbShapes, freshDb, makeUser, type TestApp } from './helpers.ts';

const shapes = await dbShapes();

for (const shape of shapes) {
  describe(`housekeeping (${shape})`, () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
    });
    after(async () => t.close());

    const count = async (sql: string, params: unknown[] = []) => (await t.db.query<{ n: number }>(sql, params))[0]!.n;

    it('deletes only what is past its use, in batches, and a second sweep finds nothing', async () => {
      const u = await makeUser(t.app);
      const tag = u.id;
      // Sessions: 5 expired two days ago (gone), 1 expired an hour ago, and the live one of sign-up (kept).
      for (let i = 0; i < 5; i++) {
        await t.db.query(
          "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, now() - interval '9 days', now() - interval '2 days')",
          [`ses_old${i}_${tag}`, u.id],
        );
      }
      await t.db.query("INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, now() - interval '1 hour')", [
        `ses_recent_${tag}`,
        u.id,
      ]);
      // Idempotency keys: two days old (gone) and fresh (kept).
      for (const [key, age] of [
        ['old-1', '2 days'],
        ['old-2', '25 hours'],
        ['fresh', '1 hour'],
      ]) {
        await t.db.query(
          `INSERT INTO idempotency_keys (user_id, scope, key, request_hash, status_code, response, created_at)
           VALUES ($1, 'orders', $2, 'h', 201, '{}', now() - $3::interval)`,
          [u.id, key, age],
        );
      }
      // Outbox: published eight days ago (gone), published today and never published a month on (kept).
      const outbox = async (published: string | null, age: string) =>
        (
          await t.db.query<{ id: string }>(
            `INSERT INTO outbox (topic, payload, created_at, published_at)
             VALUES ('test.topic', jsonb_build_object('tag', $1::text), now() - $2::interval, now() - $3::interval) RETURNING id::text`,
            [tag, age, published],
          )
        )[0]!.id;
      const oldPublished = await outbox('8 days', '8 days');
      const newPublished = await outbox('1 hour', '1 hour');
      const neverPublished = await outbox(null, '30 days');
      // The test gateway's webhooks: delivered eight days ago (gone), pending (kept).
      await t.db.query(
        `INSERT INTO test_gateway_charges (id, idempotency_key, order_id, amount, currency, card_last4, status)
         VALUES ($1, $1, 'ord_x', 100, 'USD', '4242', 'succeeded')`,
        [`ch_${tag}`],
      );
      for (const [id, delivered] of [
        [`wh_old_${tag}`, '8 days'],
        [`wh_due_${tag}`, null],
      ]) {
        await t.db.query(
          `INSERT INTO test_gateway_webhooks (id, charge_id, type, body, deliver_after, delivered_at)
           VALUES ($1, $2, 'charge.succeeded', '{}', now(), now() - $3::interval)`,
          [id, `ch_${tag}`, delivered],
        );
      }

      const housekeeping = createHousekeeping({ db: t.db, batch: 2 });
      const swept = await housekeeping.sweepOnce();
      assert.ok(swept.sessions >= 5, JSON.stringify(swept));
      assert.ok(swept.idempotency_keys >= 2, JSON.stringify(swept));
      assert.ok(swept.outbox >= 1 && swept.test_gateway_webhooks >= 1, JSON.stringify(swept));

      assert.equal(await count('SELECT count(*)::int AS n FROM sessions WHERE id LIKE $1', [`ses_old%_${tag}`]), 0);
      assert.equal(await count('SELECT count(*)::int AS n FROM sessions WHERE id = $1', [`ses_recent_${tag}`]), 1);
      assert.equal(await count('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [u.id]), 2, 'the live one too');
      const keys = await t.db.query<{ key: string }>('SELECT key FROM idempotency_keys WHERE user_id = $1', [u.id]);
      assert.deepEqual(
        keys.map((k) => k.key),
        ['fresh'],
      );
      const left = await t.db.query<{ id: string }>("SELECT id::text FROM outbox WHERE payload->>'tag' = $1 ORDER BY id", [tag]);
      assert.deepEqual(
        left.map((r) => r.id),
        [newPublished, neverPublished],
      );
      assert.ok(!left.some((r) => r.id === oldPublished));
      const hooks = await t.db.query<{ id: string }>('SELECT id FROM test_gateway_webhooks WHERE charge_id = $1', [`ch_${tag}`]);
      assert.deepEqual(
        hooks.map((h) => h.id),
        [`wh_due_${tag}`],
      );
      // The signed-up user's session still works.
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/me', headers: u.auth })).statusCode, 200);

      const again = await housekeeping.sweepOnce();
      assert.deepEqual(again, { sessions: 0, idempotency_keys: 0, outbox: 0, test_gateway_webhooks: 0 });
    });
  });
}

// PGlite runs no autovacuum: the embedded maintenance vacuums and analyzes in its place.
describe('embedded database maintenance (pglite)', () => {
  let db: Db;
  before(async () => {
    ({ db } = await freshDb('pglite'));
  });
  after(async () => db.close());

  const stats = async (table: string) => {
    // This backend's counts reach the shared statistics at its next report: asked for at once here.
    await db.query('SELECT pg_stat_force_next_flush()');
    await db.query('SELECT 1');
    return (
      await db.query<{ dead: number; vacuumed: boolean; analyzed: boolean; reltuples: number }>(
        `SELECT s.n_dead_tup::int AS dead, s.last_vacuum IS NOT NULL AS vacuumed, s.last_analyze IS NOT NULL AS analyzed, c.reltuples::float8 AS reltuples
           FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relname = $1`,
        [table],
      )
    )[0]!;
  };

  it('is needed: PGlite leaves dead rows and missing statistics alone', async () => {
    await db.query(
      `INSERT INTO users (id, email, name, password_hash) SELECT 'usr_m' || g, 'm' || g || '@example.test', 'M', 'x' FROM generate_series(1, 2000) g`,
    );
    await db.query("UPDATE users SET name = 'Renamed' WHERE id LIKE 'usr_m%'");
    const before = await stats('users');
    assert.ok(before.dead >= 2000, `dead rows ${before.dead}`);
    assert.equal(before.analyzed, false);
    assert.equal(before.reltuples, -1, 'never analyzed');
  });

  it('vacuums what passed the threshold first, then analyzes what never was, a table a round, then has nothing to do', async () => {
    await db.query(
      `INSERT INTO venues (id, name, owner_id, seat_count) SELECT 'ven_m' || g, 'Hall ' || g, 'usr_m1', 0 FROM generate_series(1, 3) g`,
    );
    const maintenance = createEmbeddedMaintenance({ db });
    assert.deepEqual(await maintenance.runOnce(), { vacuumed: ['public.users'], analyzed: [] });
    const users = await stats('users');
    assert.equal(users.dead, 0);
    assert.ok(users.vacuumed && users.analyzed);
    assert.equal(users.reltuples, 2000);
    assert.equal((await stats('venues')).analyzed, false, 'one table a round');
    // Then the tables changed and never analyzed (the migrations' own among them), one a round, until none is left.
    const analyzed: string[] = [];
    for (let round = 0; round < 20; round++) {
      const done = await maintenance.runOnce();
      assert.deepEqual(done.vacuumed, []);
      assert.ok(done.analyzed.length <= 1);
      if (done.analyzed.length === 0) break;
      analyzed.push(...done.analyzed);
    }
    assert.ok(analyzed.includes('public.venues') && analyzed.includes('public.schema_migrations'), analyzed.join(', '));
    assert.equal((await stats('venues')).analyzed, true);
    assert.deepEqual(await maintenance.runOnce(), { vacuumed: [], analyzed: [] });
  });
});
