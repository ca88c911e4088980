// The Idempotency-Key claim on its own, on both databases: one run of the work per key, replays
// after, and a claim committed without a flush wait that leaves the connection as it found it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { idempotent, requestHash } from '../src/modules/orders/idempotency.ts';
import { newId } from '../src/platform/crypto.ts';
import { type Db, openDb } from '../src/platform/db.ts';
import { dbShapes, freshDb } from './helpers.ts';

const shapes = await dbShapes();

for (const shape of shapes) {
  describe(`idempotency claims (${shape})`, () => {
    let db: Db;
    let url: string | undefined;
    let drop: () => Promise<void>;
    const userId = newId('usr');

    before(async () => {
      ({ db, url, drop } = await freshDb(shape));
      await db.query(`INSERT INTO users (id, email, name, password_hash, role) VALUES ($1, $2, 'Idem', 'x', 'buyer')`, [
        userId,
        `${userId}@example.test`,
      ]);
    });
    after(async () => drop());

    it('runs the work once for any number of concurrent requests with one key, and replays its reply', async () => {
      let runs = 0;
      const claim = { userId, scope: 'test', key: 'k1', hash: requestHash({ a: 1 }) };
      const replies = await Promise.all(
        Array.from({ length: 20 }, () =>
          idempotent(db, claim, async () => {
            runs += 1;
            await new Promise((resolve) => setTimeout(resolve, 50));
            return { status: 201, body: { n: runs } };
          }),
        ),
      );
      assert.equal(runs, 1);
      assert.ok(replies.every((r) => r.status === 201 && (r.body as { n: number }).n === 1));
      const [row] = await db.query<{ status_code: number }>(
        `SELECT status_code FROM idempotency_keys WHERE user_id = $1 AND scope = 'test' AND key = 'k1'`,
        [userId],
      );
      assert.equal(row?.status_code, 201);
    });

    it("reads what the work needs in the claim's statement: the rows as of the claim, none, or read again after a takeover", async () => {
      const read = {
        sql: 'SELECT id, email, created_at FROM users WHERE id = $1 OR email = $2 ORDER BY id',
        params: [userId, 'nobody@example.test'],
      };
      type Row = { id: string; email: string; created_at: Date };
      let seen: Row[] = [];
      const claim = { userId, scope: 'test', key: 'k3', hash: requestHash({ a: 3 }) };
      const first = await idempotent<Row>(
        db,
        claim,
        async (_keep, rows) => {
          seen = rows;
          return { status: 201, body: { rows: rows.length } };
        },
        read,
      );
      assert.deepEqual(first, { status: 201, body: { rows: 1 } });
      // Only the read's own columns, with their types (a timestamp is a Date).
      assert.deepEqual(Object.keys(seen[0]!).sort(), ['created_at', 'email', 'id']);
      assert.equal(seen[0]!.id, userId);
      assert.ok(seen[0]!.created_at instanceof Date);
      // A replay runs no work.
      let ran = false;
      const again = await idempotent<Row>(
        db,
        claim,
        async () => {
          ran = true;
          return { status: 500, body: {} };
        },
        read,
      );
      assert.equal(ran, false);
      assert.deepEqual(again, first);

      // A read that finds nothing gives no rows (not one row of nulls).
      const none = await idempotent<Row>(
        db,
        { ...claim, key: 'k4' },
        async (_keep, rows) => ({ status: 200, body: { rows: rows.length } }),
        { sql: 'SELECT id FROM users WHERE id = $1', params: ['usr_none'] },
      );
      assert.deepEqual(none.body, { rows: 0 });

      // A stale claim (its process died) is taken over; the work still gets its rows.
      await db.query(
        `INSERT INTO idempotency_keys (user_id, scope, key, request_hash, created_at) VALUES ($1, 'test', 'k5', $2, now() - interval '1 hour')`,
        [userId, claim.hash],
      );
      const taken = await idempotent<Row>(
        db,
        { ...claim, key: 'k5' },
        async (_keep, rows) => ({ status: 200, body: { ids: rows.map((r) => r.id) } }),
        read,
      );
      assert.deepEqual(taken.body, { ids: [userId] });
    });

    it("makes the work's first write in the claim's statement only where the claim is taken there, and hands the work its row", async () => {
      const lines = async (action: string) =>
        (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log WHERE action = $1', [action]))[0]!.n;
      const write = (action: string) => (guard: string) => ({
        sql: `INSERT INTO audit_log (actor_id, action, target_id) SELECT $1, $2, $1 WHERE ${guard} RETURNING action, actor_id`,
        params: [userId, action],
      });
      const read = { sql: 'SELECT id FROM users WHERE id = $1', params: [userId] };
      type Line = { action: string; actor_id: string };
      const claim = { userId, scope: 'test', key: 'k6', hash: requestHash({ a: 6 }) };
      const got: (Line | undefined)[] = [];
      const work = async (_keep: unknown, rows: { id: string }[], first: Line | undefined) => {
        got.push(first);
        return { status: 201, body: { rows: rows.length, wrote: first?.action ?? null } };
      };

      // Taken in the statement: written once, its row handed over beside the read's.
      const reply = await idempotent<{ id: string }, Line>(db, claim, work, read, write('test.first'));
      assert.deepEqual(reply.body, { rows: 1, wrote: 'test.first' });
      assert.deepEqual(got, [{ action: 'test.first', actor_id: userId }]);
      // A replay neither runs the work nor writes again.
      await idempotent<{ id: string }, Line>(db, claim, work, read, write('test.first'));
      assert.equal(got.length, 1);
      assert.equal(await lines('test.first'), 1);

      // Twenty at once with one key: one write.
      await Promise.all(
        Array.from({ length: 20 }, () =>
          idempotent<{ id: string }, Line>(db, { ...claim, key: 'k7' }, work, read, write('test.concurrent')),
        ),
      );
      assert.equal(await lines('test.concurrent'), 1);

      // A stale claim taken over: the statement did not take it, so nothing was written there and
      // the work gets undefined (it makes the write itself).
      await db.query(
        `INSERT INTO idempotency_keys (user_id, scope, key, request_hash, created_at) VALUES ($1, 'test', 'k8', $2, now() - interval '1 hour')`,
        [userId, claim.hash],
      );
      got.length = 0;
      const taken = await idempotent<{ id: string }, Line>(db, { ...claim, key: 'k8' }, work, read, write('test.takeover'));
      assert.deepEqual(taken.body, { rows: 1, wrote: null });
      assert.deepEqual(got, [undefined]);
      assert.equal(await lines('test.takeover'), 0);
    });

    // PostgreSQL only: PGlite has one connection and no WAL flush to wait for.
    if (shape === 'postgres') {
      it('leaves the connection committing synchronously after a claim that did not wait for its flush', async () => {
        // One connection, so the claim and the check after it share it.
        const single = await openDb({ url: url!, poolSize: 1 });
        try {
          const claim = { userId, scope: 'test', key: 'k2', hash: requestHash({ a: 2 }) };
          const reply = await idempotent(single, claim, async () => {
            const [inside] = await single.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
            return { status: 200, body: { during: inside?.synchronous_commit } };
          });
          assert.deepEqual(reply.body, { during: 'on' }, 'the work after the claim commits synchronously');
          const [afterwards] = await single.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
          assert.equal(afterwards?.synchronous_commit, 'on');
        } finally {
          await single.close();
        }
      });
    }
  });
}
