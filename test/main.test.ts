import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { dbShapes, freshDb } from './helpers.ts';
import { exitOf, startServer as start } from './server.ts';

async function getJson(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

const shapes = await dbShapes();

describe('npm start on the embedded default', () => {
  let dataDir = '';
  after(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves /healthz, the demo events and the stadium seat map, then stops cleanly on SIGTERM', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ticketmax-main-'));
    const app = await start({ TICKETMAX_DATA_DIR: dataDir });
    try {
      assert.match(app.output(), /admin@demo\.ticketmax\.dev/);
      assert.equal((await getJson(`${app.url}/healthz`)).status, 200);
      const { body } = await getJson(`${app.url}/api/events`);
      const events = body.events as { id: string; name: string; status: string; capacity: number }[];
      assert.equal(events.length, 3);
      const stadium = events.find((e) => e.capacity === 50_000);
      assert.ok(stadium, 'the 50,000-seat stadium event');
      assert.equal(stadium.status, 'scheduled');
      assert.ok(events.some((e) => e.capacity === 2000 && e.status === 'on_sale'));
      const started = Date.now();
      const seatmap = await getJson(`${app.url}/api/events/${stadium.id}/seatmap`);
      assert.equal(seatmap.status, 200);
      const seats = (seatmap.body.sections as { rows: { seats: unknown[] }[] }[]).flatMap((s) => s.rows.flatMap((r) => r.seats));
      assert.equal(seats.length, 50_000);
      assert.ok(Date.now() - started < 5000);
      const exited = exitOf(app.child);
      app.child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      app.child.kill('SIGKILL');
    }
  });

  it('keeps its data and seeds only once across restarts', async () => {
    const app = await start({ TICKETMAX_DATA_DIR: dataDir });
    try {
      const { body } = await getJson(`${app.url}/api/events`);
      assert.equal((body.events as unknown[]).length, 3);
      const login = await fetch(`${app.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'organizer@demo.ticketmax.dev', password: 'demo-organizer-pass' }),
      });
      assert.equal(login.status, 200);
    } finally {
      const exited = exitOf(app.child);
      app.child.kill('SIGINT');
      assert.equal(await exited, 0);
    }
  });

  it('refuses to start on a bad setting, naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: 'eighty' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    assert.equal(await exitOf(child), 1);
    assert.match(output, /PORT/);
  });
});

if (shapes.includes('postgres')) {
  describe('npm start on PostgreSQL', () => {
    it('migrates a fresh database, ensures the admin account and serves', async () => {
      const { url, drop } = await freshDb('postgres');
      const app = await start({
        DATABASE_URL: url!,
        TICKETMAX_SECRET: 'x'.repeat(40),
        PAYMENT_WEBHOOK_SECRET: 'y'.repeat(40),
        TICKETMAX_ADMIN_EMAIL: 'root@example.test',
        TICKETMAX_ADMIN_PASSWORD: 'admin-password-1',
      });
      try {
        assert.match(app.output(), /scale-out/);
        const ready = await getJson(`${app.url}/readyz`);
        assert.equal(ready.status, 200);
        const { body } = await getJson(`${app.url}/api/events`);
        assert.deepEqual(body.events, [], 'no demo data outside the embedded shape by default');
        const login = await fetch(`${app.url}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'root@example.test', password: 'admin-password-1' }),
        });
        assert.equal(login.status, 200);
        assert.equal(((await login.json()) as { user: { role: string } }).user.role, 'admin');
      } finally {
        const exited = exitOf(app.child);
        app.child.kill('SIGTERM');
        await exited;
        await drop();
      }
    });
  });
}
