/**
 * Hold and release throughput through HTTP, for both inventory stores, next to a bare Fastify
 * route and the raw set-hold Lua script, measured in one run. Also the availability snapshot of
 * a 50,000-seat event. Usage: npm run bench:holds  (env: BENCH_RUNS=5, BENCH_USERS=25000)
 *
 * The API runs as its own process (`node --import tsx src/main.ts`, PostgreSQL; Redis or memory
 * for hot state); autocannon runs here. Both share this machine's cores with Redis and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import pg from 'pg';
import { eventKeys } from '../src/modules/inventory/keys.ts';
import { createSigner, DUMMY_PASSWORD_HASH, newIds } from '../src/platform/crypto.ts';
import { createRedis } from '../src/platform/redis.ts';
import {
  cannon,
  CONNECTIONS,
  constant,
  type Measure,
  type Req,
  sequential,
  startProcess,
  stop,
  summarize,
  wrk,
  WRK_SCRIPT,
  wrkFiles,
} from './holds.measure.ts';
import { withDatabase } from './lib.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const USERS = Number(process.env.BENCH_USERS ?? 25_000);
/** autocannon (npm, in this process) or wrk (Debian's, in C) for the hold, release and bare PUT runs. */
const TOOL = process.env.BENCH_TOOL === 'wrk' ? 'wrk' : 'autocannon';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/6';
const SECRET = randomBytes(32).toString('hex');

async function json(url: string, method: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** The API over a fresh PostgreSQL database, with Redis or memory hot state; holds, releases, availability. */
async function benchApi(store: 'redis' | 'memory') {
  return withDatabase(async (databaseUrl) => {
    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      TICKETMAX_SECRET: SECRET,
      PAYMENT_WEBHOOK_SECRET: SECRET,
      TICKETMAX_DEMO: 'false',
      TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1',
      LOG_LEVEL: 'warn',
      PORT: '0',
      ...(store === 'redis' ? { REDIS_URL } : {}),
    };
    if (store === 'redis') {
      // The benchmark's own Redis database: events of earlier runs (whose PostgreSQL databases
      // are gone) would otherwise keep the ticker and the sweeper busy.
      const redis = await createRedis(REDIS_URL);
      await redis.client.flushDb();
      await redis.quit();
    }
    const server = await startProcess(['src/main.ts'], env, /running at (http:\/\/[\d.:]+)/);
    try {
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      const session = createSigner(SECRET, 'session');
      const ids = newIds('usr', USERS + 1);
      await db.query(
        `INSERT INTO users (id, email, name, password_hash, role)
         SELECT id, id || '@bench.test', 'Bench', $2, CASE WHEN n = 1 THEN 'organizer' ELSE 'buyer' END
           FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n)`,
        [ids, DUMMY_PASSWORD_HASH],
      );
      await db.end();
      const e = Math.floor(Date.now() / 1000) + 86_400;
      const bearer = (id: string) => ({
        authorization: `Bearer ${session.sign({ s: `ses_${id}`, u: id, r: id === ids[0] ? 'organizer' : 'buyer', e })}`,
      });
      const organizer = bearer(ids[0]!);
      const { venue } = await json(`${server.url}/api/venues`, 'POST', organizer, {
        name: 'Stadium',
        sections: [{ name: 'Bowl', kind: 'seated', grid: { rows: 200, seatsPerRow: 250 } }],
      });
      const now = Date.now();
      const { event } = await json(`${server.url}/api/events`, 'POST', organizer, {
        venueId: (venue as { id: string }).id,
        name: 'Bench night',
        startsAt: new Date(now + 86_400_000).toISOString(),
        onSaleAt: new Date(now - 60_000).toISOString(),
        prices: [{ section: 'Bowl', amount: 5000, currency: 'USD' }],
        holdSeconds: 3600,
        queue: { admitPerMinute: 1_000_000, maxActive: 10_000_000 },
      });
      const eventId = (event as { id: string }).id;
      const seatmap = (await json(`${server.url}/api/events/${eventId}/seatmap`, 'GET', {})) as unknown as {
        sections: { rows: { seats: { id: string; index: number }[] }[] }[];
      };
      const seatIds: string[] = [];
      for (const row of seatmap.sections[0]!.rows) for (const seat of row.seats) seatIds[seat.index] = seat.id;
      // Admit every buyer through the waiting room, 200 at a time.
      const buyers = ids.slice(1);
      const headers: Record<string, string>[] = [];
      for (let start = 0; start < buyers.length; start += 200) {
        await Promise.all(
          buyers.slice(start, start + 200).map(async (id, k) => {
            const auth = bearer(id);
            for (;;) {
              const { queue } = (await json(`${server.url}/api/events/${eventId}/queue`, 'POST', auth)) as unknown as {
                queue: { admission: { token: string } | null };
              };
              if (queue.admission) {
                headers[start + k] = { ...auth, 'x-admission-token': queue.admission.token, 'content-type': 'application/json' };
                return;
              }
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          }),
        );
      }
      // Buyer u only ever asks for seats u, u + USERS, u + 2·USERS, … (USERS divides the seat count),
      // so every hold succeeds; each PUT moves the buyer's hold: one seat released, one taken.
      const path = `/api/events/${eventId}/hold`;
      let round = 0;
      const put = (u: number): Req => ({
        method: 'PUT',
        path,
        headers: headers[u]!,
        body: JSON.stringify({ seats: [seatIds[(u + round * USERS) % seatIds.length]!] }),
      });
      const moving = (i: number) => {
        if (i > 0 && i % USERS === 0) round += 1;
        return put(i % USERS);
      };
      const release = (i: number): Req => ({ method: 'DELETE', path, headers: withoutBody(headers[i % USERS]!) });
      const fill = async () => {
        round += 1;
        await cannon(server.url, (i) => put(i % USERS), { amount: USERS });
      };
      // Warm-up (JIT, connection pools), not measured.
      await cannon(server.url, moving, { duration: 3 });
      await fill();
      await cannon(server.url, release, { amount: USERS });
      const holds: Measure[] = [];
      const releases: Measure[] = [];
      const files =
        TOOL === 'wrk'
          ? await wrkFiles(
              headers.map((h) => [h.authorization!, h['x-admission-token']!]),
              seatIds,
            )
          : undefined;
      for (let run = 0; run < RUNS; run++) {
        round += 1;
        if (files) {
          const measured = await wrk(
            `${server.url}${path}`,
            5,
            { ...files, WRK_MODE: 'put', WRK_ROUND: String(round) },
            WRK_SCRIPT,
          );
          holds.push(measured);
          round += Math.ceil((measured.rps * 5) / USERS) + 1;
          await fill();
          // One second of DELETEs, at most one per buyer (the script stops there), so each releases a real hold.
          const released = await wrk(`${server.url}${path}`, 1, { ...files, WRK_MODE: 'delete', WRK_ROUND: '0' }, WRK_SCRIPT);
          if (released.rps >= USERS)
            console.warn(`release run ${run + 1}: every hold released within the second; the rate is a lower bound`);
          releases.push(released);
          continue;
        }
        holds.push(await cannon(server.url, moving, { duration: 5 }));
        await fill();
        releases.push(await cannon(server.url, release, { amount: USERS }));
      }
      // Availability of the 50,000-seat event with every buyer holding a seat.
      await fill();
      const availability: Measure[] = [];
      const availabilityAlone: Measure[] = [];
      const snapshot = constant({ method: 'GET', path: `/api/events/${eventId}/availability`, headers: {} });
      for (let run = 0; run < RUNS; run++) {
        availability.push(await cannon(server.url, snapshot, { duration: 3 }));
        // One request at a time: the time to serve a snapshot, without queueing behind others.
        availabilityAlone.push(await sequential(`${server.url}/api/events/${eventId}/availability`, 2000));
      }
      return {
        hold: summarize(holds),
        release: summarize(releases),
        availability: summarize(availability),
        availabilityAlone: summarize(availabilityAlone),
      };
    } finally {
      await stop(server.child);
    }
  });
}
function withoutBody(h: Record<string, string>) {
  const { ['content-type']: _omit, ...rest } = h;
  return rest;
}

/** The bare framework: GET and a PUT with a small JSON body, no auth, no store. */
async function benchBare() {
  const server = await startProcess(['bench/bare-server.ts'], {}, /bare server at (http:\/\/[\d.:]+)/);
  try {
    await cannon(server.url, constant({ method: 'GET', path: '/bare', headers: {} }), { duration: 3 });
    const get: Measure[] = [];
    const put: Measure[] = [];
    for (let run = 0; run < RUNS; run++) {
      get.push(
        TOOL === 'wrk'
          ? await wrk(`${server.url}/bare`, 5)
          : await cannon(server.url, constant({ method: 'GET', path: '/bare', headers: {} }), { duration: 5 }),
      );
      // The same request shape as a hold (two long tokens, a body per request), so the load
      // generator's own cost is the same on both sides of the ratio.
      const token = `Bearer ${'x'.repeat(150)}`;
      const admission = 'y'.repeat(160);
      if (TOOL === 'wrk') {
        const buyers = Array.from(
          { length: 1000 },
          (_, u) => [`Bearer ${'x'.repeat(150)}${u}`, `${'y'.repeat(160)}${u}`] as [string, string],
        );
        const files = await wrkFiles(
          buyers,
          Array.from({ length: 50_000 }, (_, i) => `st_${i}`),
        );
        put.push(await wrk(`${server.url}/bare`, 5, { ...files, WRK_MODE: 'put', WRK_ROUND: '0' }, WRK_SCRIPT));
        continue;
      }
      put.push(
        await cannon(
          server.url,
          (i) => ({
            method: 'PUT',
            path: '/bare',
            headers: { authorization: token, 'x-admission-token': admission, 'content-type': 'application/json' },
            body: JSON.stringify({ seats: [`st_${i % 50_000}`] }),
          }),
          { duration: 5 },
        ),
      );
    }
    return { get: summarize(get), put: summarize(put) };
  } finally {
    await stop(server.child);
  }
}

/** The set-hold script alone over one connection from this process, 256 calls in flight. */
async function benchLua() {
  const redis = await createRedis(REDIS_URL);
  const run = await redis.loadScripts({
    'load-event': new URL('../src/modules/inventory/lua/load-event.lua', import.meta.url),
    'set-hold': new URL('../src/modules/inventory/lua/set-hold.lua', import.meta.url),
  });
  const eventId = `evt_bench${randomBytes(4).toString('hex')}`;
  const k = eventKeys(eventId);
  await run('load-event', [k.meta, k.bits, k.ga, k.holds], ['missing', 50_000, '', '', k.channel]);
  const hold: Measure[] = [];
  const release: Measure[] = [];
  async function drive(op: (u: number) => Promise<unknown>): Promise<Measure> {
    const latencies: number[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        while (next < USERS) {
          const u = next++;
          const t0 = process.hrtime.bigint();
          await op(u);
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    latencies.sort((a, b) => a - b);
    return {
      rps: Math.round(USERS / seconds),
      p50: latencies[Math.floor(USERS * 0.5)]!,
      p99: latencies[Math.floor(USERS * 0.99)]!,
      errors: 0,
    };
  }
  const keys = [k.meta, k.bits, k.ga, k.holds, k.expiries];
  for (let r = 0; r < RUNS; r++) {
    hold.push(
      await drive((u) =>
        run('set-hold', keys, [`u${u}`, Date.now(), 3_600_000, String((u + r * USERS) % 50_000), '', k.channel]),
      ),
    );
    release.push(await drive((u) => run('set-hold', keys, [`u${u}`, Date.now(), 3_600_000, '', '', k.channel])));
  }
  await redis.client.del([k.meta, k.bits, k.ga, k.holds, k.expiries]);
  await redis.quit();
  return { hold: summarize(hold), release: summarize(release) };
}

await mkdir(new URL('./results/', import.meta.url), { recursive: true });
const loadBefore = os.loadavg()[0]!;
const only = process.env.BENCH_ONLY;
const skip = { rps: 0, p50: 0, p99: 0, errors: 0, failures: {}, runs: [] };
const bare = !only || only === 'bare' ? await benchBare() : { get: skip, put: skip };
const lua = !only || only === 'lua' ? await benchLua() : { hold: skip, release: skip };
const redisApi =
  !only || only === 'redis'
    ? await benchApi('redis')
    : { hold: skip, release: skip, availability: skip, availabilityAlone: skip };
const memoryApi =
  !only || only === 'memory'
    ? await benchApi('memory')
    : { hold: skip, release: skip, availability: skip, availabilityAlone: skip };
const results = {
  at: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  // Other work on the machine skews every figure: the 1-minute load average before and after.
  load: { before: loadBefore, after: os.loadavg()[0]! },
  tool: TOOL,
  runs: RUNS,
  users: USERS,
  connections: CONNECTIONS,
  bare,
  lua,
  redisApi,
  memoryApi,
};
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL(`./results/holds-${Date.now()}.json`, import.meta.url), JSON.stringify(results, null, 2));

const row = (name: string, m: { rps: number; p50: number; p99: number; errors: number }) =>
  `| ${name} | ${m.rps.toLocaleString('en')} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${m.errors} |`;
console.log(
  `\n${results.machine}; ${TOOL}; median of ${RUNS} runs; ${USERS.toLocaleString('en')} buyers; ${CONNECTIONS} connections; ` +
    `load average ${results.load.before.toFixed(1)} before, ${results.load.after.toFixed(1)} after\n`,
);
console.log('| what | req/s | p50 ms | p99 ms | non-2xx |\n|---|---:|---:|---:|---:|');
console.log(row('bare Fastify GET', bare.get));
console.log(row('bare Fastify PUT, hold-shaped request', bare.put));
console.log(row('raw set-hold Lua, hold (direct client, 256 in flight)', lua.hold));
console.log(row('raw set-hold Lua, release', lua.release));
console.log(row('HTTP PUT hold, Redis store', redisApi.hold));
console.log(row('HTTP DELETE hold, Redis store', redisApi.release));
console.log(row('HTTP PUT hold, memory store', memoryApi.hold));
console.log(row('HTTP DELETE hold, memory store', memoryApi.release));
console.log(row(`HTTP availability 50,000 seats, Redis store, ${CONNECTIONS} connections`, redisApi.availability));
console.log(row(`HTTP availability 50,000 seats, memory store, ${CONNECTIONS} connections`, memoryApi.availability));
console.log(row('HTTP availability 50,000 seats, Redis store, one request at a time', redisApi.availabilityAlone));
console.log(row('HTTP availability 50,000 seats, memory store, one request at a time', memoryApi.availabilityAlone));
for (const [name, m] of Object.entries({
  redisHold: redisApi.hold,
  redisRelease: redisApi.release,
  memoryHold: memoryApi.hold,
  memoryRelease: memoryApi.release,
})) {
  if (Object.keys(m.failures).length > 0) console.log(`${name} failures: ${JSON.stringify(m.failures)}`);
}
const ratio = (a: number, b: number) => (a / b).toFixed(2);
console.log(
  `\nratios: Redis hold / bare PUT = ${ratio(redisApi.hold.rps, bare.put.rps)}; memory hold / bare PUT = ${ratio(memoryApi.hold.rps, bare.put.rps)}; ` +
    `Redis hold / raw Lua = ${ratio(redisApi.hold.rps, lua.hold.rps)}`,
);
