import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createCatalogRepository, createCatalogService } from '../src/modules/catalog/index.ts';
import { createEventInfoCache } from '../src/modules/inventory/event-info.ts';
import { createInventoryRepository } from '../src/modules/inventory/index.ts';
import { buildTestApp, type TestApp } from './helpers.ts';
import { onSaleEvent } from './inventory.helpers.ts';

let t: TestApp;
before(async () => {
  t = await buildTestApp('pglite');
});
after(() => t.close());

/** The real catalog over the test database, with the event-row read held until `release()` is called. */
function gatedCatalog() {
  const catalog = createCatalogService({
    repo: createCatalogRepository(t.db),
    transaction: (fn) => t.db.tx((q) => fn(createCatalogRepository(q))),
    clock: { now: () => Date.now() },
  });
  let gate: Promise<void> = Promise.resolve();
  let release = () => undefined as void;
  let reads = 0;
  return {
    source: {
      async eventRow(id: string) {
        reads += 1;
        await gate;
        return catalog.eventRow(id);
      },
      layoutOf: (venueId: string) => catalog.layoutOf(venueId),
    },
    hold() {
      gate = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
    reads: () => reads,
  };
}

test('event info: past its second it is served at once while one read refreshes it; a deleted event is forgotten', async () => {
  const { eventId } = await onSaleEvent(t.app);
  const catalog = gatedCatalog();
  let now = 1_000_000;
  const errors: unknown[] = [];
  const infos = createEventInfoCache(
    catalog.source,
    createInventoryRepository(t.db),
    () => now,
    (err) => errors.push(err),
  );

  const first = await infos.get(eventId);
  assert.equal(first.row.id, eventId);
  assert.equal(catalog.reads(), 1);

  // A second later the database is slow: requests get the entry without waiting, and only one read goes out.
  now += 1500;
  catalog.hold();
  const served = await Promise.all([infos.get(eventId), infos.get(eventId), infos.get(eventId)]);
  for (const info of served) assert.equal(info, first);
  assert.equal(catalog.reads(), 2);
  await t.db.query(`UPDATE events SET name = 'Renamed' WHERE id = $1`, [eventId]);
  catalog.release();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await infos.get(eventId)).row.name, 'Renamed', 'the refreshed row is served next');

  // Past the stale limit with the database still not answering, a request waits for the read.
  now += 20_000;
  catalog.hold();
  let settled = false;
  const waiting = infos.get(eventId).then((info) => {
    settled = true;
    return info;
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(settled, false, 'a 20 s old entry is not served');
  catalog.release();
  assert.equal((await waiting).row.id, eventId);

  // The event is deleted (by hand: the product deletes no event, and its audit lines — its
  // creation among them — must go first): the background refresh fails with NOT_FOUND and the
  // entry goes at once.
  await t.db.query('DELETE FROM audit_log WHERE event_id = $1', [eventId]);
  await t.db.query('DELETE FROM events WHERE id = $1', [eventId]);
  now += 1500;
  await infos.get(eventId); // stale entry, refresh in the background
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(errors.length, 1);
  await assert.rejects(infos.get(eventId), /Event/);
});
