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
