/**
 * One run of the load test: seeds the accounts, starts the server, sends the buyers through the
 * measured window (with the faults of --kill-api-at and --flush-redis-at), lets the server drain and
 * stops it. The shapes (embedded, scale) say which server and storage; see shapes.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Db } from '../../src/platform/db.ts';
import { migrate } from '../../src/platform/migrate.ts';
import { percentile, stopProcess } from '../lib.ts';
import type { Venue } from './buyer.ts';
import type { Share, ShareResult } from './generator.ts';
import { watchProcesses } from './processes.ts';
import { startPgActivitySampler } from './pg-activity.ts';
import { arrivals, type Scenario } from './scenarios.ts';
import { between, scrape as scrapeServer, summarize } from './server-latency.ts';
import { type Account, createEvent, seedAccounts } from './setup.ts';
import { createStats, round, type StatsDump } from './stats.ts';

/** What a run is asked to do, from the command line (see bench/loadtest.ts). */
export interface RunOptions {
  scenario: Scenario;
  shape: 'embedded' | 'scale';
  /** --api: the scale shape's API processes. */
  api: string;
  /** --queue-api, --queue-nice: the scale shape's waiting-room tier (0: none) and its CPU priority. */
  queueApi: string;
  queueNice: string;
  /** --generators: load generators, each in a process of its own. */
  generators: string;
  connections: { checkout: number; waiting: number };
  sharedCache: boolean;
  /** The servers' TICKETMAX_SECRET: the seeded session tokens are signed with it. */
  secret: string;
  /** The servers' environment; each shape adds where its storage is. */
  serverEnv: Record<string, string>;
  /** The results' path without its extension: the server's log is written beside them. */
  file: string;
  killApiAt: number | undefined;
  flushRedisAt: number | undefined;
  /** --warmup-seconds: the warm-up sale before the window (0: none; see warmUp). */
  warmupSeconds: number;
}

/** Buyers a second of the warm-up sale brings, on accounts of their own. */
export const WARMUP_BUYERS_PER_SECOND = 1000;

/** What the warm-up sale was, for the summary and its verification. */
export interface WarmUp {
  seconds: number;
  buyers: number;
  venue: Venue & { capacity: number };
  records: ShareResult['records'];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The status monitor's thread: one status read a second; what it saw and how long it took. */
const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  for (;;) {
    const asked = performance.now();
    try {
      const res = await fetch(workerData.status);
      const body = await res.json();
      // As wall-clock time: each thread has its own performance.timeOrigin.
      const at = performance.timeOrigin + asked;
      const ms = performance.now() - asked;
      // The organizer's view of the queue: buyers in checkout, and what admission back-off sees and
      // does. Best effort on its own: a failed read leaves the status reading standing.
      const admin = await fetch(workerData.admin, { headers: { authorization: workerData.authorization } })
        .then((r) => r.json())
        .catch(() => ({}));
      parentPort.postMessage({ at, ms, waiting: body.waiting, serving: body.serving, active: admin.active,
        maxActive: admin.maxActive, backoff: admin.backoff });
    } catch {
      // best effort: the buyers' own requests carry the errors
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
})();
`;

/** What the status monitor reports once a second (see PROBE). */
interface ProbeMessage {
  at: number;
  ms: number;
  waiting: number;
  serving: number;
  active?: number;
  maxActive?: number;
  backoff?: { loadMs: number | null; factor: number | null } | null;
}

/**
 * A generator in a child process of its own (see bench/loadtest/generator.ts), loaded and waiting:
 * even the only one, so that this process's samplers (every process's /proc files once a second,
 * read synchronously; PostgreSQL's activity; the metrics scrapes) never hold up the buyers' event
 * loop. Its young generation is larger than Node's default (--max-semi-space-size, MB): the buyers'
 * requests allocate fast and die young; with the default, garbage collection took about a seventh
 * of the generator's busy time in a CPU profile of spike-10x, CPU taken from the server it shares
 * the machine with (bench/README.md, On-sale spike, 2026-12-06 night).
 */
async function forkGenerator(): Promise<{
  /** Runs a share; the process exits after it unless `exitAfter` is false (more shares to come). */
  run(share: Share, exitAfter?: boolean): Promise<{ result: ShareResult; stats: StatsDump }>;
}> {
  const child = fork(fileURLToPath(new URL('./generator.ts', import.meta.url)), [], {
    execArgv: ['--max-semi-space-size=64', '--import', 'tsx'],
    serialization: 'advanced',
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`a load generator exited with ${code} before it was ready`)));
  });
  return {
    run: (share, exitAfter = true) =>
      new Promise((resolve, reject) => {
        child.removeAllListeners('exit');
        child.once('message', (m) => resolve(m as { result: ShareResult; stats: StatsDump }));
        child.once('exit', (code) => reject(new Error(`a load generator exited with ${code}`)));
        child.send({ share, exitAfter });
      }),
  };
}

type Generator = Awaited<ReturnType<typeof forkGenerator>>;

/**
 * Runs buyers through the generators: each gets every n-th buyer (the arrival offsets index the
 * buyers). Their measurements go to `stats`, or nowhere when it is undefined (the warm-up).
 */
async function runBuyers(
  children: Generator[],
  share: Omit<Share, 'buyers' | 'connections' | 'waitingConnections'>,
  buyers: Account[],
  offsets: number[],
  connections: { checkout: number; waiting: number },
  stats: ReturnType<typeof createStats> | undefined,
): Promise<ShareResult[]> {
  const count = children.length;
  const shareOf = (g: number): Share => ({
    ...share,
    connections: Math.max(1, Math.round(connections.checkout / count)),
    waitingConnections: Math.max(1, Math.round(connections.waiting / count)),
    buyers: offsets.flatMap((offsetMs, index) => (index % count === g ? [{ ...buyers[index]!, index, offsetMs }] : [])),
  });
  return Promise.all(
    children.map(async (child, g) => {
      const { result, stats: measured } = await child.run(shareOf(g), stats !== undefined);
      stats?.absorb(measured);
      return result;
    }),
  );
}

/**
 * The warm-up sale, before the window: `seconds` × WARMUP_BUYERS_PER_SECOND buyers of their own
 * arrive steadily on an event of its own (the scenario's venue again, its queue admitting at once)
 * and go through the whole checkout. A server meets an on-sale after hours of serving the event's
 * pages and other sales, its code compiled by V8's optimizing tiers and its connections open; one
 * started a moment before the window meets it cold, and on two cores the first seconds of a spike
 * then run several times slower (bench/README.md, On-sale spike). Its requests are not counted (the
 * window's counters start after it); its event is verified like the window's.
 */
async function warmUp(
  url: string,
  queueUrl: string | undefined,
  organizer: Account,
  buyers: Account[],
  scenario: Scenario,
  seconds: number,
  children: Generator[],
  connections: { checkout: number; waiting: number },
  sharedCache: boolean,
): Promise<WarmUp> {
  const warm: Scenario = {
    ...scenario,
    name: `${scenario.name} warm-up`,
    saleOpensAfter: 0,
    thinkSeconds: 0.2,
    queue: { ...scenario.queue, admitPerMinute: 60 * WARMUP_BUYERS_PER_SECOND * 2, maxActive: buyers.length },
  };
  const venue = await createEvent(url, organizer, warm, -1000);
  const t0 = performance.now();
  venue.deadline = t0 + (seconds + 20) * 1000;
  const shares = await runBuyers(
    children,
    {
      url,
      queueUrl,
      sharedCache,
      scenario: warm,
      venue,
      t0EpochMs: performance.timeOrigin + t0,
      deadlineEpochMs: performance.timeOrigin + venue.deadline,
    },
    buyers,
    arrivals('steady', buyers.length, seconds),
    connections,
    undefined,
  );
  return { seconds, buyers: buyers.length, venue, records: shares.flatMap((r) => r.records) };
}

/** Seeds, starts the server, runs the buyers, stops the server; returns what verification needs. */
export async function run(
  o: RunOptions,
  prepare: () => Promise<Db>,
  /** `queueUrl`: where the waiting room's paths go, when a tier of its own serves them. */
  start: () => Promise<{ url: string; child: ChildProcess; queueUrl?: string }>,
  rootRole: string,
  /** The PostgreSQL database's URL, to sample its activity during the window (PGlite has none to sample). */
  databaseUrl?: string,
  /** The fault of --flush-redis-at: empties the servers' Redis database. */
  flushRedis?: () => Promise<void>,
) {
  const { scenario, shape, connections, sharedCache, killApiAt, flushRedisAt } = o;
  const seedStarted = performance.now();
  const db = await prepare();
  await migrate(db);
  const warmupBuyers = Math.round(o.warmupSeconds * WARMUP_BUYERS_PER_SECOND);
  const accounts = await seedAccounts(db, o.secret, scenario.buyers + warmupBuyers);
  await db.close();
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const server = await start();
  // The server's own log (warnings and errors) goes beside the results, for what went wrong under load.
  const serverLog = createWriteStream(`${o.file}.server.log`);
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
    // The generators: forked and loaded before the window opens, each given every n-th buyer.
    const generatorCount = Math.max(1, Number(o.generators));
    const children = await Promise.all(Array.from({ length: generatorCount }, forkGenerator));
    const warmedUp =
      warmupBuyers === 0
        ? undefined
        : await warmUp(
            server.url,
            server.queueUrl,
            accounts.organizer,
            accounts.buyers.slice(scenario.buyers),
            scenario,
            o.warmupSeconds,
            children,
            connections,
            sharedCache,
          );
    // The API processes' own request histograms before the window, to count only the window's requests.
    const apiProcesses = shape === 'scale' ? Number(o.api) : 1;
    const scrapeAll = async () => {
      const scraped = await scrapeServer(server.url, apiProcesses);
      if (server.queueUrl)
        for (const [instance, h] of await scrapeServer(server.queueUrl, Number(o.queueApi))) scraped.set(instance, h);
      return scraped;
    };
    const metricsBefore = await scrapeAll();
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
    const monitor = new Worker(PROBE, {
      eval: true,
      workerData: {
        status: `${server.queueUrl ?? server.url}/api/events/${venue.eventId}/queue/status`,
        admin: `${server.url}/api/admin/events/${venue.eventId}/queue`,
        authorization: `Bearer ${accounts.organizer.token}`,
      },
    });
    monitor.on('message', (m: ProbeMessage) => {
      probes.push(m.ms);
      const factor = m.backoff?.factor ?? undefined;
      Object.assign(stats.at(m.at - performance.timeOrigin), {
        waiting: m.waiting,
        serving: m.serving,
        probeMs: round(m.ms),
        active: m.active,
        activeLimit: m.maxActive === undefined ? undefined : Math.floor(m.maxActive * (factor ?? 1)),
        backoffLoadMs: m.backoff?.loadMs ?? undefined,
        backoffFactor: factor,
      });
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
    const shares = await runBuyers(
      children,
      {
        url: server.url,
        queueUrl: server.queueUrl,
        sharedCache,
        scenario,
        venue,
        t0EpochMs,
        deadlineEpochMs: performance.timeOrigin + venue.deadline,
      },
      accounts.buyers,
      arrivals(scenario.profile, scenario.buyers, scenario.arrivalSeconds),
      connections,
      stats,
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
    const answered = between(metricsBefore, await scrapeAll());
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
      warmedUp,
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
export async function settle(open: () => Promise<Db>, start: () => Promise<{ child: ChildProcess }>): Promise<number> {
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
