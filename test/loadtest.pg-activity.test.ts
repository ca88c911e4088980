// The load test's view of PostgreSQL: sampled from the real pg_stat_activity of a database while
// other connections sleep in a statement, wait for a row lock and read a table whole.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPgActivitySampler, summarizeActivity } from '../bench/loadtest/pg-activity.ts';
import type { Db } from '../src/platform/db.ts';
import { dbShapes, freshDb } from './helpers.ts';

const shapes = await dbShapes();

describe('load test: PostgreSQL activity', () => {
  it('counts states, waits and statements over samples, busiest first', () => {
    const sleeping = { state: 'active', wait_event_type: 'Timeout', wait_event: 'PgSleep', query: 'SELECT  pg_sleep(1)\n' };
    const working = { state: 'active', wait_event_type: null, wait_event: null, query: 'SELECT 1' };
    const summary = summarizeActivity([[sleeping, working], [sleeping], []]);
    assert.equal(summary.samples, 3);
    assert.equal(summary.meanBusy, 1);
    assert.deepEqual(summary.top, [
      { state: 'active', wait: 'Timeout:PgSleep', statement: 'SELECT pg_sleep(1)', share: 66.7 },
      { state: 'active', wait: 'CPU', statement: 'SELECT 1', share: 33.3 },
    ]);
    assert.deepEqual(summarizeActivity([]), { samples: 0, meanBusy: 0, top: [] });
  });

  // PostgreSQL only: PGlite runs inside one process and has no other connections to watch.
  if (shapes.includes('postgres')) {
    describe('on PostgreSQL', () => {
      let db: Db;
      let url = '';
      let drop: () => Promise<void>;
      before(async () => {
        const fresh = await freshDb('postgres');
        ({ db, drop } = fresh);
        url = fresh.url!;
        await db.query('CREATE TABLE sampled (id int PRIMARY KEY, note text)');
        await db.query("INSERT INTO sampled SELECT g, 'n' || g FROM generate_series(1, 5000) g");
      });
      after(async () => drop());

      it('sees a sleeping statement, a lock wait and a whole-table read', async () => {
        const sampler = await startPgActivitySampler(url, 20);
        let update: Promise<unknown> = Promise.resolve();
        await Promise.all([
          db.query('SELECT pg_sleep(0.5)'),
          db.tx(async (q) => {
            await q.query('SELECT id FROM sampled WHERE id = 1 FOR UPDATE');
            // Another connection waits for this row while this transaction sleeps on it.
            update = db.query("UPDATE sampled SET note = 'x' WHERE id = 1");
            await q.query('SELECT pg_sleep(0.5)');
          }),
        ]);
        await update;
        // A whole-table read; its backend publishes the scan counts as it goes idle (forced here:
        // a busy backend publishes at most once a second, an idle one within ten).
        await db.tx(async (q) => {
          await q.query("SELECT count(*) FROM sampled WHERE note LIKE '%9%'");
          await q.query('SELECT pg_stat_force_next_flush()');
        });
        await new Promise((resolve) => setTimeout(resolve, 100));
        const activity = await sampler.stop();
        assert.ok(activity.samples >= 10, `samples: ${activity.samples}`);
        const find = (wait: string, statement: string) =>
          activity.top.find((t) => t.wait === wait && t.statement.startsWith(statement));
        assert.ok(find('Timeout:PgSleep', 'SELECT pg_sleep(0.5)'), JSON.stringify(activity.top));
        assert.ok(find('Lock:transactionid', 'UPDATE sampled'), JSON.stringify(activity.top));
        const scans = activity.seqScans.find((t) => t.table === 'sampled');
        assert.ok(scans && scans.seqScans >= 1 && scans.rowsReadBySeqScans >= 5000, JSON.stringify(activity.seqScans));
      });
    });
  }
});
