import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from '../src/app.ts';
import { dbShapes, freshDb, SECRET, testConfig } from './helpers.ts';
import { admit, type Buyer, bulkBuyers, onSaleEvent, storeShapes, takenIndexes, TEST_REDIS_URL } from './inventory.helpers.ts';

const BUYERS = 1000;
const SEATS = 100;

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Reply {
  status: number;
  body: { hold?: { seats: { id: string }[] }; error?: { code: string; details?: { seats?: string[] } } };
}
type Send = (n: number, method: string, url: string, headers: Record<string, string>, payload?: unknown) => Promise<Reply>;

/** Starts `node --import tsx src/main.ts` as a second API process on its own port. */
async function startSecondProcess(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`second process did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /running at (http:\/\/[\d.:]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`second process exited with ${code}:\n${output}`)));
  });
  return { url, child };
}

/**
 * 1,000 admitted buyers fire holds for overlapping sets of the same 100 seats at once, through
 * the HTTP API; afterwards every seat has at most one holder, every 2xx is a real hold, every
 * 409 names seats someone else really holds, and the bitmap equals the holds.
 */
async function race(app: App, send: Send, buyers: Buyer[], eventId: string, seats: { id: string; index: number }[]) {
  const random = mulberry32(42);
  const asks = buyers.map((): { seats: string[] } | { bestAvailable: { quantity: number } } => {
    if (random() < 0.1) return { bestAvailable: { quantity: 2 } };
    const wanted = new Set<number>();
    const size = 1 + Math.floor(random() * 4);
    while (wanted.size < size) wanted.add(Math.floor(random() * SEATS));
    return { seats: [...wanted].map((i) => seats[i]!.id) };
  });
  const replies = await Promise.all(buyers.map((b, n) => send(n, 'PUT', `/api/events/${eventId}/hold`, b.headers, asks[n])));
  const statuses = new Map<number, number>();
  for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  assert.deepEqual(
    [...statuses.keys()].filter((s) => s !== 200 && s !== 409),
    [],
    `statuses ${JSON.stringify([...statuses])}`,
  );

  // Re-read every buyer's hold through the API (on either process).
  const holds = await Promise.all(buyers.map((b, n) => send(n + 1, 'GET', `/api/events/${eventId}/hold`, b.headers)));
  const holder = new Map<string, number>();
  holds.forEach((h, n) => {
    if (h.status === 404) return;
    assert.equal(h.status, 200);
    for (const seat of h.body.hold!.seats) {
      assert.equal(holder.get(seat.id), undefined, `seat ${seat.id} held by buyers ${holder.get(seat.id)} and ${n}`);
      holder.set(seat.id, n);
    }
  });
  replies.forEach((r, n) => {
    const ask = asks[n]!;
    if (r.status === 200) {
      const got = r.body.hold!.seats.map((s) => s.id);
      assert.deepEqual(
        holds[n]!.body.hold?.seats.map((s) => s.id),
        got,
        `buyer ${n}'s 2xx hold is real`,
      );
      if ('seats' in ask) assert.deepEqual(new Set(got), new Set(ask.seats));
    } else {
      assert.equal(holds[n]!.status, 404, `buyer ${n} got 409 and holds nothing`);
      const code = r.body.error!.code;
      if ('seats' in ask) {
        assert.equal(code, 'SEATS_UNAVAILABLE');
        const lost = r.body.error!.details!.seats!;
        assert.ok(lost.length > 0, `buyer ${n}'s 409 names its lost seats`);
        for (const id of lost) {
          assert.ok(ask.seats.includes(id), 'a lost seat is one I asked for');
          assert.notEqual(holder.get(id), undefined, `lost seat ${id} is held by someone`);
        }
      } else assert.ok(code === 'SEATS_UNAVAILABLE' || code === 'SOLD_OUT', code);
    }
  });
  // The bitmap equals the holds exactly (read the store, not the ≤150 ms HTTP cache).
  const served = await app.services.inventory.availability.snapshot(eventId);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const fresh = await send(0, 'GET', `/api/events/${eventId}/availability`, {});
  const byId = new Map(seats.map((s) => [s.id, s.index]));
  const expected = [...holder.keys()].map((id) => byId.get(id)!).sort((a, b) => a - b);
  assert.deepEqual(takenIndexes(fresh.body as never), expected);
  assert.ok(served.version > 0);
  return { ok: statuses.get(200) ?? 0, conflicts: statuses.get(409) ?? 0, seatsHeld: holder.size };
}

const venue = { name: 'Hundred', sections: [{ name: 'Hall', kind: 'seated', grid: { rows: 10, seatsPerRow: 10 } }] };
const prices = [{ section: 'Hall', amount: 1000, currency: 'USD' }];
const stores = await storeShapes();
const dbs = await dbShapes();

for (const store of stores) {
  const twoProcesses = store === 'redis' && dbs.includes('postgres');
  describe(`1,000 buyers race for 100 seats (${store} store${twoProcesses ? ', two API processes' : ''})`, () => {
    let app: App;
    let drop: () => Promise<void>;
    let second: { url: string; child: ChildProcess } | undefined;
    let firstUrl = '';
    before(async () => {
      const fresh = await freshDb(twoProcesses ? 'postgres' : 'pglite');
      drop = fresh.drop;
      const env = { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1', ...(store === 'redis' ? { REDIS_URL: TEST_REDIS_URL } : {}) };
      app = await buildApp({ config: testConfig(env), db: fresh.db, secret: SECRET, logger: false });
      if (twoProcesses) {
        firstUrl = await app.listen({ port: 0, host: '127.0.0.1' });
        second = await startSecondProcess({
          ...env,
          DATABASE_URL: fresh.url!,
          TICKETMAX_SECRET: SECRET,
          PAYMENT_WEBHOOK_SECRET: 'webhook-secret-for-tests',
          TICKETMAX_DEMO: 'false',
        });
      } else await app.ready();
    });
    after(async () => {
      if (second) {
        second.child.kill('SIGTERM');
        await new Promise((resolve) => second!.child.once('exit', resolve));
      }
      await app.close();
      await drop();
    });

    it('gives every seat to at most one buyer and answers every buyer truthfully', async () => {
      const { eventId, seats } = await onSaleEvent(app, { prices }, venue);
      assert.equal(seats.length, SEATS);
      const buyers = await bulkBuyers(app, BUYERS);
      for (let start = 0; start < BUYERS; start += 100) {
        await Promise.all(buyers.slice(start, start + 100).map((b) => admit(app, b, eventId)));
      }
      let send: Send;
      if (second) {
        // Real HTTP, alternating between this process and the second one.
        const bases = [firstUrl, second.url];
        send = async (n, method, url, headers, payload) => {
          const res = await fetch(`${bases[n % 2]}${url}`, {
            method,
            headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
            body: payload ? JSON.stringify(payload) : undefined,
          });
          const text = await res.text();
          return { status: res.status, body: text ? (JSON.parse(text) as Reply['body']) : {} };
        };
      } else {
        send = async (_n, method, url, headers, payload) => {
          const res = await app.inject({ method: method as 'GET', url, headers, payload: payload as object });
          return { status: res.statusCode, body: res.body ? res.json<Reply['body']>() : {} };
        };
      }
      const outcome = await race(app, send, buyers, eventId, seats);
      assert.ok(outcome.ok > 0 && outcome.conflicts > 0, JSON.stringify(outcome));
      console.log(`# ${store}: ${JSON.stringify(outcome)}`);
    });
  });
}
