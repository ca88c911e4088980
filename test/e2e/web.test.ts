import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  apiClient,
  chromiumAvailable,
  harbourHallStage,
  pausedQueue,
  pendingOrder,
  type SeatmapBody,
  type Server,
  type Stage,
  shoot,
  signIn,
  signup,
  until,
} from './e2e.helpers.ts';

const enabled = chromiumAvailable();
const VIEW = { viewport: { width: 1280, height: 800 } };

describe('web pages in headless Chromium', { skip: !enabled }, () => {
  let stage: Stage;
  let server: Server;
  let browser: Browser;
  let organizer: Stage['organizer'];
  let eventId: string;
  const buyer = { email: `bea.${Date.now().toString(36)}@e2e.test`, password: 'bea-password-1', name: 'Bea Buyer' };

  before(async () => {
    stage = await harbourHallStage('olive');
    ({ server, browser, organizer, eventId } = stage);
  });
  after(async () => stage?.close());

  it('keeps the buyer bundle (entry JS and CSS) under 200 KB gzipped', () => {
    const html = readFileSync('web/dist/index.html', 'utf8');
    const assets = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')));
    const bytes = assets.reduce((n, a) => n + gzipSync(readFileSync(path.join('web/dist', a)), { level: 9 }).length, 0);
    console.log(`# buyer bundle: ${(bytes / 1024).toFixed(1)} KB gzipped (${assets.join(', ')})`);
    assert.ok(bytes < 200 * 1024, `${bytes} bytes gzipped`);
  });

  it('takes a buyer from sign-up through the waiting room and the seat map to a declined and then a paid card and a QR ticket, while another browser sees the seat taken', async () => {
    // Buyers ahead, through the API, while admission is paused, so this buyer's position starts
    // above zero; admission resumes once the page shows it (at 30 a minute: one every 2 s).
    const org = apiClient(server.url, organizer.token);
    await org('PATCH', `/api/admin/events/${eventId}/queue`, { paused: true });
    for (const name of ['ann', 'bob', 'cy']) {
      const b = await signup(server.url, name);
      await apiClient(server.url, b.token)('POST', `/api/events/${eventId}/queue`);
    }
    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await page.goto(server.url + '/');
    await page.getByRole('link', { name: 'Lighthouse Sessions' }).waitFor();
    await shoot(page, 'home');
    await page.getByRole('link', { name: 'Lighthouse Sessions' }).click();
    await page.getByRole('heading', { name: 'Lighthouse Sessions' }).waitFor();
    await shoot(page, 'event');
    await page.getByRole('link', { name: 'Get tickets' }).click();
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Your name').fill(buyer.name);
    await page.getByLabel('E-mail').fill(buyer.email);
    await page.getByLabel(/^Password/).fill(buyer.password);
    await shoot(page, 'signup');
    await page.getByRole('button', { name: 'Create account' }).click();

    // The waiting room: the position falls until the buyer is admitted.
    await page.waitForURL(`**/events/${eventId}/queue`);
    const positions: number[] = [];
    let shot = false;
    await until(
      async () => {
        if (await page.getByTestId('queue-admitted').isVisible()) return true;
        const text = await page
          .getByTestId('queue-position')
          .textContent({ timeout: 200 })
          .catch(() => null);
        if (text !== null && positions.at(-1) !== Number(text)) positions.push(Number(text));
        if (text !== null && !shot) {
          shot = true;
          await shoot(page, 'waiting-room');
          await org('PATCH', `/api/admin/events/${eventId}/queue`, { paused: false });
        }
        return false;
      },
      40_000,
      'admission',
    );
    console.log(`# positions seen in the waiting room: ${positions.join(' → ')} → admitted`);
    assert.ok(positions[0]! > 0, 'the buyer started behind others');
    assert.ok(positions.length >= 2 && positions.at(-1)! < positions[0]!, 'the position fell');

    // The seat map: the page moves on by itself once admitted.
    await page.waitForURL(`**/events/${eventId}/seats`, { timeout: 10_000 });
    await page.waitForFunction(() => performance.getEntriesByName('tm-seatmap-first-frame', 'measure').length > 0);
    const map = await apiClient(server.url)<SeatmapBody>('GET', `/api/events/${eventId}/seatmap`);
    const stalls = map.sections.find((s) => s.name === 'Stalls')!;
    const seat = stalls.rows![2]!.seats[5]!; // row C, seat 6
    const second = stalls.rows![2]!.seats[6]!;

    // A second browser (not signed in) watches the same map.
    const watcher = await (await browser.newContext(VIEW)).newPage();
    await watcher.goto(`${server.url}/events/${eventId}/seats`);
    await watcher.waitForFunction((id) => window.tmSeatmap?.status(id) === 0, seat.id);

    // Click the seat where the canvas draws it.
    await page.evaluate((id) => window.tmSeatmap!.focus(id), seat.id);
    await page.waitForTimeout(100);
    const at = await page.evaluate((id) => window.tmSeatmap!.seatToClient(id)!, seat.id);
    await page.mouse.click(at.x, at.y);
    await page.getByTestId('hold-seats').getByText('row C · seat 6').waitFor();
    const held = Date.now();
    await watcher.waitForFunction((id) => window.tmSeatmap?.status(id) === 1, seat.id, { timeout: 2000 });
    console.log(`# the other browser saw the seat taken ${Date.now() - held} ms after the hold`);
    assert.equal(await page.evaluate((id) => window.tmSeatmap!.status(id), seat.id), 2, 'drawn as mine');

    // The keyboard way: the seat list's checkbox adds the neighbour.
    await page.locator('#list-row').selectOption('C');
    await page.locator(`[data-seat-id="${second.id}"]`).check();
    await page.getByTestId('hold-seats').getByText('row C · seat 7').waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shoot(page, 'seats');
    await shoot(watcher, 'seats-other-browser');

    await page.getByRole('button', { name: 'Continue to checkout' }).click();
    await page.waitForURL('**/checkout/*');
    const orderId = page.url().split('/').at(-1)!;
    await page.getByLabel('Card number').fill('4000 0000 0000 0002');
    await page.getByLabel('Expiry (MM/YY)').fill('12/30');
    await page.getByLabel('CVC').fill('123');
    await shoot(page, 'checkout');
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.getByRole('alert').getByText('Your card was declined by your bank').waitFor();
    await shoot(page, 'checkout-declined');

    await page.getByLabel('Card number').fill('4242424242424242');
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.waitForURL(`**/orders/${orderId}`);
    await page.getByRole('heading', { name: 'You have your tickets!' }).waitFor();
    const qr = page.getByRole('img', { name: /QR code of the ticket for Stalls · row C · seat 6/ });
    await qr.waitFor();
    await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
    const box = (await qr.boundingBox())!;
    assert.ok(box.width >= 250, `the QR code is ${box.width} px wide`);
    await shoot(page, 'confirmation');
    await page.getByRole('link', { name: 'My tickets' }).click();
    await page.getByRole('heading', { name: 'My orders and tickets' }).waitFor();
    assert.equal(await page.getByTestId('ticket').count(), 2);
    await shoot(page, 'my-tickets');
    await context.close();
    await watcher.context().close();
  });

  it('lets an organizer create a venue and an event through the pages, watch its dashboard and pause its queue', async () => {
    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await signIn(page, server.url, organizer.email, organizer.password);
    await page.getByRole('link', { name: 'Organizer' }).click();
    await page.getByRole('link', { name: 'Dashboard of Lighthouse Sessions' }).waitFor();
    await shoot(page, 'organizer-home');

    await page.getByRole('link', { name: 'Dashboard of Lighthouse Sessions' }).click();
    await page.getByTestId('stat-sold').getByText('2').waitFor();
    await shoot(page, 'dashboard');

    await page.goto(server.url + '/organizer');
    await page.getByRole('link', { name: 'Create a venue' }).click();
    await page.getByLabel('Venue name').fill('Quayside Theatre');
    await page.locator('#s0-name').fill('Main floor');
    await page.locator('#s0-rows').fill('6');
    await page.locator('#s0-seats').fill('14');
    await page.getByRole('button', { name: 'Add a section' }).click();
    await page.locator('#s1-name').fill('Bar');
    await page.locator('#s1-kind').selectOption('ga');
    await page.locator('#s1-capacity').fill('80');
    await shoot(page, 'venue-form');
    await page.getByRole('button', { name: 'Create venue' }).click();

    await page.waitForURL('**/organizer/events/new?venue=*');
    await page.getByLabel('Event name').fill('Quayside Comedy Night');
    await page.getByLabel('Description').fill('Stand-up by the harbour.');
    await page.getByLabel('Main floor').fill('30');
    await page.getByLabel('Bar (standing)').fill('15.50');
    await page.getByLabel('Admit per minute').fill('120');
    await shoot(page, 'event-form');
    await page.getByRole('button', { name: 'Create event' }).click();

    await page.waitForURL(/\/organizer\/events\/(?!new)[^/?]+$/);
    const newId = page.url().split('/').at(-1)!;
    await page.getByRole('heading', { name: 'Dashboard: Quayside Comedy Night' }).waitFor();
    await page.getByTestId('queue-state').getByText('running').waitFor();
    await page.getByRole('button', { name: 'Pause admission' }).click();
    await page.getByTestId('queue-state').getByText('paused').waitFor();
    await page.getByLabel('At most at once').fill('40');
    await page.getByRole('button', { name: 'Set limit' }).click();
    await page.getByText('(at most 40 at once)').waitFor();
    await page.getByTestId('backoff').getByText('Admission back-off at 5,000 ms').waitFor();
    const queue = await apiClient(server.url, organizer.token)<{
      paused: boolean;
      admitPerMinute: number;
      maxActive: number;
      backoff: { thresholdMs: number } | null;
    }>('GET', `/api/admin/events/${newId}/queue`);
    assert.equal(queue.paused, true);
    assert.equal(queue.admitPerMinute, 120);
    assert.equal(queue.maxActive, 40);
    assert.equal(queue.backoff?.thresholdMs, 5000);
    // The sale's log of changes, newest first, with who made them.
    const changes = page.getByTestId('sale-changes').getByRole('listitem');
    await changes.first().getByText('set at most 40 at once (was 1,000)').waitFor();
    await changes.nth(1).getByText('paused admission').waitFor();
    await shoot(page, 'dashboard-paused');

    // Edit the event: the form loads its values, and the change is saved.
    await page.getByRole('link', { name: 'Edit event' }).click();
    await page.getByLabel('Minutes to pay').fill('5');
    await page.getByLabel('Event name').fill('Quayside Comedy Night (late show)');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Dashboard: Quayside Comedy Night (late show)' }).waitFor();
    const edited = await apiClient(server.url)<{ event: { holdSeconds: number; queue: { admitPerMinute: number } } }>(
      'GET',
      `/api/events/${newId}`,
    );
    assert.equal(edited.event.holdSeconds, 300);
    assert.equal(edited.event.queue.admitPerMinute, 120);
    await changes
      .first()
      .getByText('changed the name to "Quayside Comedy Night (late show)", the hold time (s) to 300.')
      .waitFor();
    await context.close();
  });

  it('shows a "confirming with your bank" wait for the asynchronous card, then the tickets', async () => {
    const b = await signup(server.url, 'dee');
    const map = await apiClient(server.url)<SeatmapBody>('GET', `/api/events/${eventId}/seatmap`);
    const seat = map.sections.find((s) => s.name === 'Circle')!.rows![0]!.seats[0]!;
    const order = { id: await pendingOrder(server.url, b, eventId, seat.id) };

    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await signIn(page, server.url, b.email, b.password);
    await page.goto(`${server.url}/checkout/${order.id}`);
    await page.getByLabel('Card number').fill('4000000000000077');
    await page.getByLabel('Expiry (MM/YY)').fill('01/31');
    await page.getByLabel('CVC').fill('4321');
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.getByText('Confirming with your bank').waitFor();
    await shoot(page, 'checkout-confirming');
    await page.waitForURL(`**/orders/${order.id}`, { timeout: 15_000 });
    await page.getByRole('img', { name: /QR code of the ticket for Circle · row A · seat 1/ }).waitFor();
    await context.close();
  });

  it('follows the queue through the public status when the browser cannot stream, reading its own place only when its turn comes', async () => {
    const org = apiClient(server.url, organizer.token);
    // Four buyers ahead while admission is paused; at 20 a minute it then takes about 12 s to reach this one.
    const event = {
      id: await pausedQueue(server.url, organizer.token, {
        venue: 'Quay Studio',
        event: 'Tide Tables',
        section: { kind: 'seated', grid: { rows: 2, seatsPerRow: 10 } },
        amount: 3000,
        admitPerMinute: 20,
        ahead: ['dee', 'eli', 'fay', 'gus'],
      }),
    };
    const b = await signup(server.url, 'hal');
    const context = await browser.newContext(VIEW);
    // A browser (or a proxy) without server-sent events: the page falls back to polling.
    await context.addInitScript(() => {
      delete (window as { EventSource?: unknown }).EventSource;
    });
    const page = await context.newPage();
    const reads = { status: 0, own: 0 };
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (r.method() !== 'GET') return;
      if (url.pathname === `/api/events/${event.id}/queue/status`) reads.status++;
      if (url.pathname === `/api/events/${event.id}/queue`) reads.own++;
    });
    await signIn(page, server.url, b.email, b.password);
    await page.goto(`${server.url}/events/${event.id}/queue`);
    await page.getByText('Updating every few seconds.').waitFor();
    const first = Number(await page.getByTestId('queue-position').textContent());
    assert.equal(first, 4);
    await org('PATCH', `/api/admin/events/${event.id}/queue`, { paused: false });
    const positions = [first];
    await until(
      async () => {
        if (await page.getByTestId('queue-admitted').isVisible()) return true;
        const text = await page
          .getByTestId('queue-position')
          .textContent({ timeout: 200 })
          .catch(() => null);
        if (text !== null && positions.at(-1) !== Number(text)) positions.push(Number(text));
        return false;
      },
      40_000,
      'admission by polling',
    );
    console.log(
      `# polling without a stream: positions ${positions.join(' → ')} → admitted, after ${reads.status} status polls and ${reads.own} reads of the own place`,
    );
    assert.ok(positions.length >= 2 && positions.at(-1)! < first, 'the position fell while polling');
    assert.ok(reads.status >= 2, 'the page followed the public status');
    // While waiting the page read its own place at most once (the turn); the status told it the rest.
    assert.ok(reads.own <= 2, `${reads.own} reads of the own place`);
    await page.waitForURL(`**/events/${event.id}/seats`, { timeout: 10_000 });
    await context.close();
  });

  it('draws the first frame of a 50,000-seat stadium map in under a second', async () => {
    const org = apiClient(server.url, organizer.token);
    const names = [
      'North',
      'North-East',
      'East',
      'South-East',
      'South',
      'South-West',
      'West',
      'North-West',
      'Upper North',
      'Upper South',
    ];
    const { venue } = await org<{ venue: { id: string } }>('POST', '/api/venues', {
      name: 'Riverside Stadium',
      sections: names.map((name, i) => ({
        name,
        kind: 'seated',
        grid: { rows: 50, seatsPerRow: 100, origin: { x: (i % 5) * 104, y: Math.floor(i / 5) * 54 } },
      })),
    });
    const { event } = await org<{ event: { id: string } }>('POST', '/api/events', {
      venueId: venue.id,
      name: 'Summer Anthems',
      startsAt: new Date(Date.now() + 40 * 86_400_000).toISOString(),
      onSaleAt: new Date(Date.now() - 60_000).toISOString(),
      prices: names.map((section, i) => ({ section, amount: 12_000 - i * 500, currency: 'USD' })),
    });
    const page = await (await browser.newContext(VIEW)).newPage();
    const firstFrame = async () => {
      await page.waitForFunction(() => performance.getEntriesByName('tm-seatmap-first-frame', 'measure').length > 0, null, {
        timeout: 20_000,
      });
      return page.evaluate(() => ({
        total: performance.getEntriesByName('tm-seatmap-first-frame', 'measure')[0]!.duration,
        draw:
          performance.getEntriesByName('tm-seatmap-first-frame', 'mark')[0]!.startTime -
          performance.getEntriesByName('tm-seatmap-data', 'mark')[0]!.startTime,
      }));
    };
    await page.goto(`${server.url}/events/${event.id}/seats`);
    const cold = await firstFrame();
    // The budget is for a warm server; the median of three loads, so one stall of a shared machine
    // does not decide it (a slow map is slow on every load).
    const warmRuns = [];
    for (let i = 0; i < 3; i++) {
      await page.reload();
      warmRuns.push(await firstFrame());
    }
    const warm = warmRuns.sort((a, b) => a.total - b.total)[1]!;
    console.log(
      `# 50,000-seat map, request to first frame: ${cold.total.toFixed(0)} ms on the server's first build of the map, then ${warmRuns.map((r) => r.total.toFixed(0)).join(', ')} ms (median ${warm.total.toFixed(0)} ms, of which ${warm.draw.toFixed(0)} ms index and draw)`,
    );
    assert.ok(
      warm.total < 1000,
      `first frame after ${warm.total} ms (median of ${warmRuns.map((r) => r.total.toFixed(0)).join(', ')})`,
    );

    // Pan and zoom for a while: each frame blits the cached layer (or, zoomed in, the visible seats).
    const canvas = (await page.getByTestId('seatmap').boundingBox())!;
    const before = await page.evaluate(() => window.tmSeatmap!.drawStats());
    const cx = canvas.x + canvas.width / 2;
    const cy = canvas.y + canvas.height / 2;
    await page.mouse.move(cx, cy);
    for (const zoom of [0, 4, 12]) {
      for (let i = 0; i < zoom; i++) await page.mouse.wheel(0, -120);
      await page.mouse.down();
      for (let i = 0; i < 30; i++) await page.mouse.move(cx + Math.sin(i / 5) * 200, cy + Math.cos(i / 5) * 80);
      await page.mouse.up();
    }
    const after = await page.evaluate(() => window.tmSeatmap!.drawStats());
    const frames = after.frames - before.frames;
    const avg = (after.totalMs - before.totalMs) / frames;
    console.log(
      `# panning and zooming the 50,000-seat map: ${frames} frames, ${avg.toFixed(2)} ms a frame on average, ${after.maxMs.toFixed(1)} ms at most`,
    );
    assert.ok(frames >= 30, 'the map redrew while it moved');
    assert.ok(avg < 16, `a frame takes ${avg} ms on average: too slow for 60 fps`);
    await page.waitForTimeout(300);
    await shoot(page, 'stadium-seats');
    await page.context().close();
  });
});
