// The door in headless Chromium when the venue's connection drops: tickets checked on the device
// by their Ed25519 signature and against the door list read before (used and refunded tickets),
// the check-ins kept and sent when the connection is back, and what the server then refuses
// (another door let the ticket in too; a refund meanwhile) shown.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  apiClient,
  chromiumAvailable,
  harbourHallStage,
  paidOrder,
  type Server,
  type Stage,
  shoot,
  signIn,
  signup,
  until,
} from './e2e.helpers.ts';

const VIEW = { viewport: { width: 1280, height: 800 } };
type Buyer = Awaited<ReturnType<typeof signup>>;
interface TicketBody {
  tickets: { id: string; code: string; status: string; checkedInAt: string | null }[];
}

describe('the door in headless Chromium, with and without a connection', { skip: !chromiumAvailable() }, () => {
  let stage: Stage;
  let server: Server;
  let browser: Browser;
  let organizer: Stage['organizer'];
  let staff: Buyer;
  let eventId: string;

  /** A buyer with one paid seat of the Stalls' first row, and that seat's ticket. */
  async function ticketHolder(name: string, seat: number) {
    const buyer = await signup(server.url, name);
    const orderId = await paidOrder(server.url, buyer, eventId, stage.seatAt('Stalls', 0, seat));
    const { tickets } = await apiClient(server.url, buyer.token)<TicketBody>('GET', '/api/tickets');
    return { buyer, orderId, ticket: tickets[0]! };
  }

  before(async () => {
    stage = await harbourHallStage('opal');
    ({ server, browser, organizer, eventId } = stage);
    staff = await signup(server.url, 'dora', 'staff', stage.adminToken);
  });
  after(async () => stage?.close());

  it('lets staff check a ticket in once and refuses it the second time, saying why', async () => {
    const { ticket } = await ticketHolder('gus', 6);
    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await signIn(page, server.url, staff.email, staff.password);
    await page.getByRole('link', { name: 'Check-in' }).click();
    await page.getByLabel('Event').selectOption(eventId);
    await page.getByLabel('Ticket code (scan or paste)').fill(ticket.code);
    await page.getByRole('button', { name: 'Check in' }).click();
    await page.getByTestId('checkin-ok').getByText('Stalls · row A · seat 7').waitFor();
    assert.equal(await page.getByTestId('checkin-offline').count(), 0, 'checked by the server');
    await shoot(page, 'checkin-ok');
    await page.getByLabel('Ticket code (scan or paste)').fill(ticket.code);
    await page.getByRole('button', { name: 'Check in' }).click();
    await page.getByTestId('checkin-refused').getByText('already used').waitFor();
    await shoot(page, 'checkin-refused');
    await context.close();
  });

  it('checks tickets by their signature while offline and sends the check-ins when the connection is back', async () => {
    // Before the connection drops: Dan's order is refunded, Eve's ticket is used at another door.
    const otherDoor = apiClient(server.url, organizer.token);
    const dan = await ticketHolder('dan', 3);
    const eve = await ticketHolder('eve', 4);
    await otherDoor('POST', `/api/orders/${dan.orderId}/cancel`);
    await otherDoor('POST', '/api/checkin', { eventId, code: eve.ticket.code });
    const changedAt = Date.now();
    const ann = await ticketHolder('ann', 0);
    const bob = await ticketHolder('bob', 1);
    const cat = await ticketHolder('cat', 2);
    const fay = await ticketHolder('fay', 5);
    // The door list gives changes once they are 5 s old (their transactions settled).
    await new Promise((r) => setTimeout(r, Math.max(0, changedAt + 5500 - Date.now())));
    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await signIn(page, server.url, staff.email, staff.password);
    await page.getByRole('link', { name: 'Check-in' }).click();
    await page.getByLabel('Event').selectOption(eventId);
    await page.getByText('If the connection drops').waitFor(); // the ticket key is here
    // Eve's and Gus's (from the test before) used, Dan's void.
    await page.getByTestId('door-list').getByText('2 checked in, 1 void').waitFor();

    await context.setOffline(true);
    const scan = async (code: string) => {
      await page.getByLabel('Ticket code (scan or paste)').fill(code);
      await page.getByRole('button', { name: 'Check in' }).click();
    };
    // What the door list knew: refused without the server.
    await scan(dan.ticket.code);
    await page.getByTestId('checkin-refused').getByText('canceled and is no longer valid').waitFor();
    await scan(eve.ticket.code);
    await page.getByTestId('checkin-refused').getByText('already used to enter. It was checked in at').waitFor();
    const annFrom = Date.now();
    await scan(ann.ticket.code);
    await page.getByTestId('checkin-offline').waitFor();
    await page.getByTestId('checkin-ok').getByText('Stalls · row A · seat 1').waitFor();
    const annTo = Date.now();
    await page.getByTestId('checkin-waiting').getByText('1 check-in made without a connection').waitFor();
    // The same ticket again: this device remembers it let it in.
    await scan(ann.ticket.code);
    await page.getByTestId('checkin-refused').getByText('It was let in at this door at').waitFor();
    // A forged ticket: Ann's code made out for another ticket and seat, her signature kept.
    const [prefix, payload, signature] = ann.ticket.code.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, t: 'tkt_forged', s: 'Circle · A · 1' })).toString('base64url');
    await scan(`${prefix}.${forged}.${signature}`);
    await page.getByTestId('checkin-refused').getByText('not a valid TicketMax ticket').waitFor();
    await scan(bob.ticket.code);
    await page.getByTestId('checkin-ok').getByText('Stalls · row A · seat 2').waitFor();
    await scan(cat.ticket.code);
    await page.getByTestId('checkin-ok').getByText('Stalls · row A · seat 3').waitFor();
    await page.getByTestId('checkin-waiting').getByText('3 check-ins made without a connection').waitFor();
    await shoot(page, 'checkin-offline');
    // Meanwhile, with the server: another door lets Bob's ticket in, and Cat's order is refunded.
    await otherDoor('POST', '/api/checkin', { eventId, code: bob.ticket.code });
    await otherDoor('POST', `/api/orders/${cat.orderId}/cancel`);
    const ticketOf = async (holder: typeof ann) =>
      (await apiClient(server.url, holder.buyer.token)<TicketBody>('GET', '/api/tickets')).tickets[0]!;
    assert.equal((await ticketOf(ann)).status, 'valid', 'nothing reached the server while offline');

    const online = Date.now();
    await context.setOffline(false);
    await page.getByTestId('checkin-waiting').waitFor({ state: 'detached', timeout: 20_000 });
    const findings = page.getByTestId('checkin-findings');
    await findings.getByText('this ticket was let in twice').waitFor();
    await findings.getByText('it was let in while void').waitFor();
    assert.equal(await findings.getByRole('listitem').count(), 2);
    await shoot(page, 'checkin-offline-findings');
    const annTicket = await until(
      async () => {
        const t = await ticketOf(ann);
        return t.status === 'used' ? t : undefined;
      },
      5000,
      "Ann's check-in sent",
    );
    // Checked in at the time she was let in, not when the connection came back.
    const annAt = Date.parse(annTicket?.checkedInAt ?? '');
    assert.ok(annAt >= annFrom - 1000 && annAt <= annTo && annAt < online, `${annTicket?.checkedInAt}`);

    // The findings stay on the device until the staff clears them.
    await page.reload();
    await findings.getByRole('listitem').first().waitFor();
    await findings.getByRole('button', { name: 'Clear' }).click();
    await findings.waitFor({ state: 'detached' });
    // Online again, Ann's ticket is refused by the server itself.
    await page.getByLabel('Event').selectOption(eventId);
    await scan(ann.ticket.code);
    await page.getByTestId('checkin-refused').getByText('already used to enter').waitFor();
    assert.equal(await page.getByTestId('checkin-offline').count(), 0);

    // A check-in kept offline while the account lost its door role: kept, and the page says why.
    await context.setOffline(true);
    await scan(fay.ticket.code);
    await page.getByTestId('checkin-offline').waitFor();
    await apiClient(server.url, stage.adminToken)('PATCH', `/api/admin/users/${staff.id}`, { role: 'buyer' });
    await context.setOffline(false);
    await page.getByTestId('checkin-waiting').getByText('asks for a staff sign-in').waitFor({ timeout: 20_000 });
    await page.getByTestId('checkin-waiting').getByText('1 check-in made without a connection').waitFor();
    await context.close();
  });

  // Last in the file: it stops the server.
  it('opens the buyer’s tickets and the door’s page again once the connection is gone, and the door checks the ticket', async () => {
    const hal = await ticketHolder('hal', 7);
    const ida = await signup(server.url, 'ida', 'staff', stage.adminToken);
    // The buyer opens their tickets once with a connection, the door its check-in page.
    const buyerContext = await browser.newContext(VIEW);
    const buyerPage = await buyerContext.newPage();
    await signIn(buyerPage, server.url, hal.buyer.email, hal.buyer.password);
    await buyerPage.goto(`${server.url}/tickets`);
    await buyerPage.getByTestId('ticket').waitFor();
    await buyerPage.locator('section[data-offline-ready]').waitFor();
    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await signIn(page, server.url, ida.email, ida.password);
    await page.getByRole('link', { name: 'Check-in' }).click();
    await page.getByLabel('Event').selectOption(eventId);
    await page.getByTestId('door-list').waitFor();
    await page.getByTestId('offline-page').waitFor();
    // What an earlier build left on the device goes when the page is opened again with a connection.
    const storedPaths = () =>
      page.evaluate(async () => (await (await caches.open('ticketmax-pages-v1')).keys()).map((r) => new URL(r.url).pathname));
    await page.evaluate(async () => {
      const cache = await caches.open('ticketmax-pages-v1');
      await cache.put('/assets/index-0ld8uild.js', new Response('// an earlier build'));
      await cache.put('/index.html', new Response('<!doctype html><script src="/assets/index-0ld8uild.js"></script>'));
    });
    assert.ok((await storedPaths()).includes('/assets/index-0ld8uild.js'));
    await page.reload();
    await page.getByTestId('offline-page').waitFor();
    const stored = await storedPaths();
    assert.ok(!stored.includes('/assets/index-0ld8uild.js'), stored.join(' '));
    assert.ok(
      stored.some((p) => p.startsWith('/assets/')),
      stored.join(' '),
    );

    // Gone for good: the server itself, so the service worker's own requests fail too.
    await server.stop();
    await buyerPage.reload();
    await buyerPage.getByTestId('tickets-saved').waitFor();
    const qr = buyerPage.getByTestId('ticket').getByRole('img');
    await qr.waitFor();
    assert.ok(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), 'the saved QR code is drawn');
    const shown = await buyerPage.getByTestId('ticket-code').textContent();
    assert.equal(shown?.trim(), hal.ticket.code);
    await shoot(buyerPage, 'tickets-offline');

    await page.reload();
    await page.getByRole('heading', { name: 'Check-in' }).waitFor();
    // The events cannot be read: the one this device worked.
    await until(async () => (await page.getByLabel('Event').inputValue()) === eventId, 10_000, 'the event this device worked');
    await page.getByLabel('Ticket code (scan or paste)').fill(shown);
    await page.getByRole('button', { name: 'Check in' }).click();
    await page.getByTestId('checkin-ok').getByText('Stalls · row A · seat 8').waitFor();
    await page.getByTestId('checkin-offline').waitFor();
    await page.getByTestId('checkin-waiting').getByText('1 check-in made without a connection').waitFor();
    await buyerContext.close();
    await context.close();
  });
});
