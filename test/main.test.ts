import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { dbShapes, freshDb } from './helpers.ts';
import { exitOf, listenBacklog, startServer as start } from './server.ts';

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
      // Room for an on-sale's burst of new connections: 4,096 queued (or the kernel's cap), not Node's 511.
      const { backlog, cap } = await listenBacklog(app.url);
      assert.equal(backlog, Math.min(4096, cap));
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

  it('gives waiting buyers back their places in the queue after a restart (the memory store starts empty)', async () => {
    const env = { TICKETMAX_DATA_DIR: dataDir, TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' };
    let app = await start(env);
    const post = async (path: string, body: unknown, token?: string) =>
      fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const mine = async (eventId: string, token: string) => {
      const res = await fetch(`${app.url}/api/events/${eventId}/queue`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      return ((await res.json()) as { queue: { state: string; number: number; position: number | null } }).queue;
    };
    let eventId = '';
    const buyers: string[] = [];
    try {
      const login = await post('/api/auth/login', { email: 'organizer@demo.ticketmax.dev', password: 'demo-organizer-pass' });
      const organizer = ((await login.json()) as { token: string }).token;
      const venue = await post(
        '/api/venues',
        { name: 'Restart Hall', sections: [{ name: 'Floor', kind: 'ga', capacity: 100 }] },
        organizer,
      );
      const venueId = ((await venue.json()) as { venue: { id: string } }).venue.id;
      const event = await post(
        '/api/events',
        {
          venueId,
          name: 'Restart Night',
          startsAt: new Date(Date.now() + 86_400_000).toISOString(),
          onSaleAt: new Date(Date.now() - 60_000).toISOString(),
          prices: [{ section: 'Floor', amount: 1000, currency: 'USD' }],
          queue: { maxActive: 1 },
        },
        organizer,
      );
      assert.equal(event.status, 201);
      eventId = ((await event.json()) as { event: { id: string } }).event.id;
      for (let i = 0; i < 3; i++) {
        const signup = await post('/api/auth/signup', {
          email: `restart${i}.${Date.now()}@example.test`,
          password: 'restart-password',
          name: 'R',
        });
        const token = ((await signup.json()) as { token: string }).token;
        buyers.push(token);
        assert.equal((await post(`/api/events/${eventId}/queue`, {}, token)).status, 201);
      }
      assert.deepEqual(
        (await Promise.all(buyers.map((t) => mine(eventId, t)))).map((q) => [q.number, q.state]),
        [
          [1, 'admitted'],
          [2, 'waiting'],
          [3, 'waiting'],
        ],
      );
      // The admission ticker copies the numbered places to the database a few times a second.
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      const exited = exitOf(app.child);
      app.child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
    app = await start(env);
    try {
      assert.deepEqual(
        (await Promise.all(buyers.map((t) => mine(eventId, t)))).map((q) => [q.number, q.state, q.position]),
        [
          [1, 'admitted', 0],
          [2, 'waiting', 0],
          [3, 'waiting', 1],
        ],
      );
    } finally {
      const exited = exitOf(app.child);
      app.child.kill('SIGTERM');
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
