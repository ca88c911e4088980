/**
 * Checkout throughput: orders created and paid per second through HTTP (POST /api/orders, then
 * POST /api/orders/:id/pay with 4242…, tickets issued), on the embedded database (PGlite) and on
 * PostgreSQL, next to a raw insert-order-and-tickets transaction on the same database in the
 * same run. Usage: npm run bench:checkout   (env: BENCH_RUNS=3, BENCH_BUYERS=1000, BENCH_CONCURRENCY=32,
 * BENCH_SHAPES=pglite,postgres)
 *
 * The API runs as its own process (`node --import tsx src/main.ts`); this script is the client.
 * Accounts are inserted before the server starts (scrypt sign-ups are deliberately slow and not
 * what is measured here); buyers join the waiting room and hold one seat each before the timed
 * window. The test gateway also sends its signed webhook for every charge during the run.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createSigner, DUMMY_PASSWORD_HASH, newId, newIds } from '../src/platform/crypto.ts';
import { openDb, type Db } from '../src/platform/db.ts';
import { migrate } from '../src/platform/migrate.ts';
import { json, median, percentile, runPool, startProcess, stopProcess, withDatabase } from './lib.ts';
import { watchProcesses } from './loadtest/processes.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BUYERS = Number(process.env.BENCH_BUYERS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const RAW_TXS = Number(process.env.BENCH_RAW_TXS ?? 1000);
const SHAPES = (process.env.BENCH_SHAPES ?? 'pglite,postgres').split(',');
const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
const CARD = { number: '4242424242424242', expMonth: 12, expYear: 2040, cvc: '123' };

interface Figures {
  paidPerSecond: number;
  p50: number;
  p99: number;
  /**
   * CPU per paid order during the timed window, in ms: the API process, PostgreSQL (every process
   * of its on the machine: 0 for PGlite, which runs inside the API process) and this client.
   * Steadier than the rate on a shared machine: a change's cost shows here first.
   */
  cpuMs: { api: number; postgres: number; client: number };
}

async function insertUsers(db: { query: (sql: string, params: unknown[]) => Promise<unknown> }, ids: string[]) {
  await db.query(
    `INSERT INTO users (id, email, name, password_hash, role)
     SELECT id, id || '@bench.test', 'Bench', $2, CASE WHEN n = 1 THEN 'organizer' ELSE 'buyer' END
       FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n)`,
    [ids, DUMMY_PASSWORD_HASH],
  );
}

/** Orders and payments through the real server: one event per run, each buyer buys one seat. */
async function throughHttp(url: string, ids: string[], serverPid: number): Promise<Figures[]> {
  const session = createSigner(SECRET, 'session');
  const e = Math.floor(Date.now() / 1000) + 86_400;
  const bearer = (id: string, role: string) => ({
    authorization: `Bearer ${session.sign({ s: `ses_${id}`, u: id, r: role, e })}`,
  });
  const organizer = bearer(ids[0]!, 'organizer');
  const buyers = ids.slice(1).map((id) => bearer(id, 'buyer'));
  const { body: venueBody } = await json<{ venue: { id: string; sections: { rows: { seats: { id: string }[] }[] }[] } }>(
    `${url}/api/venues`,
    'POST',
    organizer,
    {
      name: 'Checkout Hall',
      sections: [{ name: 'Stalls', kind: 'seated', grid: { rows: Math.ceil(BUYERS / 100), seatsPerRow: 100 } }],
    },
  );
  const seats = venueBody.venue.sections[0]!.rows.flatMap((r) => r.seats.map((s) => s.id));
  const figures: Figures[] = [];
  for (let run = 0; run < RUNS; run++) {
    const now = Date.now();
    const { body } = await json<{ event: { id: string } }>(`${url}/api/events`, 'POST', organizer, {
      venueId: venueBody.venue.id,
      name: `Checkout run ${run}`,
      startsAt: new Date(now + 86_400_000).toISOString(),
      onSaleAt: new Date(now - 60_000).toISOString(),
      prices: [{ section: 'Stalls', amount: 5000, currency: 'USD' }],
      holdSeconds: 3600,
      queue: { admitPerMinute: 1_000_000, maxActive: 10_000_000 },
    });
    const eventId = body.event.id;
    const admitted: Record<string, string>[] = new Array(buyers.length);
    await runPool(buyers.length, CONCURRENCY, async (i) => {
      const { body: q } = await json<{ queue: { admission: { token: string } | null } }>(
        `${url}/api/events/${eventId}/queue`,
        'POST',
        buyers[i]!,
      );
      if (!q.queue.admission) throw new Error('not admitted at once');
      admitted[i] = { ...buyers[i]!, 'x-admission-token': q.queue.admission.token };
      await json(`${url}/api/events/${eventId}/hold`, 'PUT', admitted[i], { seats: [seats[i]] });
    });
    const watch = watchProcesses(serverPid, 'api');
    watch.resetCpu();
    const clientCpu = process.cpuUsage();
    const { seconds, latencies } = await runPool(buyers.length, CONCURRENCY, async (i) => {
      const { body: created } = await json<{ order: { id: string } }>(
        `${url}/api/orders`,
        'POST',
        { ...admitted[i]!, 'idempotency-key': `o-${run}-${i}` },
        { eventId },
      );
      const paid = await json<{ tickets: unknown[] }>(
        `${url}/api/orders/${created.order.id}/pay`,
        'POST',
        { ...buyers[i]!, 'idempotency-key': `p-${run}-${i}` },
        { card: CARD },
      );
      if (paid.status !== 200 || paid.body.tickets.length !== 1) throw new Error(`pay answered ${paid.status}`);
    });
    const client = process.cpuUsage(clientCpu);
    const used = watch.stop();
    const perOrder = (seconds: number) => Math.round((seconds * 1000 * 100) / buyers.length) / 100;
    figures.push({
      paidPerSecond: Math.round(buyers.length / seconds),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuMs: {
        api: perOrder(used.processes.find((p) => p.pid === serverPid)?.cpuSeconds ?? 0),
        postgres: perOrder(used.services.find((f) => f.service === 'PostgreSQL')?.cpuSeconds ?? 0),
        client: perOrder((client.user + client.system) / 1e6),
      },
    });
    const { cpuMs } = figures.at(-1)!;
    console.log(
      `  run ${run + 1}: ${figures.at(-1)!.paidPerSecond} paid orders/s, order+pay p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms; CPU per paid order: API ${cpuMs.api} ms, PostgreSQL ${cpuMs.postgres} ms, client ${cpuMs.client} ms`,
    );
  }
  return figures;
}

/** The floor: one transaction that inserts an order and its item, marks it paid and inserts its ticket. */
async function rawTransactions(db: Pick<Db, 'tx' | 'query'>, concurrency: number): Promise<number> {
  const [row] = await db.query<{ event_id: string; section_id: string }>(
    `SELECT e.id AS event_id, s.id AS section_id FROM events e JOIN sections s ON s.venue_id = e.venue_id LIMIT 1`,
  );
  if (!row) throw new Error('no event to write raw orders against');
  // A different buyer for each order: one pending order per buyer and event is a unique index,
  // and reusing one buyer would serialise every transaction on it.
  const users = (await db.query<{ id: string }>(`SELECT id FROM users WHERE role = 'buyer' LIMIT $1`, [RAW_TXS])).map(
    (u) => u.id,
  );
  const { seconds } = await runPool(RAW_TXS, concurrency, async (i) => {
    await db.tx(async (q) => {
      const orderId = newId('ord');
      const itemId = newId('itm');
      await q.query(
        `INSERT INTO orders (id, event_id, user_id, status, total_amount, currency, expires_at) VALUES ($1, $2, $3, 'pending', 5000, 'USD', now() + interval '10 minutes')`,
        [orderId, row.event_id, users[i % users.length]],
      );
      await q.query(
        `INSERT INTO order_items (id, order_id, event_id, section_id, seat_id, quantity, price_amount) VALUES ($1, $2, $3, $4, NULL, 1, 5000)`,
        [itemId, orderId, row.event_id, row.section_id],
      );
      await q.query(`UPDATE orders SET status = 'paid', paid_at = now() WHERE id = $1 AND status = 'pending'`, [orderId]);
      await q.query(
        `INSERT INTO tickets (id, order_id, order_item_id, event_id, section_id, code) VALUES ($1, $2, $3, $4, $5, $6)`,
        [newId('tkt'), orderId, itemId, row.event_id, row.section_id, newId('code')],
      );
    });
  });
  return Math.round(RAW_TXS / seconds);
}

const baseEnv = {
  TICKETMAX_SECRET: SECRET,
  PAYMENT_WEBHOOK_SECRET: SECRET,
  TICKETMAX_DEMO: 'false',
  TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1',
  LOG_LEVEL: 'warn',
  PORT: '0',
};

async function benchPglite() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tm-bench-'));
  try {
    const ids = newIds('usr', BUYERS + 1);
    const seed = await openDb({ dataDir: dir });
    await migrate(seed);
    await insertUsers(seed, ids);
    await seed.close();
    const server = await startProcess(['src/main.ts'], { ...baseEnv, TICKETMAX_DATA_DIR: dir });
    let http: Figures[];
    try {
      http = await throughHttp(server.url, ids, server.child.pid!);
    } finally {
      await stopProcess(server.child);
    }
    const db = await openDb({ dataDir: dir });
    const raw = await rawTransactions(db, 1);
    await db.close();
    return { http, raw };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchPostgres() {
  return withDatabase(async (databaseUrl) => {
    const ids = newIds('usr', BUYERS + 1);
    const server = await startProcess(['src/main.ts'], { ...baseEnv, DATABASE_URL: databaseUrl });
    let http: Figures[];
    try {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await insertUsers(client, ids);
      await client.end();
      http = await throughHttp(server.url, ids, server.child.pid!);
    } finally {
      await stopProcess(server.child);
    }
    const db = await openDb({ url: databaseUrl, poolSize: CONCURRENCY });
    const raw = await rawTransactions(db, CONCURRENCY);
    await db.close();
    return { http, raw };
  });
}

const results: Record<string, { http: Figures[]; raw: number }> = {};
for (const [shape, bench] of [
  ['pglite', benchPglite],
  ['postgres', benchPostgres],
] as const) {
  if (!SHAPES.includes(shape)) continue;
  console.log(`${shape}: ${RUNS} runs of ${BUYERS} buyers, ${CONCURRENCY} at a time`);
  results[shape] = await bench();
}

console.log(
  '\nshape     paid orders/s (median)  order+pay p50   p99    raw order+ticket tx/s   ratio   CPU ms per paid order (API / PostgreSQL / client)',
);
for (const [shape, r] of Object.entries(results)) {
  const rate = median(r.http.map((f) => f.paidPerSecond));
  const p50 = median(r.http.map((f) => f.p50));
  const p99 = median(r.http.map((f) => f.p99));
  const cpu = (part: keyof Figures['cpuMs']) => median(r.http.map((f) => f.cpuMs[part]));
  console.log(
    `${shape.padEnd(9)} ${String(rate).padStart(10)}              ${p50.toFixed(1).padStart(6)} ms  ${p99.toFixed(1).padStart(6)} ms  ${String(r.raw).padStart(10)}              ${(rate / r.raw).toFixed(2)}    ${cpu('api')} / ${cpu('postgres')} / ${cpu('client')}`,
  );
}
await mkdir('bench/results', { recursive: true });
const file = `bench/results/checkout-${new Date().toISOString().replaceAll(':', '-')}.json`;
await writeFile(
  file,
  JSON.stringify({ runs: RUNS, buyers: BUYERS, concurrency: CONCURRENCY, cpus: os.cpus().length, results }, null, 2),
);
console.log(`\nwritten to ${file}`);
