// The waiting-room page across a restart of the embedded server: the memory store starts empty,
// the queue comes back from the database (waiting-room.rebuild.ts), and the page's stream picks it
// up again without the buyer doing anything — or, where the buyer's place was lost before it was
// saved, the page joins again by itself. Holds are not saved: the seat page asks for the same seats
// again when the server no longer knows its hold.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { openDb } from '../../src/platform/db.ts';
import {
  ADMIN,
  apiClient,
  buildWeb,
  chromiumAvailable,
  launch,
  login,
  pausedQueue,
  type Server,
  signIn,
  signup,
  startServer,
  until,
} from './e2e.helpers.ts';

const enabled = chromiumAvailable();

describe('the waiting room page across a server restart', { skip: !enabled }, () => {
  let server: Server;
  let browser: Browser;

  before(async () => {
    buildWeb();
    server = await startServer();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /**
   * An organizer's event with its queue paused and `queue.ahead` already in it, and a new buyer
   * signed in on the waiting-room page (admission opened first when `open`).
   */
  async function buyerAtQueue(
    names: { organizer: string; buyer: string },
    queue: Parameters<typeof pausedQueue>[2],
    open = false,
  ) {
    const adminToken = await login(server.url, ADMIN.email, ADMIN.password);
    const organizer = await signup(server.url, names.organizer, 'organizer', adminToken);
    const org = apiClient(server.url, organizer.token);
    const eventId = await pausedQueue(server.url, organizer.token, queue);
    if (open) await org('PATCH', `/api/admin/events/${eventId}/queue`, { paused: false });
    const buyer = await signup(server.url, names.buyer);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, server.url, buyer.email, buyer.password);
    await page.goto(`${server.url}/events/${eventId}/queue`);
    return { org, eventId, buyer, context, page };
  }

  it("keeps the buyer's place while the server restarts, then admits them in turn", async () => {
    // Three buyers ahead while admission is paused.
    const { org, eventId, context, page } = await buyerAtQueue(
      { organizer: 'rhea', buyer: 'ivy' },
      {
        venue: 'Pier Hall',
        event: 'Night Ferry',
        section: { kind: 'ga', capacity: 100 },
        amount: 2000,
        admitPerMinute: 60,
        ahead: ['ada', 'bo', 'cy'],
      },
    );
    await page.getByText('Updating live.').waitFor();
    assert.equal(Number(await page.getByTestId('queue-position').textContent()), 3);

    // The admission ticker copies the numbered places to the database a few times a second.
    await page.waitForTimeout(1000);
    let streamsAfter = 0;
    let restarted = false;
    page.on('response', (res) => {
      if (restarted && res.url().endsWith(`/api/events/${eventId}/queue/stream`) && res.status() === 200) streamsAfter++;
    });
    await server.restart();
    restarted = true;
    // The page's stream reconnects by itself and finds the same place: three still ahead.
    await until(() => streamsAfter > 0, 20_000, 'the stream to reconnect after the restart');
    await page.waitForTimeout(500);
    assert.equal(Number(await page.getByTestId('queue-position').textContent()), 3);

    await org('PATCH', `/api/admin/events/${eventId}/queue`, { paused: false });
    await page.getByTestId('queue-admitted').waitFor({ timeout: 30_000 });
    await page.waitForURL(`**/events/${eventId}/seats`, { timeout: 10_000 });
    await context.close();
  });

  it('joins again by itself when its place was lost before it was saved, and is admitted in turn', async () => {
    const { org, eventId, buyer, context, page } = await buyerAtQueue(
      { organizer: 'otto', buyer: 'june' },
      {
        venue: 'Mill Yard',
        event: 'Low Tide',
        section: { kind: 'ga', capacity: 100 },
        amount: 1500,
        admitPerMinute: 60,
        ahead: ['dee', 'eli'],
      },
    );
    await page.getByText('Updating live.').waitFor();
    assert.equal(Number(await page.getByTestId('queue-position').textContent()), 2);
    await page.waitForTimeout(1000);

    const seen: string[] = [];
    let restarted = false;
    page.on('response', (res) => {
      const url = new URL(res.url());
      if (restarted && url.pathname.startsWith(`/api/events/${eventId}/queue`))
        seen.push(`${res.request().method()} ${url.pathname.slice(`/api/events/${eventId}`.length)} ${res.status()}`);
    });
    // While the server is down, the buyer's copied place is taken out of the database, as if the
    // server had stopped before the ticker copied it (the two ahead keep theirs).
    await server.restart(async (dataDir) => {
      const db = await openDb({ dataDir });
      try {
        const rows = await db.query<{ n: number }>(
          `UPDATE queue_place_ranges SET user_ids = array_replace(user_ids, $2, '')
            WHERE event_id = $1 AND $2 = ANY (user_ids) RETURNING 1 AS n`,
          [eventId, buyer.id],
        );
        assert.equal(rows.length, 1, "the buyer's place had been copied");
      } finally {
        await db.close();
      }
    });
    restarted = true;
    // The stream is refused (no place), the page reads its place (404) and joins again: behind the two.
    await until(() => seen.includes('POST /queue 201'), 30_000, `the page to join again (saw: ${seen.join(', ')})`);
    assert.ok(seen.includes('GET /queue 404'), seen.join(', '));
    await until(
      async () => Number(await page.getByTestId('queue-position').textContent()) === 2,
      10_000,
      'the position after joining again',
    );

    await org('PATCH', `/api/admin/events/${eventId}/queue`, { paused: false });
    await page.getByTestId('queue-admitted').waitFor({ timeout: 30_000 });
    await page.waitForURL(`**/events/${eventId}/seats`, { timeout: 10_000 });
    await context.close();
  });

  it('asks for the same seats again at checkout when the hold was lost in a restart', async () => {
    const { eventId, buyer, context, page } = await buyerAtQueue(
      { organizer: 'nell', buyer: 'wren' },
      {
        venue: 'Rope Walk',
        event: 'Slack Water',
        section: { kind: 'seated', grid: { rows: 2, seatsPerRow: 5 } },
        amount: 2500,
        admitPerMinute: 60,
        ahead: [],
      },
      true,
    );
    await page.waitForURL(`**/events/${eventId}/seats`, { timeout: 20_000 });
    const map = await apiClient(server.url)<{ sections: { rows?: { seats: { id: string }[] }[] }[] }>(
      'GET',
      `/api/events/${eventId}/seatmap`,
    );
    const seat = map.sections[0]!.rows![1]!.seats[2]!; // row B, seat 3
    await page.locator('#list-row').selectOption('B');
    await page.locator(`[data-seat-id="${seat.id}"]`).check();
    await page.getByTestId('hold-seats').getByText('row B · seat 3').waitFor();

    // The embedded server restarts: its holds were in memory only.
    await server.restart();
    const buyerApi = apiClient(server.url, buyer.token);
    const { queue } = await buyerApi<{ queue: { admission: { token: string } | null } }>('GET', `/api/events/${eventId}/queue`);
    const hold = await fetch(`${server.url}/api/events/${eventId}/hold`, {
      headers: { authorization: `Bearer ${buyer.token}`, 'x-admission-token': queue.admission!.token },
    });
    assert.equal(hold.status, 404, 'the server has no hold for the buyer after the restart');

    const puts: number[] = [];
    page.on('response', (res) => {
      if (res.request().method() === 'PUT' && res.url().endsWith(`/api/events/${eventId}/hold`)) puts.push(res.status());
    });
    await page.getByRole('button', { name: 'Continue to checkout' }).click();
    await page.waitForURL('**/checkout/*', { timeout: 10_000 });
    assert.deepEqual(puts, [200], 'the page held the same seat again once');
    const orderId = page.url().split('/').at(-1)!;
    const { order } = await buyerApi<{ order: { status: string; items: { seatId: string }[] } }>('GET', `/api/orders/${orderId}`);
    assert.equal(order.status, 'pending');
    assert.deepEqual(
      order.items.map((i) => i.seatId),
      [seat.id],
    );
    await context.close();
  });
});
