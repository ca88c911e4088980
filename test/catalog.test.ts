import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { buildApp, type App } from '../src/app.ts';
import type { Db } from '../src/platform/db.ts';
import {
  buildTestApp,
  dbShapes,
  errorCode,
  eventBody,
  makeUser,
  SECRET,
  smallVenue,
  testConfig,
  type TestApp,
  type TestUser,
} from './helpers.ts';

interface SeatOut {
  id: string;
  label: string;
  x: number;
  y: number;
  index: number;
}
interface SectionOut {
  id: string;
  name: string;
  kind: string;
  capacity?: number;
  rows?: { label: string; seats: SeatOut[] }[];
  price?: { amount: number; currency: string };
}

/** Every seat of a venue or seat map, in the order the API lists them. */
function seatsOf(sections: SectionOut[]): SeatOut[] {
  return sections.flatMap((s) => (s.rows ?? []).flatMap((r) => r.seats));
}

async function countRows(db: Db, ...tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of tables) {
    const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    out[table] = rows[0]!.n;
  }
  return out;
}

/** Another API process over the same database: its own caches, nothing shared but the data. */
async function anotherProcess(db: Db): Promise<App> {
  const app = await buildApp({ config: testConfig(), db, secret: SECRET, logger: false });
  await app.ready();
  return app;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

const shapes = await dbShapes();

for (const shape of shapes) {
  describe(`catalog (${shape})`, () => {
    let t: TestApp;
    let organizer: TestUser;
    let otherOrganizer: TestUser;
    let admin: TestUser;
    let buyer: TestUser;
    let staff: TestUser;

    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
      organizer = await makeUser(t.app, 'organizer');
      otherOrganizer = await makeUser(t.app, 'organizer');
      admin = await makeUser(t.app, 'admin');
      buyer = await makeUser(t.app, 'buyer');
      staff = await makeUser(t.app, 'staff');
    });
    after(async () => t.close());

    const postVenue = (payload: unknown, user: TestUser = organizer) =>
      t.app.inject({ method: 'POST', url: '/api/venues', headers: user.auth, payload: payload as object });
    const postEvent = (payload: unknown, user: TestUser = organizer) =>
      t.app.inject({ method: 'POST', url: '/api/events', headers: user.auth, payload: payload as object });
    const patchEvent = (id: string, payload: unknown, user: TestUser = organizer) =>
      t.app.inject({ method: 'PATCH', url: `/api/events/${id}`, headers: user.auth, payload: payload as object });
    const getSeatmap = (id: string, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'GET', url: `/api/events/${id}/seatmap`, headers });

    async function newVenue(body: unknown = smallVenue()) {
      const res = await postVenue(body);
      assert.equal(res.statusCode, 201, res.body);
      return res.json().venue as { id: string; name: string; seatCount: number; gaCapacity: number; sections: SectionOut[] };
    }
    async function newEvent(overrides: Record<string, unknown> = {}, venueId?: string) {
      const venue = venueId ?? (await newVenue()).id;
      const res = await postEvent(eventBody(venue, overrides));
      assert.equal(res.statusCode, 201, res.body);
      return res.json().event as Record<string, unknown> & { id: string };
    }

    describe('venues', () => {
      it('creates a grid venue with an id for every section and seat, indexed 0..n-1 in section, row, seat order', async () => {
        const venue = await newVenue();
        assert.match(venue.id, /^\S+$/);
        assert.equal(venue.seatCount, 5 * 10 + 3 * 8);
        assert.equal(venue.gaCapacity, 100);
        assert.deepEqual(
          venue.sections.map((s) => [s.name, s.kind]),
          [
            ['Stalls', 'seated'],
            ['Circle', 'seated'],
            ['Standing', 'ga'],
          ],
        );
        const [stalls, circle, standing] = venue.sections;
        assert.deepEqual(
          stalls!.rows!.map((r) => r.label),
          ['A', 'B', 'C', 'D', 'E'],
        );
        assert.deepEqual(
          stalls!.rows![0]!.seats.map((s) => s.label),
          ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'],
        );
        assert.deepEqual(
          circle!.rows!.map((r) => r.seats.length),
          [8, 8, 8],
        );
        assert.equal(standing!.capacity, 100);
        assert.equal(standing!.rows, undefined);

        const seats = seatsOf(venue.sections);
        assert.deepEqual(
          seats.map((s) => s.index),
          Array.from({ length: 74 }, (_, i) => i),
        );
        const ids = new Set([...venue.sections.map((s) => s.id), ...seats.map((s) => s.id)]);
        assert.equal(ids.size, 3 + 74, 'every section and seat has its own id');
        // Circle is stacked below the stalls (rows 0..4), two rows apart.
        assert.equal(circle!.rows![0]!.seats[0]!.y, 6);

        const stored = await t.db.query<{ id: string; idx: number }>(
          'SELECT id, idx FROM seats WHERE venue_id = $1 ORDER BY idx',
          [venue.id],
        );
        assert.deepEqual(
          stored,
          seats.map((s) => ({ id: s.id, idx: s.index })),
        );
      });

      it('creates a venue from explicit rows, keeping the given labels, coordinates and order', async () => {
        const venue = await newVenue({
          name: 'Chamber',
          sections: [
            {
              name: 'Box',
              kind: 'seated',
              rows: [
                {
                  label: 'K',
                  seats: [
                    { label: '7', x: 1.5, y: 2 },
                    { label: '3', x: 0.25, y: 2 },
                  ],
                },
                { label: 'J', seats: [{ label: '1', x: -4, y: 1 }] },
              ],
            },
            { name: 'Floor', kind: 'ga', capacity: 40 },
          ],
        });
        assert.equal(venue.seatCount, 3);
        assert.equal(venue.gaCapacity, 40);
        assert.deepEqual(
          venue.sections[0]!.rows!.map((r) => ({
            label: r.label,
            seats: r.seats.map(({ label, x, y, index }) => ({ label, x, y, index })),
          })),
          [
            {
              label: 'K',
              seats: [
                { label: '7', x: 1.5, y: 2, index: 0 },
                { label: '3', x: 0.25, y: 2, index: 1 },
              ],
            },
            { label: 'J', seats: [{ label: '1', x: -4, y: 1, index: 2 }] },
          ],
        );
      });

      it('shows another API process exactly the venue its creator returned, even for coordinates the database rounds', async () => {
        // 123456.789 does not fit a `real`; every process must still agree on what the venue is.
        const created = await newVenue({
          name: 'Precise',
          sections: [
            {
              name: 'S',
              kind: 'seated',
              rows: [
                {
                  label: 'A',
                  seats: [
                    { label: '1', x: 123456.789, y: 0.1 },
                    { label: '2', x: 3.3333333, y: 0.1 },
                  ],
                },
              ],
            },
          ],
        });
        const other = await anotherProcess(t.db);
        try {
          const res = await other.inject({ method: 'GET', url: `/api/venues/${created.id}`, headers: organizer.auth });
          assert.equal(res.statusCode, 200);
          assert.deepEqual(res.json().venue, created);
        } finally {
          await other.close();
        }
        const mine = await t.app.inject({ method: 'GET', url: `/api/venues/${created.id}`, headers: organizer.auth });
        assert.deepEqual(mine.json().venue, created);
      });

      it('lists venues with their sections and capacities', async () => {
        const venue = await newVenue(smallVenue(`Listed ${randomBytes(3).toString('hex')}`));
        const res = await t.app.inject({ method: 'GET', url: '/api/venues', headers: organizer.auth });
        assert.equal(res.statusCode, 200);
        const listed = res.json().venues.find((v: { id: string }) => v.id === venue.id);
        assert.ok(listed, 'the new venue is listed');
        assert.equal(listed.name, venue.name);
        assert.equal(listed.seatCount, 74);
        assert.equal(listed.gaCapacity, 100);
        assert.deepEqual(
          listed.sections.map((s: SectionOut) => [s.id, s.name, s.kind]),
          venue.sections.map((s) => [s.id, s.name, s.kind]),
        );
      });

      const patchVenue = (id: string, payload: unknown, user: TestUser = organizer) =>
        t.app.inject({ method: 'PATCH', url: `/api/venues/${id}`, headers: user.auth, payload: payload as object });
      const venueLog = (id: string, query = '', user: TestUser = organizer) =>
        t.app.inject({ method: 'GET', url: `/api/venues/${id}/audit${query}`, headers: user.auth });
      type Entry = { id: string; action: string; actor: { id: string } | null; details: Record<string, unknown> };

      it("lets its creator rename a venue: its events show the new name at once, and the venue's log says who created and renamed it", async () => {
        const venue = await newVenue(smallVenue('Old Hall'));
        const event = await newEvent({}, venue.id);
        const renamed = await patchVenue(venue.id, { name: '  New Hall  ' });
        assert.equal(renamed.statusCode, 200, renamed.body);
        const out = renamed.json().venue as typeof venue & { ownerId: string };
        assert.equal(out.name, 'New Hall');
        assert.equal(out.ownerId, organizer.id);
        assert.deepEqual(out.sections, venue.sections, 'the layout is as it was');
        assert.equal(
          (await t.app.inject({ method: 'GET', url: `/api/venues/${venue.id}`, headers: organizer.auth })).json().venue.name,
          'New Hall',
        );
        const detail = (await t.app.inject({ method: 'GET', url: `/api/events/${event.id}` })).json().event;
        assert.deepEqual(detail.venue, { id: venue.id, name: 'New Hall' });
        const listed = (await t.app.inject({ method: 'GET', url: '/api/events' }))
          .json()
          .events.find((e: { id: string }) => e.id === event.id);
        assert.equal(listed.venue.name, 'New Hall');

        // An admin may rename it too; the same name again changes nothing and logs nothing.
        assert.equal((await patchVenue(venue.id, { name: 'Newer Hall' }, admin)).statusCode, 200);
        const same = await patchVenue(venue.id, { name: 'Newer Hall' });
        assert.equal(same.statusCode, 200);
        assert.equal(same.json().venue.name, 'Newer Hall');

        const log = await venueLog(venue.id);
        assert.equal(log.statusCode, 200, log.body);
        assert.equal(log.headers['cache-control'], 'private, no-store');
        const entries = log.json<{ entries: Entry[]; next: string | null }>().entries;
        assert.deepEqual(
          entries.map((e) => [e.action, e.actor?.id, e.details]),
          [
            ['venue.renamed', admin.id, { from: 'New Hall', to: 'Newer Hall' }],
            ['venue.renamed', organizer.id, { from: 'Old Hall', to: 'New Hall' }],
            [
              'venue.created',
              organizer.id,
              { name: 'Old Hall', seatCount: 74, gaCapacity: 100, sections: venue.sections.length },
            ],
          ],
        );
        // A page at a time, and an admin may read it.
        const first = (await venueLog(venue.id, '?limit=2', admin)).json<{ entries: Entry[]; next: string }>();
        assert.deepEqual(
          first.entries.map((e) => e.id),
          entries.slice(0, 2).map((e) => e.id),
        );
        const rest = (await venueLog(venue.id, `?limit=2&before=${first.next}`)).json<{
          entries: Entry[];
          next: string | null;
        }>();
        assert.deepEqual(
          rest.entries.map((e) => e.id),
          [entries[2]!.id],
        );
        assert.equal(rest.next, null);
        // The accounts' log keeps to accounts, the event's to the event.
        const accountsLog = (await t.app.inject({ method: 'GET', url: '/api/admin/audit?limit=200', headers: admin.auth })).json<{
          entries: Entry[];
        }>().entries;
        assert.ok(!accountsLog.some((e) => e.action.startsWith('venue.')), 'no venue line among the accounts');
        const eventLog = (
          await t.app.inject({ method: 'GET', url: `/api/admin/events/${event.id}/audit`, headers: organizer.auth })
        ).json<{ entries: Entry[] }>().entries;
        assert.deepEqual(
          eventLog.map((e) => e.action),
          ['event.created'],
        );
      });

      it("refuses another organizer's rename and log (403), an unknown venue (404) and a bad name or layout change (400), changing nothing", async () => {
        const venue = await newVenue(smallVenue('Kept Hall'));
        const unchanged = async () => {
          const rows = await t.db.query<{ name: string }>('SELECT name FROM venues WHERE id = $1', [venue.id]);
          assert.equal(rows[0]!.name, 'Kept Hall');
          const lines = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log WHERE venue_id = $1', [
            venue.id,
          ]);
          assert.equal(lines[0]!.n, 1, 'only the creation is logged');
        };
        assert.equal(errorCode(await patchVenue(venue.id, { name: 'Taken Over' }, otherOrganizer)), 'FORBIDDEN');
        assert.equal(errorCode(await venueLog(venue.id, '', otherOrganizer)), 'FORBIDDEN');
        assert.equal(errorCode(await patchVenue('ven_doesnotexist', { name: 'Nowhere' })), 'NOT_FOUND');
        assert.equal(errorCode(await venueLog('ven_doesnotexist')), 'NOT_FOUND');
        for (const bad of [
          {},
          { name: '' },
          { name: '   ' },
          { name: 'x'.repeat(201) },
          { name: 'Two\nlines' },
          { name: 42 },
          { name: 'Kept Hall', sections: [{ name: 'Floor', kind: 'ga', capacity: 10 }] },
        ]) {
          const res = await patchVenue(venue.id, bad);
          assert.equal(res.statusCode, 400, `${JSON.stringify(bad)}: ${res.body}`);
          assert.equal(errorCode(res), 'VALIDATION_FAILED');
        }
        for (const bad of ['?before=abc', '?limit=0', '?target=usr_x']) {
          assert.equal((await venueLog(venue.id, bad)).statusCode, 400, bad);
        }
        await unchanged();
      });

      it('answers 404 NOT_FOUND for an unknown venue', async () => {
        const res = await t.app.inject({ method: 'GET', url: '/api/venues/ven_doesnotexist', headers: organizer.auth });
        assert.equal(res.statusCode, 404);
        assert.equal(errorCode(res), 'NOT_FOUND');
      });

      const seatRow = (label: string, ...seats: string[]) => ({ label, seats: seats.map((s, i) => ({ label: s, x: i, y: 0 })) });
      const invalidVenues: { what: string; field: string; sections: unknown[] }[] = [
        {
          what: 'a row label repeated within a section',
          field: 'body.sections.0.rows.1.label',
          sections: [{ name: 'S', kind: 'seated', rows: [seatRow('A', '1'), seatRow('A', '2')] }],
        },
        {
          what: 'a seat label repeated within a row',
          field: 'body.sections.0.rows.0.seats.1.label',
          sections: [{ name: 'S', kind: 'seated', rows: [seatRow('A', '1', '1')] }],
        },
        {
          what: 'a section name used twice',
          field: 'body.sections.1.name',
          sections: [
            { name: 'Stalls', kind: 'ga', capacity: 5 },
            { name: 'Stalls', kind: 'seated', grid: { rows: 1, seatsPerRow: 1 } },
          ],
        },
        {
          what: 'a seated section with neither rows nor grid',
          field: 'body.sections.0',
          sections: [{ name: 'S', kind: 'seated' }],
        },
        { what: 'a seated section with no rows', field: 'body.sections.0', sections: [{ name: 'S', kind: 'seated', rows: [] }] },
        {
          what: 'a row with no seats',
          field: 'body.sections.0.rows.1.seats',
          sections: [{ name: 'S', kind: 'seated', rows: [seatRow('A', '1'), { label: 'B', seats: [] }] }],
        },
        { what: 'a GA capacity of 0', field: 'body.sections.0.capacity', sections: [{ name: 'Floor', kind: 'ga', capacity: 0 }] },
        {
          what: 'a negative GA capacity',
          field: 'body.sections.0.capacity',
          sections: [{ name: 'Floor', kind: 'ga', capacity: -5 }],
        },
        { what: 'a GA section without capacity', field: 'body.sections.0.capacity', sections: [{ name: 'Floor', kind: 'ga' }] },
        {
          what: 'a seated section with both rows and grid',
          field: 'body.sections.0',
          sections: [{ name: 'S', kind: 'seated', grid: { rows: 1, seatsPerRow: 2 }, rows: [seatRow('A', '1')] }],
        },
        {
          what: '200,001 seats',
          field: 'body.sections.1',
          sections: [
            { name: 'Big', kind: 'seated', grid: { rows: 2000, seatsPerRow: 100 } },
            { name: 'One more', kind: 'seated', grid: { rows: 1, seatsPerRow: 1 } },
          ],
        },
        { what: 'no sections at all', field: 'body.sections', sections: [] },
      ];
      for (const { what, field, sections } of invalidVenues) {
        it(`refuses a venue with ${what}: 400 VALIDATION_FAILED naming ${field}, nothing stored`, async () => {
          const before = await countRows(t.db, 'venues', 'sections', 'seats');
          const res = await postVenue({ name: 'Invalid', sections });
          assert.equal(res.statusCode, 400, res.body);
          assert.equal(errorCode(res), 'VALIDATION_FAILED');
          const fields = (res.json().error.details.fields as { field: string }[]).map((f) => f.field);
          assert.ok(fields.includes(field), `expected ${field} among ${fields.join(', ')}`);
          assert.deepEqual(await countRows(t.db, 'venues', 'sections', 'seats'), before);
        });
      }
    });

    describe('events', () => {
      it('creates an event with prices named by section, with the documented defaults', async () => {
        const venue = await newVenue();
        const res = await postEvent(eventBody(venue.id, { description: 'An evening' }));
        assert.equal(res.statusCode, 201, res.body);
        const event = res.json().event;
        assert.match(event.id, /^\S+$/);
        assert.equal(event.name, 'Test Night');
        assert.equal(event.description, 'An evening');
        assert.equal(event.organizerId, organizer.id);
        assert.deepEqual(event.venue, { id: venue.id, name: venue.name });
        assert.deepEqual(
          event.prices.map((p: { sectionId: string; section: string; amount: number; currency: string }) => [
            p.sectionId,
            p.section,
            p.amount,
            p.currency,
          ]),
          [
            [venue.sections[0]!.id, 'Stalls', 5000, 'USD'],
            [venue.sections[1]!.id, 'Circle', 3500, 'USD'],
            [venue.sections[2]!.id, 'Standing', 2000, 'USD'],
          ],
        );
        assert.equal(event.maxSeatsPerOrder, 6);
        assert.equal(event.holdSeconds, 600);
        assert.equal(event.queue.admitPerMinute, 600);
        assert.equal(event.queue.maxActive, 1000);
        assert.equal(event.queue.claimSeconds, 120);
        assert.equal(event.queue.preQueueMinutes, 30);
        assert.equal(event.seatmapVersion, 1);
        assert.equal(event.status, 'on_sale');
        assert.equal(event.available, 174);
      });

      it('accepts prices by section id, and section names in any case', async () => {
        const venue = await newVenue();
        const res = await postEvent(
          eventBody(venue.id, {
            prices: [
              { section: venue.sections[0]!.id, amount: 100, currency: 'EUR' },
              { section: 'circle', amount: 200, currency: 'EUR' },
              { section: venue.sections[2]!.id, amount: 300, currency: 'EUR' },
            ],
          }),
        );
        assert.equal(res.statusCode, 201, res.body);
        assert.deepEqual(
          res.json().event.prices.map((p: { sectionId: string; amount: number }) => [p.sectionId, p.amount]),
          venue.sections.map((s, i) => [s.id, (i + 1) * 100]),
        );
      });

      const invalidEvents: {
        what: string;
        field: string;
        overrides: (venue: { id: string; sections: SectionOut[] }) => Record<string, unknown>;
      }[] = [
        {
          what: 'a section without a price',
          field: 'body.prices',
          overrides: () => ({
            prices: [
              { section: 'Stalls', amount: 1, currency: 'USD' },
              { section: 'Circle', amount: 1, currency: 'USD' },
            ],
          }),
        },
        {
          what: 'a price for a section the venue does not have',
          field: 'body.prices.3.section',
          overrides: () => ({
            prices: [...eventBody('x').prices, { section: 'Balcony', amount: 1, currency: 'USD' }],
          }),
        },
        {
          what: 'the same section priced twice (by name and by id)',
          field: 'body.prices.3.section',
          overrides: (venue) => ({
            prices: [...eventBody('x').prices, { section: venue.sections[0]!.id, amount: 1, currency: 'USD' }],
          }),
        },
        {
          what: 'prices in two currencies',
          field: 'body.prices',
          overrides: () => ({
            prices: [
              { section: 'Stalls', amount: 1, currency: 'USD' },
              { section: 'Circle', amount: 1, currency: 'EUR' },
              { section: 'Standing', amount: 1, currency: 'USD' },
            ],
          }),
        },
        {
          what: 'onSaleAt after startsAt',
          field: 'body.onSaleAt',
          overrides: () => ({ onSaleAt: iso(8 * DAY), startsAt: iso(7 * DAY) }),
        },
        {
          what: 'offSaleAt before onSaleAt',
          field: 'body.offSaleAt',
          overrides: () => ({ onSaleAt: iso(DAY), offSaleAt: iso(HOUR) }),
        },
        { what: 'an unknown venue', field: 'body.venueId', overrides: () => ({ venueId: 'ven_doesnotexist' }) },
        {
          what: 'a leap-second time JavaScript cannot read',
          field: 'body.startsAt',
          overrides: () => ({ startsAt: '2030-06-30T23:59:60Z' }),
        },
        {
          what: 'a time offset without minutes',
          field: 'body.startsAt',
          overrides: () => ({ startsAt: '2030-06-30T20:00:00+01' }),
        },
        { what: 'the year 0000', field: 'body.onSaleAt', overrides: () => ({ onSaleAt: '0000-01-01T00:00:00Z' }) },
      ];
      for (const { what, field, overrides } of invalidEvents) {
        it(`refuses an event with ${what}: 400 VALIDATION_FAILED naming ${field}, nothing stored`, async () => {
          const venue = await newVenue();
          const before = await countRows(t.db, 'events', 'prices', 'ga_inventory');
          const res = await postEvent(eventBody(venue.id, overrides(venue)));
          assert.equal(res.statusCode, 400, res.body);
          assert.equal(errorCode(res), 'VALIDATION_FAILED');
          const fields = (res.json().error.details.fields as { field: string }[]).map((f) => f.field);
          assert.ok(fields.includes(field), `expected ${field} among ${fields.join(', ')}`);
          assert.deepEqual(await countRows(t.db, 'events', 'prices', 'ga_inventory'), before);
        });
      }

      it('names the sections that lack a price', async () => {
        const venue = await newVenue();
        const res = await postEvent(eventBody(venue.id, { prices: [{ section: 'Stalls', amount: 1, currency: 'USD' }] }));
        assert.equal(res.statusCode, 400);
        assert.match(res.json().error.message, /Circle/);
        assert.match(res.json().error.message, /Standing/);
      });

      it('lists events with venue, status, price range and what is still available', async () => {
        const onSale = await newEvent();
        const scheduled = await newEvent({ onSaleAt: iso(DAY) });
        const ended = await newEvent({ onSaleAt: iso(-2 * DAY), startsAt: iso(-HOUR) });
        const res = await t.app.inject({ method: 'GET', url: '/api/events' });
        assert.equal(res.statusCode, 200);
        const byId = new Map<string, Record<string, unknown>>(res.json().events.map((e: { id: string }) => [e.id, e]));
        const listed = byId.get(onSale.id)!;
        assert.ok(listed);
        assert.equal(listed.name, 'Test Night');
        assert.deepEqual(listed.venue, onSale.venue);
        assert.equal(listed.startsAt, onSale.startsAt);
        assert.equal(listed.onSaleAt, onSale.onSaleAt);
        assert.equal(listed.status, 'on_sale');
        assert.deepEqual(listed.priceRange, { min: { amount: 2000, currency: 'USD' }, max: { amount: 5000, currency: 'USD' } });
        assert.equal(listed.available, 174);
        assert.equal(byId.get(scheduled.id)?.status, 'scheduled');
        assert.equal(byId.get(ended.id)?.status, 'ended');
      });

      it('lists the events to come first, soonest first, and those over after them, the latest first', async () => {
        const later = await newEvent({ startsAt: iso(30 * DAY) });
        const sooner = await newEvent({ startsAt: iso(2 * DAY) });
        const endedLongAgo = await newEvent({ onSaleAt: iso(-20 * DAY), startsAt: iso(-10 * DAY) });
        const endedLately = await newEvent({ onSaleAt: iso(-2 * DAY), startsAt: iso(-HOUR) });
        const ids = (await t.app.inject({ method: 'GET', url: '/api/events' }))
          .json<{ events: { id: string }[] }>()
          .events.map((e) => e.id);
        const at = (e: { id: string }) => ids.indexOf(e.id);
        assert.ok(at(sooner) >= 0 && at(sooner) < at(later), 'soonest first');
        assert.ok(at(later) < at(endedLately), 'events over after every event to come');
        assert.ok(at(endedLately) < at(endedLongAgo), 'the latest over first');
      });

      it("gives an organizer their own events on their page, an admin everyone's, and nobody else any", async () => {
        const mine = await newEvent();
        const theirs = await postEvent(
          eventBody((await postVenue(smallVenue(), otherOrganizer)).json().venue.id),
          otherOrganizer,
        );
        assert.equal(theirs.statusCode, 201, theirs.body);
        const theirId = theirs.json<{ event: { id: string } }>().event.id;
        const list = async (user?: TestUser) => {
          const res = await t.app.inject({ method: 'GET', url: '/api/admin/events', headers: user?.auth ?? {} });
          return { res, ids: res.statusCode === 200 ? res.json<{ events: { id: string }[] }>().events.map((e) => e.id) : [] };
        };
        const own = await list(organizer);
        assert.equal(own.res.statusCode, 200);
        assert.equal(own.res.headers['cache-control'], 'private, no-store');
        assert.ok(own.ids.includes(mine.id) && !own.ids.includes(theirId), 'only my events');
        const other = await list(otherOrganizer);
        assert.ok(other.ids.includes(theirId) && !other.ids.includes(mine.id));
        const all = await list(admin);
        assert.ok(all.ids.includes(mine.id) && all.ids.includes(theirId), 'an admin sees every event');
        assert.equal((await list(buyer)).res.statusCode, 403);
        assert.equal((await list(staff)).res.statusCode, 403);
        assert.equal((await list()).res.statusCode, 401);
      });

      it('counts pending and paid orders against what is available, and says sold_out when nothing is left', async () => {
        const venue = await newVenue({ name: 'Club', sections: [{ name: 'Floor', kind: 'ga', capacity: 2 }] });
        const event = await newEvent({ prices: [{ section: 'Floor', amount: 1500, currency: 'USD' }] }, venue.id);
        const sectionId = venue.sections[0]!.id;
        // The orders module is not built yet: write orders as it will, straight into the tables.
        const order = async (status: string, itemId: string) => {
          const orderId = `ord_${randomBytes(6).toString('hex')}`;
          await t.db.query(
            `INSERT INTO orders (id, event_id, user_id, status, total_amount, currency, expires_at)
             VALUES ($1, $2, $3, $4, 1500, 'USD', now() + interval '10 minutes')`,
            [orderId, event.id, buyer.id, status],
          );
          await t.db.query(
            `INSERT INTO order_items (id, order_id, event_id, section_id, quantity, price_amount) VALUES ($1, $2, $3, $4, 1, 1500)`,
            [itemId, orderId, event.id, sectionId],
          );
        };
        const listed = async () => {
          const res = await t.app.inject({ method: 'GET', url: '/api/events' });
          return res.json().events.find((e: { id: string }) => e.id === event.id) as { status: string; available: number };
        };
        const state = async () => {
          const { status, available } = await listed();
          return { status, available };
        };
        assert.deepEqual(await state(), { status: 'on_sale', available: 2 });
        await order('pending', 'itm_a');
        assert.deepEqual(await state(), { status: 'on_sale', available: 1 });
        await order('paid', 'itm_b');
        assert.deepEqual(await state(), { status: 'sold_out', available: 0 });
        // An expired or canceled order gives its place back.
        await t.db.query('UPDATE order_items SET active = false WHERE id = $1', ['itm_a']);
        assert.deepEqual(await state(), { status: 'on_sale', available: 1 });
      });

      it('shows one event with prices, limits and queue settings as they were set', async () => {
        const event = await newEvent({
          description: 'Doors at seven',
          maxSeatsPerOrder: 4,
          holdSeconds: 300,
          offSaleAt: iso(6 * DAY),
          queue: { admitPerMinute: 120, maxActive: 50, claimSeconds: 60, preQueueMinutes: 10 },
        });
        const res = await t.app.inject({ method: 'GET', url: `/api/events/${event.id}` });
        assert.equal(res.statusCode, 200);
        const detail = res.json().event;
        assert.equal(detail.description, 'Doors at seven');
        assert.equal(detail.maxSeatsPerOrder, 4);
        assert.equal(detail.holdSeconds, 300);
        assert.equal(detail.offSaleAt, event.offSaleAt);
        assert.equal(detail.queue.admitPerMinute, 120);
        assert.equal(detail.queue.maxActive, 50);
        assert.equal(detail.queue.claimSeconds, 60);
        assert.equal(detail.queue.preQueueMinutes, 10);
        assert.equal(detail.prices.length, 3);
        assert.deepEqual(detail, event, 'the detail is what creation returned');
      });

      it('answers 404 NOT_FOUND for an unknown event', async () => {
        const res = await t.app.inject({ method: 'GET', url: '/api/events/evt_doesnotexist' });
        assert.equal(res.statusCode, 404);
        assert.equal(errorCode(res), 'NOT_FOUND');
      });

      it('lets its organizer change an event; other changes keep the seat map version and ETag', async () => {
        const event = await newEvent();
        const before = await getSeatmap(event.id);
        const res = await patchEvent(event.id, { name: 'Renamed Night', holdSeconds: 120, queue: { admitPerMinute: 30 } });
        assert.equal(res.statusCode, 200, res.body);
        const changed = res.json().event;
        assert.equal(changed.name, 'Renamed Night');
        assert.equal(changed.holdSeconds, 120);
        assert.equal(changed.queue.admitPerMinute, 30);
        assert.equal(changed.queue.maxActive, 1000, 'settings not in the patch stay as they were');
        assert.equal(changed.seatmapVersion, 1);
        const detail = await t.app.inject({ method: 'GET', url: `/api/events/${event.id}` });
        assert.deepEqual(detail.json().event, changed);
        const after = await getSeatmap(event.id);
        assert.equal(after.headers.etag, before.headers.etag);
      });

      /** New prices for the event: the stalls at `stalls`, the others as they were. */
      const patchStallsPrice = (id: string, stalls: number) =>
        patchEvent(id, {
          prices: [
            { section: 'Stalls', amount: stalls, currency: 'USD' },
            { section: 'Circle', amount: 3500, currency: 'USD' },
            { section: 'Standing', amount: 2000, currency: 'USD' },
          ],
        });

      it('bumps the seat map version and ETag when prices change', async () => {
        const event = await newEvent();
        const before = await getSeatmap(event.id);
        assert.equal(before.json().version, 1);
        const res = await patchStallsPrice(event.id, 9900);
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().event.seatmapVersion, 2);
        assert.equal(res.json().event.prices[0].amount, 9900);
        const after = await getSeatmap(event.id, { 'if-none-match': String(before.headers.etag) });
        assert.equal(after.statusCode, 200, 'the old ETag no longer matches');
        assert.notEqual(after.headers.etag, before.headers.etag);
        assert.equal(after.json().version, 2);
        assert.deepEqual(after.json().sections[0].price, { amount: 9900, currency: 'USD' });
      });

      it('shows a price change in the seat map of another API process within a second', async () => {
        const event = await newEvent();
        const other = await anotherProcess(t.db);
        try {
          const map = async () =>
            (await other.inject({ method: 'GET', url: `/api/events/${event.id}/seatmap` })).json<{
              version: number;
              sections: { price: unknown }[];
            }>();
          assert.equal((await map()).version, 1);
          const res = await patchStallsPrice(event.id, 9100);
          assert.equal(res.statusCode, 200, res.body);
          const changed = Date.now();
          let seen = await map();
          while (seen.version !== 2 && Date.now() - changed < 3000) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            seen = await map();
          }
          assert.equal(seen.version, 2);
          assert.ok(Date.now() - changed <= 1500, `seen after ${Date.now() - changed} ms`);
          assert.deepEqual(seen.sections[0]!.price, { amount: 9100, currency: 'USD' });
        } finally {
          await other.close();
        }
      });

      it('refuses a change from another organizer with 403 FORBIDDEN and leaves the event as it was', async () => {
        const event = await newEvent();
        const res = await patchEvent(event.id, { name: 'Hijacked' }, otherOrganizer);
        assert.equal(res.statusCode, 403);
        assert.equal(errorCode(res), 'FORBIDDEN');
        const detail = await t.app.inject({ method: 'GET', url: `/api/events/${event.id}` });
        assert.equal(detail.json().event.name, 'Test Night');
      });

      it("lets an admin change any organizer's event", async () => {
        const event = await newEvent();
        const res = await patchEvent(event.id, { name: 'Admin Edit' }, admin);
        assert.equal(res.statusCode, 200);
        assert.equal(res.json().event.name, 'Admin Edit');
        assert.equal(res.json().event.organizerId, organizer.id, 'the event keeps its organizer');
      });

      it('refuses a change that puts the sale after the start, and an empty change', async () => {
        const event = await newEvent();
        const late = await patchEvent(event.id, { onSaleAt: iso(30 * DAY) });
        assert.equal(late.statusCode, 400);
        assert.equal(errorCode(late), 'VALIDATION_FAILED');
        const empty = await patchEvent(event.id, {});
        assert.equal(empty.statusCode, 400);
        const detail = await t.app.inject({ method: 'GET', url: `/api/events/${event.id}` });
        assert.equal(detail.json().event.onSaleAt, event.onSaleAt);
      });

      it('answers 404 NOT_FOUND for a change to an unknown event', async () => {
        const res = await patchEvent('evt_doesnotexist', { name: 'Nope' });
        assert.equal(res.statusCode, 404);
        assert.equal(errorCode(res), 'NOT_FOUND');
      });
    });

    describe('roles', () => {
      let venueId: string;
      let eventId: string;
      const routes = () => [
        { method: 'POST' as const, url: '/api/venues', payload: smallVenue('Role check') },
        { method: 'GET' as const, url: '/api/venues' },
        { method: 'GET' as const, url: `/api/venues/${venueId}` },
        { method: 'PATCH' as const, url: `/api/venues/${venueId}`, payload: { name: 'Role check hall' } },
        { method: 'GET' as const, url: `/api/venues/${venueId}/audit` },
        { method: 'POST' as const, url: '/api/events', payload: eventBody(venueId) },
        { method: 'PATCH' as const, url: `/api/events/${eventId}`, payload: { name: 'Role check' } },
        { method: 'PATCH' as const, url: `/api/admin/users/${buyer.id}`, payload: { role: 'organizer' } },
      ];

      before(async () => {
        venueId = (await newVenue()).id;
        eventId = (await newEvent({}, venueId)).id;
      });

      it('answers 401 UNAUTHENTICATED on every organizer and admin route without a session, and changes nothing', async () => {
        const before = await countRows(t.db, 'venues', 'events');
        for (const route of routes()) {
          const res = await t.app.inject(route);
          assert.equal(res.statusCode, 401, `${route.method} ${route.url}`);
          assert.equal(errorCode(res), 'UNAUTHENTICATED', `${route.method} ${route.url}`);
        }
        assert.deepEqual(await countRows(t.db, 'venues', 'events'), before);
      });

      for (const role of ['buyer', 'staff'] as const) {
        it(`answers 403 FORBIDDEN to a ${role} on every organizer and admin route, and changes nothing`, async () => {
          const user = role === 'buyer' ? buyer : staff;
          const before = await countRows(t.db, 'venues', 'events');
          for (const route of routes()) {
            const res = await t.app.inject({ ...route, headers: user.auth });
            assert.equal(res.statusCode, 403, `${route.method} ${route.url}`);
            assert.equal(errorCode(res), 'FORBIDDEN', `${route.method} ${route.url}`);
          }
          assert.deepEqual(await countRows(t.db, 'venues', 'events'), before);
          const event = await t.app.inject({ method: 'GET', url: `/api/events/${eventId}` });
          assert.equal(event.json().event.name, 'Test Night');
          assert.notEqual(event.json().event.venue.name, 'Role check hall');
          const roles = await t.db.query<{ role: string }>('SELECT role FROM users WHERE id = $1', [buyer.id]);
          assert.equal(roles[0]!.role, 'buyer');
        });
      }

      it('lets an organizer through every organizer route but not the admin one', async () => {
        const [admins, ...organizerRoutes] = routes().reverse();
        for (const route of organizerRoutes) {
          const res = await t.app.inject({ ...route, headers: organizer.auth });
          assert.ok(
            res.statusCode === 200 || res.statusCode === 201,
            `${route.method} ${route.url}: ${res.statusCode} ${res.body}`,
          );
        }
        const res = await t.app.inject({ ...admins!, headers: organizer.auth });
        assert.equal(res.statusCode, 403);
        assert.equal(errorCode(res), 'FORBIDDEN');
      });
    });

    describe('seat map', () => {
      let event: { id: string };
      let venue: { id: string; sections: SectionOut[] };
      before(async () => {
        venue = await newVenue();
        event = await newEvent({}, venue.id);
      });

      it('serves the seat map with prices, rows, seat indexes and GA capacity', async () => {
        const res = await getSeatmap(event.id);
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        const map: { eventId: string; version: number; sections: SectionOut[] } = res.json();
        assert.equal(map.eventId, event.id);
        assert.equal(map.version, 1);
        assert.deepEqual(
          map.sections.map((s) => [s.id, s.name, s.kind, s.price]),
          [
            [venue.sections[0]!.id, 'Stalls', 'seated', { amount: 5000, currency: 'USD' }],
            [venue.sections[1]!.id, 'Circle', 'seated', { amount: 3500, currency: 'USD' }],
            [venue.sections[2]!.id, 'Standing', 'ga', { amount: 2000, currency: 'USD' }],
          ],
        );
        assert.equal(map.sections[2]!.capacity, 100);
        assert.deepEqual(seatsOf(map.sections), seatsOf(venue.sections), 'same seats, ids and indexes as the venue');
      });

      it('marks it cacheable by anyone with a strong ETag', async () => {
        const res = await getSeatmap(event.id);
        const etag = String(res.headers.etag);
        assert.match(etag, /^"[^"]+"$/, 'a strong ETag: quoted, no W/ prefix');
        assert.match(String(res.headers['cache-control']), /\bpublic\b/);
        const again = await getSeatmap(event.id);
        assert.equal(again.headers.etag, etag, 'the same version has the same ETag');
        assert.equal(again.body, res.body);
      });

      it('answers 304 with an empty body when If-None-Match carries the current ETag', async () => {
        const first = await getSeatmap(event.id);
        const etag = String(first.headers.etag);
        for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
          const res = await getSeatmap(event.id, { 'if-none-match': ifNoneMatch });
          assert.equal(res.statusCode, 304, ifNoneMatch);
          assert.equal(res.body, '');
          assert.equal(res.headers.etag, etag);
          // RFC 9110 8.6: a 304 carries no Content-Length, or the length the 200 would have had.
          const length = res.headers['content-length'];
          assert.ok(length === undefined || length === String(first.rawPayload.length), `Content-Length ${length}`);
        }
      });

      it('answers 200 with the body when If-None-Match carries another ETag', async () => {
        const plain = await getSeatmap(event.id);
        const res = await getSeatmap(event.id, { 'if-none-match': '"not-the-current-one"' });
        assert.equal(res.statusCode, 200);
        assert.equal(res.body, plain.body);
      });

      it('sends it gzip-compressed to clients that accept gzip, with the same content', async () => {
        const plain = await getSeatmap(event.id);
        assert.equal(plain.headers['content-encoding'], undefined);
        const res = await getSeatmap(event.id, { 'accept-encoding': 'gzip, deflate, br' });
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-encoding'], 'gzip');
        assert.match(String(res.headers.vary), /Accept-Encoding/i);
        const unzipped = gunzipSync(res.rawPayload).toString('utf8');
        assert.equal(unzipped, plain.body);
        assert.ok(res.rawPayload.length < plain.rawPayload.length);
      });

      it('serves the same bytes and ETag from another API process', async () => {
        const mine = await getSeatmap(event.id);
        const other = await anotherProcess(t.db);
        try {
          const theirs = await other.inject({ method: 'GET', url: `/api/events/${event.id}/seatmap` });
          assert.equal(theirs.statusCode, 200);
          assert.equal(theirs.headers.etag, mine.headers.etag);
          assert.equal(theirs.body, mine.body);
        } finally {
          await other.close();
        }
      });

      it('answers 404 NOT_FOUND for an unknown event and 400 for a malformed id', async () => {
        const missing = await getSeatmap('evt_doesnotexist');
        assert.equal(missing.statusCode, 404);
        assert.equal(errorCode(missing), 'NOT_FOUND');
        const malformed = await getSeatmap('not*an*id');
        assert.equal(malformed.statusCode, 400);
        assert.equal(errorCode(malformed), 'VALIDATION_FAILED');
      });
    });

    describe('performance', () => {
      it('creates a 50,000-seat venue in one request in under 5 s and serves its seat map fast', async () => {
        const sections = Array.from({ length: 10 }, (_, i) => ({
          name: `Block ${i + 1}`,
          kind: 'seated',
          grid: { rows: 50, seatsPerRow: 100 },
        }));
        // CI runs test files two at a time on two cores, so another file's work can land inside one
        // timing: a creation over the limit is tried once more, and the better of the two counts
        // (interference only ever adds time; what is asked is what the server can do).
        let created: Awaited<ReturnType<typeof postVenue>> | undefined;
        const createMs: number[] = [];
        while (createMs.length < 2 && !(createMs.length > 0 && Math.min(...createMs) < 5000)) {
          const started = performance.now();
          created = await postVenue({ name: `Stadium ${createMs.length + 1}`, sections });
          createMs.push(performance.now() - started);
          assert.equal(created.statusCode, 201);
        }
        const venue = created!.json().venue;
        assert.equal(venue.seatCount, 50_000);
        assert.ok(Math.min(...createMs) < 5000, `venue creation took ${createMs.map(Math.round).join(' and ')} ms`);
        const seats = seatsOf(venue.sections);
        assert.equal(seats.length, 50_000);
        assert.equal(seats.at(-1)!.index, 49_999);

        const prices = sections.map((s) => ({ section: s.name, amount: 4000, currency: 'USD' }));
        const event = await postEvent(eventBody(venue.id, { prices }));
        assert.equal(event.statusCode, 201, event.body);
        const eventId = event.json().event.id;

        let started = performance.now();
        const first = await getSeatmap(eventId);
        const firstMs = performance.now() - started;
        assert.equal(first.statusCode, 200);
        assert.ok(firstMs < 2000, `first seat map took ${Math.round(firstMs)} ms`);

        // Later reads come from the cache; the best of five keeps a garbage-collection pause, or
        // another test file's work on the same cores, from deciding the result.
        const laterMs: number[] = [];
        let second = first;
        for (let i = 0; i < 5; i++) {
          started = performance.now();
          second = await getSeatmap(eventId);
          laterMs.push(performance.now() - started);
          assert.equal(second.statusCode, 200);
        }
        const bestMs = Math.min(...laterMs);
        assert.ok(bestMs < 200, `cached seat map took ${Math.round(bestMs)} ms (best of five)`);
        assert.equal(second.body, first.body, 'the cached map is the one first built');
        assert.equal(seatsOf(second.json().sections).length, 50_000);
      });
    });
  });
}
