// The admin's accounts: find one by e-mail, name or id, and change its role (never one's own).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, dbShapes, errorCode, makeUser, type TestApp, type TestUser } from './helpers.ts';

const shapes = await dbShapes();

interface Found {
  id: string;
  email: string;
  name: string;
  role: string;
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
      assert.deepEqual(users, [{ id: target.id, email: target.email, name: 'Test buyer', role: 'buyer' }]);
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
