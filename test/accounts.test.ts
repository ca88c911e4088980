import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Static } from 'typebox';
import type { SessionsResult } from '../src/modules/accounts/accounts.schemas.ts';
import { buildTestApp, dbShapes, errorCode, makeUser, type TestApp, uniqueEmail } from './helpers.ts';

const shapes = await dbShapes();

for (const shape of shapes) {
  describe(`accounts (${shape})`, () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
    });
    after(async () => t.close());

    it('signs up a buyer, returns a token and sets an HttpOnly SameSite cookie', async () => {
      const email = uniqueEmail();
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        payload: { email, password: 'longenough', name: 'Bea' },
      });
      assert.equal(res.statusCode, 201);
      const body = res.json();
      assert.equal(body.user.email, email);
      assert.equal(body.user.role, 'buyer');
      assert.ok(body.token.length > 20);
      assert.equal(body.user.password, undefined);
      const cookie = String(res.headers['set-cookie']);
      assert.match(cookie, /tm_session=/);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${body.token}` } });
      assert.equal(me.statusCode, 200);
      assert.deepEqual(me.json().user, body.user);
    });

    it('stores a scrypt hash, never the password', async () => {
      const u = await makeUser(t.app);
      const rows = await t.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [u.id]);
      assert.match(rows[0]!.password_hash, /^scrypt\$/);
      assert.ok(!rows[0]!.password_hash.includes(u.password));
    });

    it('refuses a duplicate e-mail ignoring case', async () => {
      const u = await makeUser(t.app);
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        payload: { email: u.email.toUpperCase(), password: 'another-password', name: 'Dup' },
      });
      assert.equal(res.statusCode, 409);
      assert.equal(errorCode(res), 'EMAIL_TAKEN');
    });

    it('logs in with any case of the e-mail', async () => {
      const u = await makeUser(t.app);
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: u.email.toUpperCase(), password: u.password },
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().user.id, u.id);
    });

    it('answers a wrong password exactly like an unknown e-mail', async () => {
      const u = await makeUser(t.app);
      const wrong = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: u.email, password: 'not-the-password' },
      });
      const unknown = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: uniqueEmail('nobody'), password: 'whatever1' },
      });
      assert.equal(wrong.statusCode, 401);
      assert.equal(unknown.statusCode, 401);
      assert.deepEqual(wrong.json(), unknown.json());
      assert.equal(errorCode(wrong), 'INVALID_CREDENTIALS');
    });

    it('ends the session on logout: the same token is refused afterwards', async () => {
      const u = await makeUser(t.app);
      const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: u.auth });
      assert.equal(out.statusCode, 204);
      const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: u.auth });
      assert.equal(me.statusCode, 401);
      assert.equal(errorCode(me), 'UNAUTHENTICATED');
    });

    it('sees a logout made by another API process within a poll interval', async () => {
      const u = await makeUser(t.app);
      // Revoke as another process would: straight in the database, not through this process.
      await t.db.query('UPDATE sessions SET revoked_at = now() WHERE user_id = $1', [u.id]);
      const before = await t.app.inject({ method: 'GET', url: '/api/me', headers: u.auth });
      assert.equal(before.statusCode, 200, 'not yet seen: no database round trip per request');
      await t.app.services.guard.refresh();
      const afterPoll = await t.app.inject({ method: 'GET', url: '/api/me', headers: u.auth });
      assert.equal(afterPoll.statusCode, 401);
    });

    it('changes the password: the new one signs in, the old one not, other sessions end and this one goes on', async () => {
      const u = await makeUser(t.app);
      const login = async (password: string) =>
        t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: u.email, password } });
      const others = await Promise.all([login(u.password), login(u.password)]);
      const otherAuth = others.map((r) => ({ authorization: `Bearer ${r.json<{ token: string }>().token}` }));
      const newPassword = 'a new and longer passphrase';
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/me/password',
        headers: u.auth,
        payload: { currentPassword: u.password, newPassword },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { sessionsEnded: 2 });
      assert.equal(res.headers['cache-control'], 'private, no-store');
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/me', headers: u.auth })).statusCode, 200);
      for (const auth of otherAuth) {
        const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: auth });
        assert.equal(errorCode(me), 'UNAUTHENTICATED', 'signed out at once in this process');
      }
      // Other processes read the revocations from the database.
      const revoked = await t.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NOT NULL',
        [u.id],
      );
      assert.equal(revoked[0]!.n, 2);
      assert.equal(errorCode(await login(u.password)), 'INVALID_CREDENTIALS');
      assert.equal((await login(newPassword)).statusCode, 200);
      const stored = await t.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [u.id]);
      assert.match(stored[0]!.password_hash, /^scrypt\$/);
      assert.ok(!stored[0]!.password_hash.includes(newPassword));
    });

    it('refuses a wrong current password, a weak or unchanged new one and malformed bodies, changing nothing', async () => {
      const u = await makeUser(t.app);
      const other = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: u.email, password: u.password },
      });
      const otherAuth = { authorization: `Bearer ${other.json<{ token: string }>().token}` };
      const change = (payload: unknown, headers: Record<string, string> = u.auth) =>
        t.app.inject({ method: 'POST', url: '/api/me/password', headers, payload: payload as Record<string, unknown> });
      const wrong = await change({ currentPassword: 'not my password', newPassword: 'a new and longer passphrase' });
      assert.equal(wrong.statusCode, 401);
      assert.equal(errorCode(wrong), 'INVALID_CREDENTIALS');
      for (const bad of [
        { currentPassword: u.password, newPassword: 'short' },
        { currentPassword: u.password, newPassword: u.password },
        { currentPassword: u.password },
        { currentPassword: '', newPassword: 'a new and longer passphrase' },
        { currentPassword: u.password, newPassword: 'x'.repeat(257) },
        { currentPassword: u.password, newPassword: 'a new and longer passphrase', role: 'admin' },
        { currentPassword: u.password, newPassword: 12345678 },
      ]) {
        const res = await change(bad);
        assert.equal(res.statusCode, 400, JSON.stringify(bad));
        assert.equal(errorCode(res), 'VALIDATION_FAILED');
      }
      assert.equal(
        errorCode(await change({ currentPassword: u.password, newPassword: 'a new and longer passphrase' }, {})),
        'UNAUTHENTICATED',
      );
      // Nothing changed: the password signs in, and the other session goes on.
      const again = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: u.email, password: u.password },
      });
      assert.equal(again.statusCode, 200);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/me', headers: otherAuth })).statusCode, 200);
    });

    it('limits password attempts per account, whatever the address', async () => {
      const u = await makeUser(t.app);
      let last;
      for (let i = 0; i < 25; i++) {
        last = await t.app.inject({
          method: 'POST',
          url: '/api/me/password',
          headers: u.auth,
          remoteAddress: `198.51.100.${i + 1}`,
          payload: { currentPassword: `guess number ${i}`, newPassword: 'a new and longer passphrase' },
        });
        if (last.statusCode === 429) break;
        assert.equal(last.statusCode, 401);
      }
      assert.equal(last?.statusCode, 429);
      assert.equal(errorCode(last), 'RATE_LIMITED');
      assert.ok(Number(last.headers['retry-after']) > 0);
    });

    it('lists my signed-in devices and signs one out, never another account’s', async () => {
      const u = await makeUser(t.app);
      const login = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers: { 'user-agent': 'DoorPhone/1.0 ' + 'x'.repeat(300) },
        payload: { email: u.email, password: u.password },
      });
      const phone = { authorization: `Bearer ${login.json<{ token: string }>().token}` };
      /** As the API documents it. */
      type Session = Static<typeof SessionsResult>['sessions'][number];
      const list = async (auth: Record<string, string>) => {
        const res = await t.app.inject({ method: 'GET', url: '/api/me/sessions', headers: auth });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.headers['cache-control'], 'private, no-store');
        return res.json<{ sessions: Session[] }>().sessions;
      };
      const seen = await list(u.auth);
      assert.equal(seen.length, 2);
      const [newest, first] = seen as [Session, Session];
      assert.equal(newest.current, false);
      assert.equal(newest.device, ('DoorPhone/1.0 ' + 'x'.repeat(300)).slice(0, 200), 'cut to 200 characters');
      assert.equal(first.current, true, 'the sign-up session is this request’s');
      assert.ok(Date.parse(first.expiresAt) > Date.now());

      // Another account cannot end it, nor see it.
      const other = await makeUser(t.app);
      const foreign = await t.app.inject({ method: 'DELETE', url: `/api/me/sessions/${newest.id}`, headers: other.auth });
      assert.equal(foreign.statusCode, 404);
      assert.ok(!(await list(other.auth)).some((x) => x.id === newest.id));
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/me', headers: phone })).statusCode, 200);

      const ended = await t.app.inject({ method: 'DELETE', url: `/api/me/sessions/${newest.id}`, headers: u.auth });
      assert.equal(ended.statusCode, 204);
      assert.equal(errorCode(await t.app.inject({ method: 'GET', url: '/api/me', headers: phone })), 'UNAUTHENTICATED');
      assert.deepEqual(
        (await list(u.auth)).map((x) => x.id),
        [first.id],
      );
      const again = await t.app.inject({ method: 'DELETE', url: `/api/me/sessions/${newest.id}`, headers: u.auth });
      assert.equal(again.statusCode, 404, 'no longer live');
      const bad = await t.app.inject({ method: 'DELETE', url: '/api/me/sessions/a%20b', headers: u.auth });
      assert.equal(errorCode(bad), 'VALIDATION_FAILED');
      assert.equal(errorCode(await t.app.inject({ method: 'GET', url: '/api/me/sessions' })), 'UNAUTHENTICATED');
    });

    it('refuses a forged or tampered token', async () => {
      const u = await makeUser(t.app);
      const [body, mac] = u.token.split('.');
      const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
      claims.r = 'admin';
      const forged = `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
      for (const token of [forged, 'garbage', `${body}.AAAA`, '']) {
        const res = await t.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.statusCode, 401, token);
      }
    });

    it('requires sign-in for /api/me', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/me' });
      assert.equal(res.statusCode, 401);
      assert.equal(errorCode(res), 'UNAUTHENTICATED');
    });

    it('lets an admin change roles, and the new role applies to existing sessions', async () => {
      const admin = await makeUser(t.app, 'admin');
      const u = await makeUser(t.app);
      const denied = await t.app.inject({
        method: 'POST',
        url: '/api/venues',
        headers: u.auth,
        payload: { name: 'X', sections: [{ name: 'A', kind: 'ga', capacity: 5 }] },
      });
      assert.equal(denied.statusCode, 403);
      const res = await t.app.inject({
        method: 'PATCH',
        url: `/api/admin/users/${u.id}`,
        headers: admin.auth,
        payload: { role: 'organizer' },
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().user.role, 'organizer');
      const allowed = await t.app.inject({
        method: 'POST',
        url: '/api/venues',
        headers: u.auth,
        payload: { name: 'X', sections: [{ name: 'A', kind: 'ga', capacity: 5 }] },
      });
      assert.equal(allowed.statusCode, 201);
    });

    it('keeps role changes to admins', async () => {
      for (const role of ['buyer', 'organizer', 'staff'] as const) {
        const u = await makeUser(t.app, role);
        const res = await t.app.inject({
          method: 'PATCH',
          url: `/api/admin/users/${u.id}`,
          headers: u.auth,
          payload: { role: 'admin' },
        });
        assert.equal(res.statusCode, 403, role);
        assert.equal(errorCode(res), 'FORBIDDEN');
      }
      const admin = await makeUser(t.app, 'admin');
      const missing = await t.app.inject({
        method: 'PATCH',
        url: '/api/admin/users/usr_nobody',
        headers: admin.auth,
        payload: { role: 'staff' },
      });
      assert.equal(missing.statusCode, 404);
      const bad = await t.app.inject({
        method: 'PATCH',
        url: `/api/admin/users/${admin.id}`,
        headers: admin.auth,
        payload: { role: 'superuser' },
      });
      assert.equal(bad.statusCode, 400);
    });

    it('accepts the session cookie for reads, and for writes only from the same origin', async () => {
      const email = uniqueEmail();
      const signup = await t.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        payload: { email, password: 'longenough', name: 'C' },
      });
      const cookie = String(signup.headers['set-cookie']).split(';')[0]!;
      const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
      assert.equal(me.statusCode, 200);
      const crossSite = await t.app.inject({
        method: 'POST',
        url: '/api/auth/logout',
        headers: { cookie, origin: 'https://evil.example', host: 'localhost:3000' },
      });
      assert.equal(crossSite.statusCode, 403);
      const noOrigin = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
      assert.equal(noOrigin.statusCode, 403);
      const sameOrigin = await t.app.inject({
        method: 'POST',
        url: '/api/auth/logout',
        headers: { cookie, origin: 'http://localhost:3000', host: 'localhost:3000' },
      });
      assert.equal(sameOrigin.statusCode, 204);
    });

    it('rate-limits login per address with 429 and Retry-After', async () => {
      let last;
      for (let i = 0; i < 25; i++) {
        last = await t.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          remoteAddress: '203.0.113.9',
          payload: { email: 'nobody@example.test', password: 'wrong-password' },
        });
        if (last.statusCode === 429) break;
      }
      assert.equal(last?.statusCode, 429);
      assert.equal(errorCode(last), 'RATE_LIMITED');
      assert.ok(Number(last.headers['retry-after']) > 0);
      // Another address (at another account: the account's own limit is the next test's) is not affected.
      const other = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        remoteAddress: '203.0.113.10',
        payload: { email: 'nobody-else@example.test', password: 'wrong-password' },
      });
      assert.equal(other.statusCode, 401);
    });

    it('rate-limits login per account too, whatever the addresses the guesses come from', async () => {
      const u = await makeUser(t.app);
      let last;
      for (let i = 0; i < 25; i++) {
        last = await t.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          remoteAddress: `198.18.0.${i + 1}`,
          // Any case and spacing of the e-mail counts as the same account.
          payload: { email: i % 2 ? u.email.toUpperCase() : ` ${u.email}`, password: `guess ${i}` },
        });
        if (last.statusCode === 429) break;
        assert.equal(last.statusCode, 401);
      }
      assert.equal(last?.statusCode, 429);
      assert.equal(errorCode(last), 'RATE_LIMITED');
      assert.ok(Number(last.headers['retry-after']) > 0);
      // Another account from one of those addresses is not held back.
      const other = await makeUser(t.app);
      const ok = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        remoteAddress: '198.18.0.1',
        payload: { email: other.email, password: other.password },
      });
      assert.equal(ok.statusCode, 200);
    });

    it('rate-limits sign-up per address', async () => {
      let last;
      for (let i = 0; i < 15; i++) {
        last = await t.app.inject({
          method: 'POST',
          url: '/api/auth/signup',
          remoteAddress: '203.0.113.20',
          payload: { email: 'x', password: 'short', name: '' },
        });
        if (last.statusCode === 429) break;
      }
      assert.equal(last?.statusCode, 429);
    });
  });
}
