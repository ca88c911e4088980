// The back office in headless Chromium: the organizer's order list (find, refund, CSV), a buyer
// cancelling at checkout, the admin's accounts page, and a user's own account page.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  ADMIN,
  apiClient,
  chromiumAvailable,
  harbourHallEvent,
  harbourHallStage,
  login,
  paidOrder,
  pendingOrder,
  type Server,
  type Stage,
  shoot,
  signIn,
  signup,
  until,
} from './e2e.helpers.ts';

const VIEW = { viewport: { width: 1280, height: 800 } };

describe('back office in headless Chromium', { skip: !chromiumAvailable() }, () => {
  let stage: Stage;
  let server: Server;
  let browser: Browser;
  let organizer: Stage['organizer'];
  let eventId: string;
  let seatAt: Stage['seatAt'];

  before(async () => {
    stage = await harbourHallStage('olive');
    ({ server, browser, organizer, eventId, seatAt } = stage);
  });
  after(async () => stage?.close());

  it("lets an organizer find a buyer's order on the dashboard and refund it, voiding the tickets", async () => {
    const b = await signup(server.url, 'ivy');
    const seat = { id: seatAt('Circle', 1, 3) }; // row B, seat 4
    const orderId = await paidOrder(server.url, b, eventId, seat.id);
    // Another buyer's ticket used at the door, for the dashboard's count.
    const max = await signup(server.url, 'max');
    await paidOrder(server.url, max, eventId, seatAt('Stalls', 0, 0));
    const { tickets: maxTickets } = await apiClient(server.url, max.token)<{ tickets: { code: string }[] }>(
      'GET',
      '/api/tickets',
    );
    await apiClient(server.url, organizer.token)('POST', '/api/checkin', { eventId, code: maxTickets[0]!.code });

    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await signIn(page, server.url, organizer.email, organizer.password);
    await page.goto(`${server.url}/organizer/events/${eventId}`);
    // The door's count.
    await page.getByTestId('stat-sold-note').getByText('1 checked in').waitFor();
    const rows = page.getByTestId('event-order');
    await rows.first().waitFor();
    assert.ok((await rows.count()) >= 2, 'every order of the event is listed');
    // While the sale goes on: a new order waits behind a button, and a shown order's status moves.
    const kim = await signup(server.url, 'kim');
    const kimsOrder = await paidOrder(server.url, kim, eventId, seatAt('Stalls', 7, 11));
    await page.getByRole('button', { name: 'Show 1 new order' }).click();
    await rows.first().getByText(kimsOrder).waitFor();
    const shown = await rows.count();
    // Refunded elsewhere (another tab, another organizer): the row says so without a reload.
    await apiClient(server.url, organizer.token)('POST', `/api/orders/${kimsOrder}/cancel`);
    await rows.first().getByTestId('order-status').getByText('refunded').waitFor();
    assert.equal(await rows.count(), shown, 'updated in place, nothing added');
    await page.getByLabel("Buyer's e-mail or name, or an order id").fill(b.email.toUpperCase());
    await page.getByLabel('Status').selectOption('paid');
    await page.getByRole('button', { name: 'Find orders' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="event-order"]').length === 1);
    const row = rows.first();
    await row.getByText('Circle · row B · seat 4').waitFor();
    await row.getByText(orderId).waitFor();
    await shoot(page, 'dashboard-orders');
    // The list as a spreadsheet, with the same filter.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `orders-${eventId}.csv`);
    const csv = readFileSync(await download.path(), 'utf8')
      .trimEnd()
      .split('\n');
    assert.equal(csv.length, 2, csv.join('\n'));
    assert.ok(csv[1]!.startsWith(`${orderId},paid,`) && csv[1]!.includes(b.email), csv[1]);

    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      void dialog.accept();
    });
    await row.getByRole('button', { name: 'Refund' }).click();
    await row.getByTestId('order-status').getByText('refunded').waitFor();
    await row.getByText(`by ${organizer.email}`).waitFor();
    assert.match(asked, new RegExp(`^Refund \\$40\\.00 to ${b.email.replace(/[.]/g, '\\.')}\\?`));
    assert.equal(await row.getByRole('button', { name: 'Refund' }).count(), 0, 'nothing left to refund');
    const { tickets } = await apiClient(server.url, b.token)<{ tickets: { orderId: string; status: string }[] }>(
      'GET',
      '/api/tickets',
    );
    const refunded = tickets.filter((t) => t.orderId === orderId);
    assert.ok(refunded.length === 1 && refunded[0]!.status === 'void', JSON.stringify(refunded));
    // The buyer's page says why the ticket no longer works.
    const buyerPage = await (await browser.newContext(VIEW)).newPage();
    await signIn(buyerPage, server.url, b.email, b.password);
    await buyerPage.goto(`${server.url}/tickets`);
    await buyerPage.getByTestId('ticket').getByText('Void (order refunded)').waitFor();
    await buyerPage.context().close();
    await context.close();
  });

  it('keeps the times an organizer left alone when editing an event, and logs only what changed', async () => {
    // Made through the API: its times have seconds, which the form shows only to the minute.
    const id = await harbourHallEvent(server.url, organizer.token);
    type Times = { event: { name: string; onSaleAt: string; startsAt: string } };
    const before = (await apiClient(server.url)<Times>('GET', `/api/events/${id}`)).event;
    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await signIn(page, server.url, organizer.email, organizer.password);
    await page.goto(`${server.url}/organizer/events/${id}/edit`);
    const name = page.getByLabel('Event name');
    await until(async () => (await name.inputValue()) === before.name, 10_000, 'the form filled in');
    await name.fill('Lighthouse Sessions: matinee');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Dashboard: Lighthouse Sessions: matinee' }).waitFor();
    const after = (await apiClient(server.url)<Times>('GET', `/api/events/${id}`)).event;
    assert.equal(after.onSaleAt, before.onSaleAt, 'the on-sale time did not move');
    assert.equal(after.startsAt, before.startsAt);
    const changes = page.getByTestId('sale-changes').getByRole('listitem');
    await changes.first().getByText(`${organizer.email} changed the name to "Lighthouse Sessions: matinee".`).waitFor();
    assert.equal(await changes.count(), 2, 'nothing else was changed since it was created');
    await changes.nth(1).getByText(`${organizer.email} created the event "${before.name}" at `).waitFor();
    await context.close();
  });

  it('lets the creator of a venue rename it in place and read its history, but not another organizer', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const [oldName, newName] = [`Old Hall ${tag}`, `New Hall ${tag}`];
    const { venue } = await apiClient(server.url, organizer.token)<{ venue: { id: string } }>('POST', '/api/venues', {
      name: oldName,
      sections: [
        { name: 'Stalls', kind: 'seated', grid: { rows: 2, seatsPerRow: 5 } },
        { name: 'Floor', kind: 'ga', capacity: 50 },
      ],
    });
    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await signIn(page, server.url, organizer.email, organizer.password);
    await page.goto(`${server.url}/organizer`);
    await page.getByRole('link', { name: 'Venues', exact: true }).click();
    await page.getByRole('heading', { name: 'Venues', level: 1 }).waitFor();
    // Found by its event link, which the rename leaves alone.
    const card = page.getByTestId('venue').filter({ has: page.locator(`a[href="/organizer/events/new?venue=${venue.id}"]`) });
    await card.getByRole('heading', { name: oldName }).waitFor();
    await card.getByText('10 seats, 50 standing · Stalls, Floor').waitFor();
    await card.getByRole('link', { name: `New event here at ${oldName}` }).waitFor();

    await card.getByRole('button', { name: `Rename ${oldName}` }).click();
    const field = card.getByLabel('Venue name');
    assert.equal(await field.inputValue(), oldName, 'the form starts from the current name');
    // A blank name: the API's refusal shows in the form, which stays open.
    await field.fill('   ');
    await card.getByRole('button', { name: 'Save' }).click();
    await card.getByRole('alert').getByText('Please check what you entered').waitFor();
    await field.fill(newName);
    await card.getByRole('button', { name: 'Save' }).click();
    await card.getByRole('heading', { name: newName }).waitFor();
    await card.getByRole('status').getByText(`the venue is now called "${newName}"`).waitFor();
    assert.equal(await card.getByLabel('Venue name').count(), 0, 'the form closed');
    const rename = card.getByRole('button', { name: `Rename ${newName}` });
    await until(() => rename.evaluate((b) => b === document.activeElement), 5_000, 'focus back on Rename');
    const stored = await apiClient(server.url, organizer.token)<{ venue: { name: string } }>('GET', `/api/venues/${venue.id}`);
    assert.equal(stored.venue.name, newName);

    await card.getByRole('button', { name: `History of ${newName}` }).click();
    const lines = card.getByTestId('venue-history').getByRole('listitem');
    await lines.first().getByText(`${organizer.email} renamed the venue from "${oldName}" to "${newName}".`).waitFor();
    await lines.nth(1).getByText(`${organizer.email} created the venue "${oldName}" (10 seats, 50 standing).`).waitFor();
    assert.equal(await lines.count(), 2, 'the refused rename left no line');
    await shoot(page, 'organizer-venues');
    await context.close();

    // Another organizer sees the venue and may hold events in it, but neither renames it nor reads its log.
    const ned = await signup(server.url, 'ned', 'organizer', stage.adminToken);
    const nedContext = await browser.newContext(VIEW);
    const nedPage = await nedContext.newPage();
    await signIn(nedPage, server.url, ned.email, ned.password);
    await nedPage.goto(`${server.url}/organizer/venues`);
    const seen = nedPage
      .getByTestId('venue')
      .filter({ has: nedPage.locator(`a[href="/organizer/events/new?venue=${venue.id}"]`) });
    await seen.getByRole('heading', { name: newName }).waitFor();
    assert.equal(await seen.getByRole('button').count(), 0, 'no Rename or History for someone else’s venue');
    await assert.rejects(apiClient(server.url, ned.token)('PATCH', `/api/venues/${venue.id}`, { name: 'Ned’s Hall' }), /: 403 /);
    await nedContext.close();
  });

  it('lets a buyer cancel a pending order at checkout, so its seat is on sale again at once', async () => {
    const b = await signup(server.url, 'jo');
    const seat = { id: seatAt('Circle', 0, 1) }; // row A, seat 2
    const orderId = await pendingOrder(server.url, b, eventId, seat.id);
    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await signIn(page, server.url, b.email, b.password);
    await page.goto(`${server.url}/checkout/${orderId}`);
    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Cancel order and release the seats' }).click();
    await page.getByText('This order is canceled.').waitFor();
    assert.match(asked, /^Cancel this order\? Your seats go back on sale at once/);
    assert.equal(await page.getByRole('button', { name: /^Pay / }).isDisabled(), true);
    const { order } = await apiClient(server.url, b.token)<{ order: { status: string } }>('GET', `/api/orders/${orderId}`);
    assert.equal(order.status, 'canceled');
    // Another buyer takes the same seat straight away.
    const next = await signup(server.url, 'kit');
    assert.ok(await pendingOrder(server.url, next, eventId, seat.id));
    await context.close();
  });

  it('lets an admin find an account and make it door staff, but not change their own role', async () => {
    const lee = await signup(server.url, 'lee');
    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await signIn(page, server.url, ADMIN.email, ADMIN.password);
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('heading', { name: 'Accounts' }).waitFor();
    await page.getByTestId('account').first().waitFor();
    await page.getByLabel('E-mail, name or account id').fill(ADMIN.email);
    await page.getByRole('button', { name: 'Find accounts' }).click();
    // The first list (newest accounts) shows the admin too: wait for the search's one result.
    await until(async () => (await page.getByTestId('account').count()) === 1, 10_000, 'the search result alone');
    await page.getByTestId('account').getByText('(you)').waitFor();
    assert.equal(await page.getByRole('combobox').first().isDisabled(), true, 'the own role is not for changing');

    await page.getByLabel('E-mail, name or account id').fill(lee.email);
    await page.getByRole('button', { name: 'Find accounts' }).click();
    await page.getByText(lee.email).waitFor();
    await page.getByLabel('Role of lee').selectOption('staff');
    await shoot(page, 'admin-accounts');
    await page.getByRole('button', { name: 'Change role' }).click();
    await page.getByRole('status').getByText('lee is now door staff').waitFor();
    const { user } = await apiClient(server.url, lee.token)<{ user: { role: string } }>('GET', '/api/me');
    assert.equal(user.role, 'staff');

    // Suspended: signed out at once, and marked in the list; restored, lee signs in again.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Suspend lee' }).click();
    await page
      .getByRole('status')
      .getByText('lee is suspended: 1 session ended, 0 waiting rooms left, 0 pending orders canceled')
      .waitFor();
    await page.getByTestId('account').getByText('Suspended', { exact: true }).waitFor();
    await shoot(page, 'admin-accounts-suspended');
    await assert.rejects(apiClient(server.url, lee.token)('GET', '/api/me'), 'the session ended');
    await assert.rejects(login(server.url, lee.email, lee.password), 'no sign-in while suspended');
    await page.getByRole('button', { name: 'Restore lee' }).click();
    await page.getByRole('status').getByText('lee is restored').waitFor();
    // The page's log of changes, newest first.
    const audit = page.getByTestId('audit').getByRole('listitem');
    await audit.first().getByText(`${ADMIN.email} restored ${lee.email}.`).waitFor();
    await audit.nth(1).getByText(`${ADMIN.email} suspended ${lee.email}.`).waitFor();
    await audit.nth(2).getByText(`${ADMIN.email} made ${lee.email} door staff (was buyer).`).waitFor();
    assert.ok(await login(server.url, lee.email, lee.password));

    // Lee forgot the password: the admin makes a reset link, and lee sets a new one through it.
    await page.getByRole('button', { name: 'Password-reset link for lee' }).click();
    await page.getByRole('status').getByText('A password-reset link for lee').waitFor();
    const link = await page.getByLabel('Reset link for lee', { exact: true }).inputValue();
    assert.match(link, /\/reset-password#.+\..+/);
    await audit.first().getByText(`${ADMIN.email} made a password-reset link for ${lee.email}.`).waitFor();
    const leeContext = await browser.newContext(VIEW);
    const leePage = await leeContext.newPage();
    await leePage.goto(link);
    await leePage.getByRole('heading', { name: 'Set a new password' }).waitFor();
    await leePage.getByLabel('New password (at least 8 characters)').fill('lee has a new passphrase');
    await leePage.getByLabel('New password again').fill('lee has a new passphrase');
    await leePage.getByRole('button', { name: 'Set password' }).click();
    await leePage.getByTestId('password-reset').getByText('Your new password is set').waitFor();
    await shoot(leePage, 'reset-password');
    await leePage.getByTestId('password-reset').getByRole('link', { name: 'Sign in' }).waitFor();
    await signIn(leePage, server.url, lee.email, 'lee has a new passphrase');
    await assert.rejects(login(server.url, lee.email, lee.password), 'the old password is gone');
    // The same link a second time: refused, in words.
    await leePage.goto(link);
    await leePage.getByLabel('New password (at least 8 characters)').fill('and yet another one');
    await leePage.getByLabel('New password again').fill('and yet another one');
    await leePage.getByRole('button', { name: 'Set password' }).click();
    await leePage.getByRole('alert').getByText('This link is not valid any more').waitFor();
    await leeContext.close();
    await context.close();
  });

  it('lets a user sign a device out and change their password on their account page, signing the other devices out', async () => {
    const pat = await signup(server.url, 'pat');
    const otherDevice = await browser.newContext(VIEW);
    const otherPage = await otherDevice.newPage();
    await signIn(otherPage, server.url, pat.email, pat.password);
    const context = await browser.newContext(VIEW);
    const page = await context.newPage();
    await signIn(page, server.url, pat.email, pat.password);
    await page.getByRole('link', { name: 'Account', exact: true }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByText(pat.email).waitFor();
    // Three devices: this browser, the other one, and the session the sign-up opened. The other
    // browser (the newest after this one) is signed out from here.
    const devices = page.getByTestId('device');
    await until(async () => (await devices.count()) === 3, 10_000, 'three signed-in devices');
    await devices.first().getByText('(this device)').waitFor();
    await devices
      .nth(1)
      .getByRole('button', { name: /^Sign out Chrome on Linux/ })
      .click();
    await until(async () => (await devices.count()) === 2, 10_000, 'the other browser signed out');
    await otherPage.goto(`${server.url}/tickets`);
    await otherPage.waitForURL(/\/signin\?next=/);

    const newPassword = 'a much longer passphrase';
    const fill = async (current: string, next: string, again: string) => {
      await page.getByLabel('Current password').fill(current);
      await page.getByLabel('New password (at least 8 characters)').fill(next);
      await page.getByLabel('New password again').fill(again);
      await page.getByRole('button', { name: 'Change password' }).click();
    };
    await fill(pat.password, newPassword, 'a much longer passphrasf');
    await page.getByRole('alert').getByText('its repeat are not the same').waitFor();
    await fill('not the password', newPassword, newPassword);
    await page.getByRole('alert').getByText('That is not your current password.').waitFor();
    await fill(pat.password, newPassword, newPassword);
    // Signed out: the session the sign-up opened; this device stays.
    await page.getByTestId('password-changed').getByText('1 other session was signed out').waitFor();
    await until(async () => (await devices.count()) === 1, 10_000, 'only this device left');
    assert.equal(await page.getByLabel('Current password').inputValue(), '', 'the form is emptied');
    await shoot(page, 'account');

    await page.goto(`${server.url}/tickets`);
    await page.getByRole('heading', { name: 'My orders and tickets' }).waitFor();
    await assert.rejects(login(server.url, pat.email, pat.password), 'the old password no longer signs in');
    assert.ok(await login(server.url, pat.email, newPassword));
    await otherDevice.close();
    await context.close();
  });
});
