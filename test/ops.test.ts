import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../src/app.ts';
import { openDb } from '../src/platform/db.ts';
import { buildTestApp, dbShapes, errorCode, freshDb, SECRET, testConfig, type TestApp } from './helpers.ts';
import { admit, bulkBuyers, holdAndOrder, onSaleEvent } from './inventory.helpers.ts';

const METRICS_TOKEN = 'metrics-token-for-tests';

const shapes = await dbShapes();

for (const shape of shapes) {
  describe(`operations (${shape})`, () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
    });
    after(async () => t.close());

    it('answers /healthz with 200 while the process runs', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { status: 'ok' });
    });

    it('serves only health, readiness and metrics in a process without the api role', async () => {
      const fresh = await freshDb(shape);
      const app = await buildApp({
        config: testConfig({ TICKETMAX_ROLES: 'ticker,expiry,outbox' }),
        db: fresh.db,
        secret: SECRET,
        logger: false,
      });
      try {
        assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
        assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
        const api = await app.inject({ method: 'GET', url: '/api/events' });
        assert.equal(api.statusCode, 404);
        assert.equal(errorCode(api), 'NOT_FOUND');
      } finally {
        await app.close();
        await fresh.drop();
      }
    });

    it('answers /readyz with 200, naming each dependency it checked', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.equal(body.status, 'ready');
      assert.equal(body.checks.database, 'ok');
      for (const [name, state] of Object.entries(body.checks)) assert.equal(state, 'ok', name);
    });

    it('answers /readyz with 503 naming the database when the database is gone', async () => {
      const fresh = await freshDb(shape);
      // On PostgreSQL the app gets its own pool, so the test can still drop the database afterwards.
      const db = fresh.url ? await openDb({ url: fresh.url, poolSize: 2 }) : fresh.db;
      const app = await buildApp({ config: testConfig(), db, secret: SECRET, logger: false });
      try {
        await app.ready();
        const up = await app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(up.statusCode, 200);
        await db.close();
        const down = await app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(down.statusCode, 503);
        assert.equal(errorCode(down), 'NOT_READY');
        assert.deepEqual(down.json().error.details.down, ['database']);
        assert.match(down.json().error.message, /database/);
        // The process itself is still alive: liveness and readiness are different questions.
        const alive = await app.inject({ method: 'GET', url: '/healthz' });
        assert.equal(alive.statusCode, 200);
      } finally {
        await app.close();
        await fresh.drop();
      }
    });

    it('serves Prometheus metrics with request latency by route', async () => {
      await t.app.inject({ method: 'GET', url: '/healthz' });
      const res = await t.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      assert.match(res.body, /^# TYPE http_request_duration_seconds histogram$/m);
      assert.match(res.body, /^http_request_duration_seconds_count\{[^}]*route="\/healthz"[^}]*\} [1-9]\d*$/m);
    });

    it('serves the admission back-off gauges when it is on, and neither when it is off', async () => {
      const plain = await t.app.inject({ method: 'GET', url: '/metrics' });
      assert.doesNotMatch(plain.body, /ticketmax_admission_backoff/);
      const on = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1', TICKETMAX_ADMISSION_BACKOFF_MS: '250' });
      try {
        const res = await on.app.inject({ method: 'GET', url: '/metrics' });
        assert.match(res.body, /^ticketmax_admission_backoff_load_ms \d+(\.\d+)?$/m);
        assert.match(res.body, /^# TYPE ticketmax_admission_backoff_factor gauge$/m, 'one sample per event its ticker leads');
        assert.doesNotMatch(res.body, /^ticketmax_admission_backoff_factor\{/m, 'none led yet');
      } finally {
        await on.close();
      }
    });

    // A provider's charge takes its own time (its network, its checks) however idle the servers
    // are; counted as load, every payment would hold admission at its floor. PostgreSQL only: the
    // slow provider is a trigger that sleeps inside the test gateway's charge, which on PGlite
    // (in this process) would stall the event loop itself — load the sensor rightly counts.
    if (shape === 'postgres') {
      it("leaves a payment provider's time out of the back-off's load", async () => {
        const on = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1', TICKETMAX_ADMISSION_BACKOFF_MS: '150' });
        try {
          const event = await onSaleEvent(on.app);
          const buyers = await bulkBuyers(on.app, 4);
          const orders = await Promise.all(
            buyers.map(async (b, i) =>
              holdAndOrder(on.app, await admit(on.app, b, event.eventId), event.eventId, [event.seats[i]!.id], `slow-${i}`),
            ),
          );
          await on.app.services.db.query(`CREATE FUNCTION slow_provider() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN PERFORM pg_sleep(0.4); RETURN NEW; END $$`);
          await on.app.services.db.query(
            'CREATE TRIGGER slow_provider BEFORE INSERT ON test_gateway_charges FOR EACH ROW EXECUTE FUNCTION slow_provider()',
          );
          const loadNow = async () => {
            const res = await on.app.inject({ method: 'GET', url: '/metrics' });
            return Number(/^ticketmax_admission_backoff_load_ms (\S+)$/m.exec(res.body)![1]);
          };
          // Calm first (the set-up's own requests out of the readings), then the sensor's readings
          // every 100 ms, from before the payments to a second after them.
          for (let tries = 0; (await loadNow()) >= 100 && tries < 40; tries++) {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          const readings: number[] = [];
          let watching = true;
          const watcher = (async () => {
            while (watching) {
              readings.push(await loadNow());
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          })();
          const started = performance.now();
          const paid = await Promise.all(
            orders.map((o, i) =>
              on.app.inject({
                method: 'POST',
                url: `/api/orders/${o.id}/pay`,
                headers: { ...buyers[i]!.auth, 'idempotency-key': `pay-${i}` },
                payload: { card: { number: '4242424242424242', expMonth: 12, expYear: 2040, cvc: '123' } },
              }),
            ),
          );
          const took = performance.now() - started;
          await new Promise((resolve) => setTimeout(resolve, 1100));
          watching = false;
          await watcher;
          for (const res of paid) assert.equal(res.statusCode, 200, res.body);
          assert.ok(took >= 400, `the provider took its time (${Math.round(took)} ms)`);
          const metrics = (await on.app.inject({ method: 'GET', url: '/metrics' })).body;
          assert.match(
            metrics,
            /^http_request_duration_seconds_bucket\{le="0\.25",method="POST",route="\/api\/orders\/:id\/pay",status="2xx"\} 0$/m,
            'the request histogram keeps the buyer’s whole wait',
          );
          assert.ok(readings.length >= 10, `${readings.length} readings`);
          // Each payment waited 400 ms on the provider; counted, the readings would be over that.
          assert.ok(Math.max(...readings) < 250, `the provider's time left out: ${readings.join(', ')}`);
        } finally {
          await on.close();
        }
      });
    }

    it('answers an unknown route with 404 and the API error body', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/no-such-thing' });
      assert.equal(res.statusCode, 404);
      const body = res.json();
      assert.equal(body.error.code, 'NOT_FOUND');
      assert.equal(typeof body.error.message, 'string');
    });

    describe('with METRICS_TOKEN set', () => {
      let guarded: TestApp;
      before(async () => {
        guarded = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1', METRICS_TOKEN });
      });
      after(async () => guarded.close());

      it('refuses /metrics without the bearer token, or with a wrong one, with 401', async () => {
        for (const headers of [
          {},
          { authorization: 'Bearer wrong-token' },
          { authorization: `Basic ${METRICS_TOKEN}` },
          { authorization: `Bearer ${METRICS_TOKEN}x` },
        ]) {
          const res = await guarded.app.inject({ method: 'GET', url: '/metrics', headers });
          assert.equal(res.statusCode, 401, JSON.stringify(headers));
          assert.equal(errorCode(res), 'UNAUTHENTICATED');
          assert.doesNotMatch(res.body, /http_request_duration_seconds/);
        }
      });

      it('serves /metrics with the bearer token', async () => {
        const res = await guarded.app.inject({
          method: 'GET',
          url: '/metrics',
          headers: { authorization: `Bearer ${METRICS_TOKEN}` },
        });
        assert.equal(res.statusCode, 200);
        assert.match(res.body, /http_request_duration_seconds/);
      });

      it('keeps /healthz and /readyz open to health checkers', async () => {
        assert.equal((await guarded.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
        assert.equal((await guarded.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      });
    });
  });
}
