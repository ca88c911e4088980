// The admin's accounts: find one by e-mail, name or id, change its role (never one's own),
// suspend it (a bot, a fraudulent buyer) or restore it, and hand out a password-reset link.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSigner } from '../src/platform/crypto.ts';
import { buildTestApp, dbShapes, errorCode, makeUser, SECRET, type TestApp, type TestUser } from './helpers.ts';

const shapes = await dbShapes();

interface Found {
  id: string;
  email: string;
  name: string;
  role: string;
  suspended: boolean;
}

for (const shape of shapes) {
  describe(`admin: accounts (${shape})`, () => {
    let t: TestApp;
    let admin: TestUser;
    let buyers: TestUser[];
    const find = (query: string, auth: Record<string, string> = admin.auth) =>
      t.app.inject({ method: 'GET', url: `/api/admin/users${query}`, headers: auth });

    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
      admin = await makeUser(t.app, 'admin');
      buyers = [await makeUser(t.app), await makeUser(t.app), await makeUser(t.app)];
    });
    after(async () => t.close());

    it('finds accounts by a piece of the e-mail in any case, by name or by id, newest first, without password hashes', async () => {
      const target = buyers[1]!;
      const res = await find(`?q=${encodeURIComponent(target.email.slice(0, -13).toUpperCase())}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'private, no-store');
      const users = res.json<{ users: Found[] }>().users;
      assert.deepEqual(users, [{ id: target.id, email: target.email, name: 'Test buyer', role: 'buyer', suspended: false }]);
      assert.ok(!res.body.includes('scrypt') && !res.body.includes('password'), 'no password hash');

      const byId = (await find(`?q=${buyers[2]!.id}`)).json<{ users: Found[] }>().users;
      assert.deepEqual(
        byId.map((u) => u.id),
        [buyers[2]!.id],
      );
      const newest = (await find('?limit=3')).json<{ users: Found[] }>().users;
      assert.deepEqual(
        newest.map((u) => u.id),
        [buyers[2]!.id, buyers[1]!.id, buyers[0]!.id],
      );
      const byName = (await find('?q=test%20BUYER&limit=200')).json<{ users: Found[] }>().users;
      assert.ok(buyers.every((b) => byName.some((u) => u.id === b.id)));
      assert.equal((await find('?q=%25')).json<{ users: Found[] }>().users.length, 0, 'a % is a character, not a wildcard');
    });

    it("changes another account's role, seen by that account's next request, and never the admin's own", async () => {
      const staff = buyers[0]!;
      const changed = await t.app.inject({
        method: 'PATCH',
        url: `/api/admin/users/${staff.id}`,
        headers: admin.auth,
        payload: { role: 'staff' },
      });
      assert.equal(changed.statusCode, 200, changed.body);
      assert.equal(changed.json<{ user: Found }>().user.role, 'staff');
      const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: staff.auth });
      assert.equal(me.json<{ user: Found }>().user.role, 'staff');

      const self = await t.app.inject({
        method: 'PATCH',
        url: `/api/admin/users/${admin.id}`,
        headers: admin.auth,
        payload: { role: 'buyer' },
      });
      assert.equal(self.statusCode, 403);
      assert.equal(errorCode(self), 'FORBIDDEN');
      const still = (await find(`?q=${admin.id}`)).json<{ users: Found[] }>().users;
      assert.equal(still[0]!.role, 'admin', 'nothing changed');
    });

    it('suspends an account: its sessions end here and in the database, it cannot sign in; restored, it can', async () => {
      const bot = await makeUser(t.app);
      const login = () =>
        t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: bot.email, password: bot.password } });
      const second = { authorization: `Bearer ${(await login()).json<{ token: string }>().token}` };
      const suspend = (suspended: unknown, id = bot.id, auth = admin.auth) =>
        t.app.inject({ method: 'POST', url: `/api/admin/users/${id}/suspension`, headers: auth, payload: { suspended } });

      const res = await suspend(true);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<{ user: Found; sessionsEnded: number }>();
      assert.equal(body.user.suspended, true);
      assert.equal(body.sessionsEnded, 2);
      for (const auth of [bot.auth, second]) {
        assert.equal(errorCode(await t.app.inject({ method: 'GET', url: '/api/me', headers: auth })), 'UNAUTHENTICATED');
      }
      const live = await t.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL',
        [bot.id],
      );
      assert.equal(live[0]!.n, 0, 'the other API processes read the revocations from here');
      // The right password is told the account is suspended; a wrong one learns nothing more.
      const refused = await login();
      assert.equal(refused.statusCode, 403);
      assert.equal(errorCode(refused), 'FORBIDDEN');
      assert.match(refused.json<{ error: { message: string } }>().error.message, /suspended/);
      const guess = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: bot.email, password: 'a wrong guess' },
      });
      assert.equal(errorCode(guess), 'INVALID_CREDENTIALS');
      assert.equal((await find(`?q=${bot.id}`)).json<{ users: Found[] }>().users[0]!.suspended, true);
      // Suspending again changes nothing and ends nothing more.
      assert.equal((await suspend(true)).json<{ sessionsEnded: number }>().sessionsEnded, 0);

      const restored = await suspend(false);
      assert.equal(restored.statusCode, 200, restored.body);
      assert.deepEqual(restored.json(), {
        user: { id: bot.id, email: bot.email, name: 'Test buyer', role: 'buyer', suspended: false },
        sessionsEnded: 0,
        cleared: { queuesLeft: 0, holdsReleased: 0, ordersCanceled: 0 },
      });
      assert.equal((await login()).statusCode, 200);
    });

    it('leaves no live session behind when sign-ins race the suspension', async () => {
      const bot = await makeUser(t.app);
      const login = () =>
        t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: bot.email, password: bot.password } });
      // Sign-ins sent before and after the suspension, all in flight together.
      const before = Array.from({ length: 12 }, login);
      const suspended = t.app.inject({
        method: 'POST',
        url: `/api/admin/users/${bot.id}/suspension`,
        headers: admin.auth,
        payload: { suspended: true },
      });
      const after = Array.from({ length: 12 }, login);
      const answers = await Promise.all([...before, ...after]);
      assert.equal((await suspended).statusCode, 200);
      for (const res of answers) assert.ok([200, 403].includes(res.statusCode), res.body);
      const live = await t.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL',
        [bot.id],
      );
      assert.equal(live[0]!.n, 0);
      for (const res of answers.filter((r) => r.statusCode === 200)) {
        const auth = { authorization: `Bearer ${res.json<{ token: string }>().token}` };
        await t.app.services.guard.refresh();
        assert.equal((await t.app.inject({ method: 'GET', url: '/api/me', headers: auth })).statusCode, 401);
      }
    });

    it('refuses to suspend the admin’s own account, an unknown one, bad bodies and non-admins', async () => {
      const target = await makeUser(t.app);
      const suspend = (payload: unknown, id = target.id, auth: Record<string, string> = admin.auth) =>
        t.app.inject({
          method: 'POST',
          url: `/api/admin/users/${id}/suspension`,
          headers: auth,
          payload: payload as Record<string, unknown>,
        });
      const self = await suspend({ suspended: true }, admin.id);
      assert.equal(self.statusCode, 403);
      assert.equal(errorCode(self), 'FORBIDDEN');
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/me', headers: admin.auth })).statusCode, 200);
      assert.equal((await suspend({ suspended: true }, 'usr_nosuchaccount')).statusCode, 404);
      for (const bad of [{}, { suspended: 'yes' }, { suspended: 1 }, { suspended: true, until: 'tomorrow' }]) {
        const res = await suspend(bad);
        assert.equal(res.statusCode, 400, JSON.stringify(bad));
        assert.equal(errorCode(res), 'VALIDATION_FAILED');
      }
      const organizer = await makeUser(t.app, 'organizer');
      assert.equal(errorCode(await suspend({ suspended: true }, target.id, organizer.auth)), 'FORBIDDEN');
      assert.equal(errorCode(await suspend({ suspended: true }, target.id, target.auth)), 'FORBIDDEN');
      assert.equal(errorCode(await suspend({ suspended: true }, target.id, {})), 'UNAUTHENTICATED');
      // None of that touched the account.
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/me', headers: target.auth })).statusCode, 200);
      assert.equal((await find(`?q=${target.id}`)).json<{ users: Found[] }>().users[0]!.suspended, false);
    });

    it('keeps an audit log of role changes, suspensions and password changes, newest first, a page at a time', async () => {
      const x = await makeUser(t.app);
      const act = (method: string, url: string, payload: Record<string, unknown>, headers: Record<string, string> = admin.auth) =>
        t.app.inject({ method: method as 'POST', url, headers, payload });
      assert.equal((await act('PATCH', `/api/admin/users/${x.id}`, { role: 'staff' })).statusCode, 200);
      assert.equal((await act('PATCH', `/api/admin/users/${x.id}`, { role: 'staff' })).statusCode, 200, 'no change, no line');
      assert.equal((await act('POST', `/api/admin/users/${x.id}/suspension`, { suspended: true })).statusCode, 200);
      assert.equal((await act('POST', `/api/admin/users/${x.id}/suspension`, { suspended: true })).statusCode, 200, 'no line');
      assert.equal((await act('POST', `/api/admin/users/${x.id}/suspension`, { suspended: false })).statusCode, 200);
      const login = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: x.email, password: x.password },
      });
      const xAuth = { authorization: `Bearer ${login.json<{ token: string }>().token}` };
      const changed = await act(
        'POST',
        '/api/me/password',
        { currentPassword: x.password, newPassword: 'another long passphrase' },
        xAuth,
      );
      assert.equal(changed.statusCode, 200, changed.body);

      const audit = (query: string, auth: Record<string, string> = admin.auth) =>
        t.app.inject({ method: 'GET', url: `/api/admin/audit${query}`, headers: auth });
      interface Entry {
        id: string;
        at: string;
        action: string;
        actor: { id: string; email: string } | null;
        target: { id: string; email: string } | null;
        details: Record<string, unknown>;
      }
      const res = await audit(`?target=${x.id}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'private, no-store');
      const { entries, next } = res.json<{ entries: Entry[]; next: string | null }>();
      assert.deepEqual(
        entries.map((e) => [e.action, e.actor?.id, e.target?.email, e.details]),
        [
          ['password.changed', x.id, x.email, { sessionsEnded: 0 }],
          ['account.restored', admin.id, x.email, {}],
          ['account.suspended', admin.id, x.email, {}],
          ['role.changed', admin.id, x.email, { from: 'buyer', to: 'staff' }],
        ],
      );
      assert.equal(next, null);
      assert.ok(!res.body.includes('scrypt'), 'no password hash');

      const first = (await audit(`?target=${x.id}&limit=3`)).json<{ entries: Entry[]; next: string }>();
      assert.equal(first.entries.length, 3);
      const rest = (await audit(`?target=${x.id}&limit=3&before=${first.next}`)).json<{
        entries: Entry[];
        next: string | null;
      }>();
      assert.deepEqual(
        rest.entries.map((e) => e.action),
        ['role.changed'],
      );
      assert.equal(rest.next, null);
      // The whole log has them too, with the system's role changes (no actor) of the test accounts.
      const all = (await audit('?limit=200')).json<{ entries: Entry[] }>().entries;
      assert.ok(all.some((e) => e.action === 'role.changed' && e.actor === null && e.target?.id === admin.id));

      assert.equal(errorCode(await audit('', xAuth)), 'FORBIDDEN');
      assert.equal(errorCode(await audit('', {})), 'UNAUTHENTICATED');
      for (const bad of ['?before=0', '?before=x', '?target=a%20b', '?limit=0', '?actor=me']) {
        const r = await audit(bad);
        assert.equal(r.statusCode, 400, `${bad}: ${r.body}`);
        assert.equal(errorCode(r), 'VALIDATION_FAILED');
      }
    });

    it('hands out a password-reset link that sets a new password once, signing the account out everywhere', async () => {
      const u = await makeUser(t.app);
      const login = (password: string) =>
        t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: u.email, password } });
      const issue = (id: string, auth: Record<string, string> = admin.auth) =>
        t.app.inject({ method: 'POST', url: `/api/admin/users/${id}/password-reset`, headers: auth });
      const reset = (token: string, newPassword: string) =>
        t.app.inject({ method: 'POST', url: '/api/auth/password-reset', payload: { token, newPassword } });

      const issued = await issue(u.id);
      assert.equal(issued.statusCode, 201, issued.body);
      assert.equal(issued.headers['cache-control'], 'private, no-store');
      const { token, expiresAt } = issued.json<{ token: string; expiresAt: string }>();
      const hours = (Date.parse(expiresAt) - Date.now()) / 3_600_000;
      assert.ok(hours > 23.9 && hours <= 24, `good for a day, not ${hours} h`);
      // Handing out a link changes nothing: the old password still signs in until the link is used.
      assert.equal((await login(u.password)).statusCode, 200);

      const res = await reset(token, 'a brand new passphrase');
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { sessionsEnded: 2 }, 'the sign-up session and the sign-in above');
      assert.equal(errorCode(await t.app.inject({ method: 'GET', url: '/api/me', headers: u.auth })), 'UNAUTHENTICATED');
      assert.equal(errorCode(await login(u.password)), 'INVALID_CREDENTIALS');
      assert.equal((await login('a brand new passphrase')).statusCode, 200);

      // Once: the link is bound to the password it replaced.
      const again = await reset(token, 'yet another passphrase');
      assert.equal(again.statusCode, 400);
      assert.equal(errorCode(again), 'VALIDATION_FAILED');
      assert.equal(again.json().error.details.fields[0].field, 'token');
      assert.equal((await login('a brand new passphrase')).statusCode, 200, 'a refused link changes nothing');

      // Expired, forged, cut short, or signed for another purpose (a session token): refused.
      const fresh = (await issue(u.id)).json<{ token: string }>().token;
      const claims = JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()) as { e: number };
      const resetSigner = createSigner(SECRET, 'password-reset');
      const expired = resetSigner.sign({ ...claims, e: Math.floor(Date.now() / 1000) - 1 });
      const forged = createSigner('another-secret-that-is-long-enough-0123456789', 'password-reset').sign(claims);
      const other = await makeUser(t.app);
      const wrongPurpose = createSigner(SECRET, 'session').sign(claims);
      for (const bad of [expired, forged, fresh.slice(0, -3), wrongPurpose, other.token, 'garbage']) {
        const r = await reset(bad, 'yet another passphrase');
        assert.equal(r.statusCode, 400, `${bad}: ${r.body}`);
        assert.equal(errorCode(r), 'VALIDATION_FAILED');
      }
      assert.equal((await login('a brand new passphrase')).statusCode, 200, 'none of them changed the password');
      const short = await reset(fresh, 'short');
      assert.equal(short.statusCode, 400, 'a weak password through a good link');
      assert.equal((await reset(fresh, 'the last passphrase')).statusCode, 200, 'the good link still works after refusals');

      // Admins only; an unknown account is 404.
      assert.equal(errorCode(await issue(u.id, other.auth)), 'FORBIDDEN');
      assert.equal(errorCode(await issue(u.id, {})), 'UNAUTHENTICATED');
      assert.equal((await issue('usr_nobody')).statusCode, 404);

      type Entry = {
        action: string;
        actor: { id: string } | null;
        target: { id: string } | null;
        details: Record<string, unknown>;
      };
      const entries = (await t.app.inject({ method: 'GET', url: `/api/admin/audit?target=${u.id}`, headers: admin.auth })).json<{
        entries: Entry[];
      }>().entries;
      assert.deepEqual(
        entries.map((e) => [e.action, e.actor?.id]),
        [
          ['password.reset', u.id],
          ['password.reset_issued', admin.id],
          ['password.reset', u.id],
          ['password.reset_issued', admin.id],
        ],
      );
      assert.equal(entries[2]!.details.sessionsEnded, 2);
    });

    it('is for admins only, and refuses bad queries with 400', async () => {
      const organizer = await makeUser(t.app, 'organizer');
      assert.equal(errorCode(await find('', organizer.auth)), 'FORBIDDEN');
      assert.equal(errorCode(await find('', buyers[2]!.auth)), 'FORBIDDEN');
      assert.equal(errorCode(await find('', {})), 'UNAUTHENTICATED');
      for (const bad of ['?q=', `?q=${'x'.repeat(201)}`, '?limit=0', '?limit=500', '?limit=x', '?role=admin']) {
        const res = await find(bad);
        assert.equal(res.statusCode, 400, `${bad}: ${res.body}`);
        assert.equal(errorCode(res), 'VALIDATION_FAILED', bad);
      }
    });
  });
}
