/**
 * The on-sale load test: virtual buyers through the waiting room to their tickets, against the real
 * server started as child processes, then the invariants read from the database.
 *
 *   npm run loadtest -- --scenario seed-spike|spike-10x|stadium [--shape embedded|scale] [--buyers N]
 *                       [--api N] [--max-seconds S] [--connections C] [--waiting-connections C]
 *                       [--profile ramp|spike|steady] [--arrival-seconds S] [--admission-backoff-ms MS]
 *                       [--kill-api-at S]   (scale shape: SIGKILL one API process S seconds into the window)
 *                       [--flush-redis-at S] (scale shape: FLUSHDB the servers' Redis database S seconds into
 *                                            the window, as a Redis restart without persistence would)
 *                       [--think-seconds S] (a buyer's pause at each checkout decision; 0: back to back)
 *                       [--shared-cache on|off] (the waiting room's public status through a shared HTTP
 *                                            cache, as behind a CDN; default on)
 *
 * Accounts and session tokens are seeded straight into the database before the measured window
 * (see loadtest/setup.ts). The server runs with TICKETMAX_RATE_LIMIT_ALLOW=127.0.0.1: every buyer
 * comes from this one address. Loopback only. Writes bench/results/<scenario>-<timestamp>.json and
 * .html; exits 1 when any verification count is not 0 (or nobody was served).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { openDb, type Db } from '../src/platform/db.ts';
import { migrate } from '../src/platform/migrate.ts';
import { removeBrokerTopology } from '../src/workers/queues.ts';
import { createRedis } from '../src/platform/redis.ts';
import { queueKeys } from '../src/modules/waiting-room/keys.ts';
import { percentile, startProcess, stopProcess, withDatabase } from './lib.ts';
import type { Venue } from './loadtest/buyer.ts';
import { watchProcesses } from './loadtest/processes.ts';
import { renderReport } from './loadtest/report.ts';
import { arrivals, type Profile, SCENARIOS } from './loadtest/scenarios.ts';
import { createEvent, seedAccounts } from './loadtest/setup.ts';
import { runShare, type Share, type ShareResult } from './loadtest/generator.ts';
import { CACHED } from './loadtest/http.ts';
import { createStats, round, type StatsDump } from './loadtest/stats.ts';
import { verificationLine, verify } from './loadtest/verify.ts';
import { between, scrape as scrapeServer, summarize } from './loadtest/server-latency.ts';
import { startPgActivitySampler } from './loadtest/pg-activity.ts';

/** The status monitor's thread: one status read a second; what it saw and how long it took. */
const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  for (;;) {
    const asked = performance.now();
    try {
      const res = await fetch(workerData);
      const body = await res.json();
      // As wall-clock time: each thread has its own performance.timeOrigin.
      const at = performance.timeOrigin + asked;
      parentPort.postMessage({ at, ms: performance.now() - asked, waiting: body.waiting, serving: body.serving });
    } catch {
      // best effort: the buyers' own requests carry the errors
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
})();
`;

/** A generator in a child process of its own (see bench/loadtest/generator.ts), loaded and waiting. */
async function forkGenerator(): Promise<{ run(share: Share): Promise<{ result: ShareResult; stats: StatsDump }> }> {
  const child = fork(fileURLToPath(new URL('./loadtest/generator.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`a load generator exited with ${code} before it was ready`)));
  });
  return {
    run: (share) =>
      new Promise((resolve, reject) => {
        child.removeAllListeners('exit');
        child.once('message', (m) => resolve(m as { result: ShareResult; stats: StatsDump }));
        child.once('exit', (code) => reject(new Error(`a load generator exited with ${code}`)));
        child.send(share);
      }),
  };
}

const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'seed-spike' },
    shape: { type: 'string', default: 'embedded' },
    buyers: { type: 'string' },
    api: { type: 'string', default: '2' },
    'max-seconds': { type: 'string' },
    connections: { type: 'string', default: '128' },
    // The waiting room's pool (joins and leaves); by default as many as --connections.
    'waiting-connections': { type: 'string' },
    'admission-backoff-ms': { type: 'string' },
    generators: { type: 'string', default: '1' },
    profile: { type: 'string' },
    'arrival-seconds': { type: 'string' },
    'kill-api-at': { type: 'string' },
    'flush-redis-at': { type: 'string' },
    'think-seconds': { type: 'string' },
    'max-active': { type: 'string' },
    'admit-per-minute': { type: 'string' },
    'shared-cache': { type: 'string', default: 'on' },
  },
});
const base = SCENARIOS[args.scenario];
if (!base || !['embedded', 'scale'].includes(args.shape)) {
  console.error(
    `usage: npm run loadtest -- --scenario ${Object.keys(SCENARIOS).join('|')} [--shape embedded|scale] [--buyers N] [--think-seconds S] [--max-active N] [--admit-per-minute N] [--connections C] [--waiting-connections C] [--admission-backoff-ms MS]`,
  );
  process.exit(2);
}
const shape = args.shape as 'embedded' | 'scale';
const scenario = {
  ...base,
  buyers: args.buyers ? Number(args.buyers) : base.buyers,
  maxSeconds: args['max-seconds'] ? Number(args['max-seconds']) : base.maxSeconds,
  profile: (args.profile ?? base.profile) as Profile,
  arrivalSeconds: args['arrival-seconds'] ? Number(args['arrival-seconds']) : base.arrivalSeconds,
  thinkSeconds: args['think-seconds'] !== undefined ? Number(args['think-seconds']) : base.thinkSeconds,
  // The organizer's two admission controls, for runs that ask what other settings would do.
  queue: {
    ...base.queue,
    ...(args['max-active'] !== undefined ? { maxActive: Number(args['max-active']) } : {}),
    ...(args['admit-per-minute'] !== undefined ? { admitPerMinute: Number(args['admit-per-minute']) } : {}),
  },
};
if (!(Number.isInteger(scenario.queue.maxActive) && scenario.queue.maxActive > 0)) {
  console.error('--max-active is a whole number above 0');
  process.exit(2);
}
if (!(Number.isInteger(scenario.queue.admitPerMinute) && scenario.queue.admitPerMinute > 0)) {
  console.error('--admit-per-minute is a whole number above 0');
  process.exit(2);
}
const connections = { checkout: Number(args.connections), waiting: Number(args['waiting-connections'] ?? args.connections) };
if (args['admission-backoff-ms'] !== undefined && !/^\d+$/.test(args['admission-backoff-ms'])) {
  console.error('--admission-backoff-ms is a whole number of milliseconds');
  process.exit(2);
}
if (!Object.values(connections).every((n) => Number.isInteger(n) && n > 0)) {
  console.error('--connections and --waiting-connections are whole numbers above 0');
  process.exit(2);
}
// A shorter or longer window moves the sale's opening with it (the stadium's pre-queue stays a pre-queue).
scenario.saleOpensAfter = (base.saleOpensAfter * scenario.arrivalSeconds) / base.arrivalSeconds;
if (!['ramp', 'spike', 'steady'].includes(scenario.profile)) {
  console.error('--profile is one of ramp, spike, steady');
  process.exit(2);
}
if (!['on', 'off'].includes(args['shared-cache'])) {
  console.error('--shared-cache is on or off');
  process.exit(2);
}
// The public queue status is cacheable for a second (ARCHITECTURE.md: a million waiting buyers cost
// almost nothing); in production a CDN or caching proxy answers most of those polls.
const sharedCache = args['shared-cache'] === 'on';
const killApiAt = args['kill-api-at'] === undefined ? undefined : Number(args['kill-api-at']);
if (killApiAt !== undefined && (shape !== 'scale' || !(killApiAt >= 0))) {
  console.error('--kill-api-at <seconds into the window> needs --shape scale');
  process.exit(2);
}
const flushRedisAt = args['flush-redis-at'] === undefined ? undefined : Number(args['flush-redis-at']);
if (flushRedisAt !== undefined && (shape !== 'scale' || !(flushRedisAt >= 0))) {
  console.error('--flush-redis-at <seconds into the window> needs --shape scale');
  process.exit(2);
}
const SECRET = `loadtest-${randomBytes(16).toString('hex')}`;
const serverEnv = {
  TICKETMAX_SECRET: SECRET,
  PAYMENT_WEBHOOK_SECRET: SECRET,
  TICKETMAX_DEMO: 'false',
  TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1',
  LOG_LEVEL: 'warn',
  PORT: '0',
  // Admission back-off (src/modules/waiting-room/backoff.ts): off unless asked for.
  ...(args['admission-backoff-ms'] !== undefined ? { TICKETMAX_ADMISSION_BACKOFF_MS: args['admission-backoff-ms'] } : {}),
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seeds, starts the server, runs the buyers, stops the server; returns what verification needs. */
async function run(
  prepare: () => Promise<Db>,
  start: () => Promise<{ url: string; child: ChildProcess }>,
  rootRole: string,
  /** The PostgreSQL database's URL, to sample its activity during the window (PGlite has none to sample). */
  databaseUrl?: string,
  /** The fault of --flush-redis-at: empties the servers' Redis database. */
  flushRedis?: () => Promise<void>,
) {
  const seedStarted = performance.now();
  const db = await prepare();
  await migrate(db);
  const accounts = await seedAccounts(db, SECRET, scenario.buyers);
  await db.close();
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const server = await start();
  // The server's own log (warnings and errors) goes beside the results, for what went wrong under load.
  const serverLog = createWriteStream(`${file}.server.log`);
  server.child.stdout?.pipe(serverLog);
  server.child.stderr?.pipe(serverLog);
  const watch = watchProcesses(server.child.pid!, rootRole);
  try {
    const venue: Venue & { capacity: number } = await createEvent(
      server.url,
      accounts.organizer,
      scenario,
      scenario.saleOpensAfter > 0 ? scenario.saleOpensAfter * 1000 : -1000,
    );
    // Several generators: forked and loaded before the window opens, each given every n-th buyer.
    const generatorCount = Math.max(1, Number(args.generators));
    const children = generatorCount === 1 ? [] : await Promise.all(Array.from({ length: generatorCount }, forkGenerator));
    // The API processes' own request histograms before the window, to count only the window's requests.
    const apiProcesses = shape === 'scale' ? Number(args.api) : 1;
    const metricsBefore = await scrapeServer(server.url, apiProcesses);
    watch.resetCpu();
    const pgSampler = databaseUrl === undefined ? undefined : await startPgActivitySampler(databaseUrl);
    const t0 = performance.now();
    const t0EpochMs = performance.timeOrigin + t0;
    venue.deadline = t0 + scenario.maxSeconds * 1000;
    const stats = createStats(t0);
    // The status monitor runs on a thread of its own, with its own event loop and connection, so
    // its timing is the server's answer to one cheap request while the buyers' requests are in
    // flight, not the generator's backlog or its event loop's delays.
    const probes: number[] = [];
    const monitor = new Worker(PROBE, { eval: true, workerData: `${server.url}/api/events/${venue.eventId}/queue/status` });
    monitor.on('message', (m: { at: number; ms: number; waiting: number; serving: number }) => {
      probes.push(m.ms);
      Object.assign(stats.at(m.at - performance.timeOrigin), { waiting: m.waiting, serving: m.serving, probeMs: round(m.ms) });
    });
    // The fault: one API process killed outright mid-run (start:scale starts another in its place).
    let killed: { pid: number; atSeconds: number } | undefined;
    const killer =
      killApiAt === undefined
        ? undefined
        : setTimeout(() => {
            const pid = watch.pidsOf('api:')[0];
            if (pid === undefined) return;
            process.kill(pid, 'SIGKILL');
            killed = { pid, atSeconds: round((performance.now() - t0) / 1000) };
            console.log(`  killed API process ${pid} with SIGKILL at ${killed.atSeconds} s`);
          }, killApiAt * 1000);
    // The other fault: Redis loses everything (queues, holds, availability, rate-limit counts, leases);
    // the servers rebuild the hot state from the database.
    let flushed: { atSeconds: number } | undefined;
    const flusher =
      flushRedisAt === undefined || !flushRedis
        ? undefined
        : setTimeout(() => {
            void flushRedis().then(() => {
              flushed = { atSeconds: round((performance.now() - t0) / 1000) };
              console.log(`  flushed Redis (FLUSHDB) at ${flushed.atSeconds} s`);
            });
          }, flushRedisAt * 1000);
    const offsets = arrivals(scenario.profile, scenario.buyers, scenario.arrivalSeconds);
    const shareOf = (g: number): Share => ({
      url: server.url,
      connections: Math.max(1, Math.round(connections.checkout / generatorCount)),
      waitingConnections: Math.max(1, Math.round(connections.waiting / generatorCount)),
      sharedCache,
      scenario,
      venue,
      buyers: offsets.flatMap((offsetMs, index) =>
        index % generatorCount === g ? [{ ...accounts.buyers[index]!, index, offsetMs }] : [],
      ),
      t0EpochMs,
      deadlineEpochMs: performance.timeOrigin + venue.deadline,
    });
    const shares: ShareResult[] =
      children.length === 0
        ? [await runShare(shareOf(0), stats)]
        : await Promise.all(
            children.map(async (child, g) => {
              const { result, stats: measured } = await child.run(shareOf(g));
              stats.absorb(measured);
              return result;
            }),
          );
    const records = shares.flatMap((r) => r.records);
    const paidAt = shares.flatMap((r) => r.paidAt);
    clearTimeout(killer);
    clearTimeout(flusher);
    if (flushRedisAt !== undefined && !flushed) throw new Error(`Redis was not flushed (--flush-redis-at ${flushRedisAt})`);
    if (killApiAt !== undefined && !killed) throw new Error(`no API process was killed (--kill-api-at ${killApiAt})`);
    const windowSeconds = (performance.now() - t0) / 1000;
    const pgActivity = await pgSampler?.stop();
    const generatorCpuSeconds = shares.reduce((sum, r) => sum + r.cpuSeconds, 0);
    await monitor.terminate();
    const sortedProbes = probes.sort((a, b) => a - b);
    const generator = {
      count: generatorCount,
      loopDelayP50Ms: Math.max(...shares.map((r) => r.loopDelay.p50Ms)),
      loopDelayP99Ms: Math.max(...shares.map((r) => r.loopDelay.p99Ms)),
      loopDelayMaxMs: Math.max(...shares.map((r) => r.loopDelay.maxMs)),
      peakQueued: Math.max(0, ...stats.seconds.map((s) => s.clientQueued)),
      probeP50Ms: round(percentile(sortedProbes, 50)),
      probeP99Ms: round(percentile(sortedProbes, 99)),
    };
    // Requests the buyers gave up on may still be queued in the server: let it drain (a quick
    // /healthz means the backlog is gone), then give late webhooks a moment before stopping.
    for (const until = performance.now() + 60_000; performance.now() < until;) {
      const asked = performance.now();
      const ok = await fetch(`${server.url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok && performance.now() - asked < 250) break;
      await sleep(500);
    }
    await sleep(2000);
    // The run's own scrapes and drain checks are not the buyers' requests.
    const answered = between(metricsBefore, await scrapeServer(server.url, apiProcesses));
    for (const ours of ['GET /metrics', 'GET /healthz']) answered.delete(ours);
    const serverLatency = summarize(answered);
    const { processes, services, machine } = watch.stop();
    await stopProcess(server.child);
    const settleRestarts = await settle(prepare, start);
    return {
      venue,
      stats,
      records,
      paidAt,
      windowSeconds,
      processes,
      services,
      machine,
      seedSeconds,
      generatorCpuSeconds,
      generator,
      settleRestarts,
      killed,
      flushed,
      serverLatency,
      pgActivity,
    };
  } catch (err) {
    watch.stop();
    await stopProcess(server.child);
    throw err;
  }
}

/**
 * A stop can cut payments short (the server exits 10 s after SIGTERM however busy it is): their
 * charges stand in the test gateway's ledger with webhooks not yet delivered, which by design settle
 * after a restart. While any is undelivered, start the server again for a few seconds (at most 3
 * times) so the run is verified as the system leaves it. Returns how many restarts it took.
 */
async function settle(open: () => Promise<Db>, start: () => Promise<{ child: ChildProcess }>): Promise<number> {
  for (let restarts = 0; ; restarts++) {
    const db = await open();
    const [row] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM test_gateway_webhooks WHERE delivered_at IS NULL',
    );
    await db.close();
    if ((row?.n ?? 0) === 0 || restarts === 3) return restarts;
    console.log(`  ${row?.n} gateway webhooks undelivered at the stop: restarting the server to let them settle`);
    const server = await start();
    await sleep(8000);
    await stopProcess(server.child);
  }
}

async function embedded() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tm-load-'));
  try {
    const result = await run(
      () => openDb({ dataDir: dir }),
      () => startProcess(['src/main.ts'], { ...serverEnv, TICKETMAX_DATA_DIR: dir }),
      'server (api,ticker,expiry,outbox)',
    );
    const db = await openDb({ dataDir: dir });
    try {
      return { ...result, ...(await verify(db, result.venue.eventId, result.records)) };
    } finally {
      await db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function scale() {
  const redisUrl = process.env.LOADTEST_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
  const redis = await createRedis(redisUrl);
  await redis.client.flushDb();
  await redis.quit();
  const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const amqpPrefix = `tm-load-${randomBytes(4).toString('hex')}`;
  return withDatabase(async (databaseUrl) => {
    const result = await run(
      () => openDb({ url: databaseUrl }),
      () =>
        startProcess(['scripts/start-scale.ts', '--api', args.api, '--port', '0'], {
          ...serverEnv,
          DATABASE_URL: databaseUrl,
          REDIS_URL: redisUrl,
          AMQP_URL: amqpUrl,
          TICKETMAX_AMQP_PREFIX: amqpPrefix,
        }),
      'launcher (cluster primary)',
      databaseUrl,
      async () => {
        const client = await createRedis(redisUrl);
        await client.client.flushDb();
        await client.quit();
      },
    );
    const db = await openDb({ url: databaseUrl, poolSize: 2 });
    try {
      const queueMb = await queueMemoryMb(redisUrl, result.venue.eventId);
      return { ...result, queueMb, ...(await verify(db, result.venue.eventId, result.records)) };
    } finally {
      await db.close();
      await removeQueues(amqpUrl, amqpPrefix);
    }
  });
}

await mkdir('bench/results', { recursive: true });
const file = `bench/results/${scenario.name}-${new Date().toISOString().replaceAll(':', '-')}`;

/** What the event's waiting room holds in Redis after the run (MEMORY USAGE of its keys), in MB. */
async function queueMemoryMb(url: string, eventId: string): Promise<number> {
  const redis = await createRedis(url);
  try {
    const sizes = await Promise.all(
      Object.values(queueKeys(eventId)).map((key) =>
        redis.client.sendCommand<number | null>(['MEMORY', 'USAGE', key, 'SAMPLES', '0']),
      ),
    );
    return round(sizes.reduce<number>((sum, n) => sum + Number(n ?? 0), 0) / 1024 / 1024);
  } finally {
    await redis.quit();
  }
}

/** Deletes the run's RabbitMQ queues and exchange (the prefix was this run's alone). Best effort. */
async function removeQueues(url: string, prefix: string) {
  try {
    await removeBrokerTopology(url, prefix);
  } catch (err) {
    console.warn(`could not remove the run's RabbitMQ queues (${prefix}.*): ${String(err)}`);
  }
}

console.log(
  `${scenario.name} on the ${shape} shape: ${scenario.buyers} buyers (${scenario.profile} over ${scenario.arrivalSeconds} s), queue ${JSON.stringify(scenario.queue)}`,
);
const r = shape === 'embedded' ? await embedded() : await scale();

const outcomes: Record<string, number> = {};
for (const b of r.records) outcomes[b.outcome] = (outcomes[b.outcome] ?? 0) + 1;
const soldUnits = r.sold.seats + r.sold.gaPlaces;
const sortedPaid = [...r.paidAt].sort((a, b) => a - b);
const soldOut = soldUnits >= r.venue.capacity;
const series = r.stats.series();
const peakOrders = Math.max(0, ...series.map((s) => s.orders));
const firstOrder = series.findIndex((s) => s.orders > 0);
const lastOrder = series.length - 1 - [...series].reverse().findIndex((s) => s.orders > 0);
const ordersTotal = series.reduce((sum, s) => sum + s.orders, 0);
// After the arrival spike: from the first second after the last arrival in which no request waited
// in the generator for a connection, to the sell-out (else the window's end). While a spike's joins
// arrive they queue and slow everything; this is the sale once they are through.
const settledAt = series.findIndex((s) => s.t >= Math.ceil(scenario.arrivalSeconds) && s.clientQueued === 0);
const settledUntilMs = r.stats.soldOutAt ?? r.windowSeconds * 1000;
const afterSpike =
  settledAt >= 0 && settledAt * 1000 < settledUntilMs ? r.stats.endpointsBetween(settledAt * 1000, settledUntilMs) : null;
const afterSpikeReport = afterSpike
  ? { fromSeconds: settledAt, toSeconds: round(settledUntilMs / 1000), endpoints: afterSpike }
  : null;
const slowestAfterSpike = afterSpike ? Object.entries(afterSpike).sort(([, a], [, b]) => b.p99 - a.p99)[0] : undefined;
const summary = {
  scenario: scenario.name,
  shape: shape === 'scale' ? `scale (${args.api} API + 1 worker, PostgreSQL, Redis, RabbitMQ)` : 'embedded (PGlite, memory)',
  buyers: scenario.buyers,
  'buyers served (paid)': r.sold.paidOrders,
  'seats + GA places sold': `${soldUnits} of ${r.venue.capacity}`,
  'time to sell out (s, first SOLD_OUT answer)': r.stats.soldOutAt === undefined ? 'never' : round(r.stats.soldOutAt / 1000),
  'everything paid for at (s)': soldOut ? round((sortedPaid.at(-1) ?? 0) / 1000) : 'no (abandoned orders still held seats)',
  'last paid order at (s)': round((sortedPaid.at(-1) ?? 0) / 1000),
  'orders submitted': ordersTotal,
  'orders/s (mean while ordering)':
    lastOrder >= firstOrder && firstOrder >= 0 ? round(ordersTotal / (lastOrder - firstOrder + 1)) : 0,
  'orders/s (peak second)': peakOrders,
  'after the arrival spike (from the first second after the arrivals with no request waiting in the generator, to the sell-out)':
    afterSpike && slowestAfterSpike
      ? `${settledAt}-${round(settledUntilMs / 1000)} s: highest p99 ${slowestAfterSpike[1].p99} ms (${slowestAfterSpike[0]})`
      : 'never settled before the sell-out',
  'admitted (seen by buyers)': r.records.filter((b) => b.admitted).length,
  'admissions logged': r.sold.admissionsLogged,
  outcomes: JSON.stringify(outcomes),
  'hold refusals, card declines': JSON.stringify(r.stats.counters),
  'orders by status': JSON.stringify(r.sold.ordersByStatus),
  'window (s)': round(r.windowSeconds),
  'restarts to settle cut-off payments': r.settleRestarts,
  ...('queueMb' in r ? { "waiting room in Redis (MB, the event's queue keys after the run)": Number(r.queueMb) } : {}),
  'API process killed (SIGKILL)': r.killed ? `pid ${r.killed.pid} at ${r.killed.atSeconds} s` : 'none',
  'Redis flushed (FLUSHDB)': r.flushed ? `at ${r.flushed.atSeconds} s` : 'none',
  'seeding (s, before the window)': round(r.seedSeconds),
  'load generators (processes)': r.generator.count,
  'load generator CPU (s, same machine)': round(r.generatorCpuSeconds),
  ...(r.services.length > 0
    ? {
        'services CPU (s, all their processes on this machine)': r.services
          .map((f) => `${f.service} ${f.cpuSeconds} (${f.processes} process${f.processes === 1 ? '' : 'es'})`)
          .join(', '),
      }
    : {}),
  ...(r.machine
    ? {
        'machine CPU busy (%, window and drain)': `${r.machine.busyPercent} of ${r.machine.cpus} CPUs (system ${r.machine.systemPercent}, soft interrupts ${r.machine.softirqPercent}, stolen by the hypervisor ${r.machine.stealPercent})`,
      }
    : {}),
  'load generator event-loop delay (ms, p50 / p99 / max)': `${r.generator.loopDelayP50Ms} / ${r.generator.loopDelayP99Ms} / ${r.generator.loopDelayMaxMs}`,
  'requests queued in the generator for a connection (peak)': r.generator.peakQueued,
  'status probe on its own connection, once a second (ms, p50 / p99)': `${r.generator.probeP50Ms} / ${r.generator.probeP99Ms}`,
  'public queue status through a shared HTTP cache (as a CDN)': sharedCache
    ? `on: kept as long as its Cache-Control allows, misses sent on the cache's own connections; answers from it count as "${CACHED.trim()}"`
    : 'off: every status poll reaches the server',
  'queue settings': JSON.stringify(scenario.queue),
  "admission back-off (threshold on the API processes' answer times, ms)": args['admission-backoff-ms'] ?? 'off',
  'generator connections (checkout pool, waiting-room pool)': `${connections.checkout}, ${connections.waiting}`,
  'think time (s, at each of 3 checkout decisions)': `${scenario.thinkSeconds} (0.5-1.5 x)`,
  machine: `${os.cpus().length} CPUs, load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} at the end`,
};
const endpoints = r.stats.endpoints();
const line = verificationLine(r.verification);
console.log(
  Object.entries(summary)
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n'),
);
// Two views of each endpoint: as the buyers saw it (from wanting to send to the answer, so with any
// wait for a connection in the generator) and as the API processes answered it (their histograms).
console.log('  endpoint                 requests  errors   p50 ms   p99 ms   server: requests   p50 ms   p99 ms');
for (const name of [...new Set([...Object.keys(endpoints), ...Object.keys(r.serverLatency)])].sort()) {
  const e = endpoints[name];
  const own = r.serverLatency[name];
  const cell = (x: number | undefined, width: number) => String(x ?? '').padStart(width);
  console.log(
    `  ${name.padEnd(24)} ${cell(e?.count, 8)} ${cell(e?.errors, 7)} ${cell(e?.p50, 8)} ${cell(e?.p99, 8)}   ${cell(own?.count, 16)} ${cell(own?.p50Ms, 8)} ${cell(own?.p99Ms, 8)}`,
  );
}
if (afterSpike)
  console.log(
    `  after the arrival spike, p50 / p99 ms: ${Object.entries(afterSpike)
      .map(([name, e]) => `${name} ${e.p50} / ${e.p99}`)
      .join('; ')}`,
  );
for (const p of r.processes) console.log(`  process ${p.role} (${p.pid}): peak RSS ${p.peakRssMb} MB, CPU ${p.cpuSeconds} s`);
if (r.pgActivity) {
  const a = r.pgActivity;
  console.log(
    `  PostgreSQL during the window: ${a.meanBusy} connections busy on average (${a.samples} samples of pg_stat_activity); the busiest:`,
  );
  for (const t of a.top.slice(0, 8))
    console.log(`    ${String(t.share).padStart(5)} %  ${t.state}, ${t.wait}: ${t.statement.slice(0, 80)}`);
  const scanned = a.seqScans.slice(0, 3).map((t) => `${t.table} ${t.seqScans} scans / ${t.rowsReadBySeqScans} rows`);
  console.log(`  tables read by sequential scans: ${scanned.length > 0 ? scanned.join('; ') : 'none'}`);
}
console.log(`verification ${line}`);

const { patienceSeconds: _p, ...settings } = scenario;
await writeFile(
  `${file}.json`,
  JSON.stringify(
    {
      summary,
      settings,
      verification: r.verification,
      endpoints,
      afterSpike: afterSpikeReport,
      serverLatency: r.serverLatency,
      processes: r.processes,
      services: r.services,
      machine: r.machine,
      pgActivity: r.pgActivity,
      series,
      outcomes,
    },
    null,
    2,
  ),
);
await writeFile(
  `${file}.html`,
  renderReport({
    title: `${scenario.name} — ${summary.shape}`,
    summary,
    verification: { ...r.verification },
    endpoints,
    serverLatency: r.serverLatency,
    afterSpike: afterSpikeReport,
    processes: r.processes,
    pgActivity: r.pgActivity,
    series,
  }),
);
console.log(`written to ${file}.json and ${file}.html (server log: ${file}.server.log)`);
const failed = Object.values(r.verification).some((n) => n !== 0) || r.sold.paidOrders === 0;
process.exit(failed ? 1 : 0);
