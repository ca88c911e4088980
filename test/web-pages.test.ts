import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from '../src/app.ts';
import { freshDb, SECRET, testConfig } from './helpers.ts';

describe('serving the built web pages', () => {
  let app: App;
  let root: string;
  let drop: () => Promise<void>;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ticketmax-web-'));
    await mkdir(path.join(root, 'assets'));
    await writeFile(path.join(root, 'index.html'), '<!doctype html><title>TicketMax</title>');
    await writeFile(path.join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(path.join(root, 'robots.txt'), 'User-agent: *');
    const db = await freshDb('pglite');
    drop = db.drop;
    app = await buildApp({ config: testConfig(), db: db.db, secret: SECRET, logger: false, webRoot: root });
  });
  after(async () => {
    await app.close();
    await drop();
    await rm(root, { recursive: true, force: true });
  });

  const get = (url: string, accept = 'text/html,*/*;q=0.8') => app.inject({ method: 'GET', url, headers: { accept } });

  it('caches hashed assets for a year and revalidates everything else', async () => {
    const js = await get('/assets/index-abc123.js', '*/*');
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(String(js.headers['content-type']), /javascript/);
    const robots = await get('/robots.txt', '*/*');
    assert.equal(robots.headers['cache-control'], 'no-cache');
    const home = await get('/');
    assert.equal(home.statusCode, 200);
    assert.equal(home.headers['cache-control'], 'no-cache');
    assert.match(home.body, /<title>TicketMax/);
  });

  it('answers page paths with index.html, and unknown API paths and files with the API 404', async () => {
    const page = await get('/events/evt_123/seats?x=1');
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.equal(page.headers['cache-control'], 'no-cache');
    for (const url of ['/api/nothing', '/api', '/assets/missing.js']) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error.code, 'NOT_FOUND', url);
    }
    assert.equal((await get('/tickets', 'application/json')).statusCode, 404, 'only requests for HTML fall back');
    const malformed = await get('/%E0%A4%A');
    assert.ok(
      malformed.statusCode >= 400 && malformed.statusCode < 500,
      `a malformed path is a 4xx, not ${malformed.statusCode}`,
    );
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'API routes still win');
  });
});
