// Queue benchmark: `npm run bench:queue`. Drives the real HTTP server (a child process) with
// autocannon on this machine: joins/s and status polls/s with p50/p99 latency, on the memory
// store and on Redis (REDIS_URL, default redis://127.0.0.1:6379), next to a bare Fastify route
// measured in the same run. Session tokens are minted before the measured window (sign-up is
// scrypt: deliberately slow). Results: bench/README.md.
//   BENCH_SECONDS (default 5), BENCH_RUNS (default 3), BENCH_CONNECTIONS (default 100), BENCH_STORES (memory,redis)
//   BENCH_TOOL: autocannon (default; from npm, runs in this process) or wrk (Debian's wrk, written in C:
//   it spends less of the machine's two cores on generating load, leaving more to the server).
//   BENCH_PACED_RATE (wrk only; default 12500, 0 = off): joins are also measured paced instead of flat
//   out: each connection pauses connections * 1000 / rate ms between an answer and its next join (8 ms
//   by default), so the rate is at most this and a little less (the answers' own time adds to the
//   pauses; about the targets' 10,000 joins/s on memory and 8,000 on Redis): the latency at the
//   target rate. Flat out, a saturated server's p99 is mostly the wait of the connections served last,
//   whatever the route does (see bench/README.md).
// Status and join rows also show the server's own p50/p99 (its request-duration histogram from
// GET /metrics, interpolated within its buckets): what the answers cost inside the server, without
// the time they waited for the load generator, which shares the two cores, to read them.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { createSigner } from '../src/platform/crypto.ts';
import { queueKeys } from '../src/modules/waiting-room/index.ts';
import { between, quantileMs, scrape } from './loadtest/server-latency.ts';
import { createRedis } from '../src/platform/redis.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const STORES = (process.env.BENCH_STORES ?? 'memory,redis').split(',');
const SECRET = randomBytes(32).toString('hex');
const TOOL = process.env.BENCH_TOOL ?? 'autocannon';
const PACED_RATE = TOOL === 'wrk' ? Number(process.env.BENCH_PACED_RATE ?? 12_500) : 0;

interface Server {
  child: ChildProcess;
  address: string;
  bareAddress: string;
  organizerToken: string;
  venueId: string;
}

async function startServer(store: string): Promise<Server> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    TICKETMAX_SECRET: SECRET,
    PAYMENT_WEBHOOK_SECRET: 'bench-webhook-secret',
    TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  if (store === 'redis') env.REDIS_URL = REDIS_URL;
  else delete env.REDIS_URL;
  // BENCH_PROFILE=<dir>: the server writes a V8 CPU profile there on exit.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'bench/queue-server.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  for (;;) {
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (line) return { child, ...(JSON.parse(line) as Omit<Server, 'child'>) };
    if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function createEvent(server: Server): Promise<string> {
  const now = Date.now();
  const res = await fetch(`${server.address}/api/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.organizerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      venueId: server.venueId,
      name: 'Bench Night',
      startsAt: new Date(now + 86_400_000).toISOString(),
      onSaleAt: new Date(now - 60_000).toISOString(),
      prices: [{ section: 'Floor', amount: 1000, currency: 'USD' }],
    }),
  });
  if (res.status !== 201) throw new Error(`event: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { event: { id: string } }).event.id;
}

/** Buyer session tokens as sign-in issues them, minted up front. */
function buyerTokens(count: number): string[] {
  const signer = createSigner(SECRET, 'session');
  const e = Math.floor(Date.now() / 1000) + 86_400;
  return Array.from({ length: count }, (_, i) => {
    const u = `usr_bench${i.toString(36)}${randomBytes(4).toString('hex')}`;
    return `Bearer ${signer.sign({ s: `ses_${u}`, u, r: 'buyer', e })}`;
  });
}

interface Measure {
  perSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** The server's own answer times (its request-duration histogram), without the generator's share. */
  server?: { p50: number; p99: number };
}

/**
 * Measures the app's `endpoint` ("POST /queue") with `run`, adding the server's own p50/p99 for it:
 * its request-duration histogram scraped before and after. The load generator shares the two cores,
 * so its figures include the time an answer waited for it to read it; the server's do not.
 */
async function withServerSide(server: Server, endpoint: string, run: () => Promise<Measure>): Promise<Measure> {
  const before = await scrape(server.address, 1);
  const measured = await run();
  const buckets = between(before, await scrape(server.address, 1)).get(endpoint);
  if (!buckets) return measured;
  const ms = (q: number) => Math.round(quantileMs(buckets, q) * 10) / 10;
  return { ...measured, server: { p50: ms(0.5), p99: ms(0.99) } };
}

async function measure(options: autocannon.Options): Promise<Measure> {
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options });
  return {
    perSecond: Math.round(result.requests.total / SECONDS),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors + result.timeouts,
  };
}

/** wrk's latency figure ("850.00us", "1.20ms", "1.01s") in ms. */
function wrkMs(text: string, label: string): number {
  const match = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)\\b`).exec(text);
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

async function measureWrk(url: string, tokens?: string[], paced = false): Promise<Measure> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency'];
  const env = { ...process.env };
  if (paced) env.WRK_DELAY_MS = String(pauseMs());
  if (tokens) {
    const file = path.join(tmpdir(), `tm-bench-tokens-${process.pid}.txt`);
    await writeFile(file, tokens.join('\n'));
    env.WRK_TOKENS = file;
    args.push('-s', 'bench/join.lua');
  }
  const { stdout } = await promisify(execFile)('wrk', [...args, url], { env });
  const total = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = socketErrors ? socketErrors.slice(1).reduce((s, v) => s + Number(v), 0) : 0;
  return {
    perSecond: Math.round(total / SECONDS),
    p50: wrkMs(stdout, '50%'),
    p99: wrkMs(stdout, '99%'),
    non2xx: non2xx + errors,
  };
}

/** The pause of a paced run's connections between an answer and their next join. */
const pauseMs = () => Math.max(1, Math.round((CONNECTIONS * 1000) / PACED_RATE));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function summarize(runs: Measure[]) {
  return {
    perSecond: median(runs.map((r) => r.perSecond)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    serverP50: runs.every((r) => r.server) ? median(runs.map((r) => r.server!.p50)) : undefined,
    serverP99: runs.every((r) => r.server) ? median(runs.map((r) => r.server!.p99)) : undefined,
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    runs: runs.map((r) => r.perSecond),
  };
}

const report: Record<string, Record<string, ReturnType<typeof summarize>>> = {};
// The machine may be shared: the load average says how much else was running.
const loadBefore = loadavg()[0]!;
const events: string[] = [];

for (const store of STORES) {
  const server = await startServer(store);
  try {
    const results: Record<string, Measure[]> = { bare: [], status: [], join: [], ...(PACED_RATE > 0 ? { paced: [] } : {}) };
    const statusEvent = await createEvent(server);
    events.push(statusEvent);
    // Warm-up: JIT, connection pools, the settings and status caches.
    await measure({ url: `${server.bareAddress}/bare`, duration: 2 });
    await measure({ url: `${server.address}/api/events/${statusEvent}/queue/status`, duration: 2 });
    for (let run = 0; run < RUNS; run++) {
      const bareUrl = `${server.bareAddress}/bare`;
      const statusUrl = `${server.address}/api/events/${statusEvent}/queue/status`;
      results.bare!.push(TOOL === 'wrk' ? await measureWrk(bareUrl) : await measure({ url: bareUrl }));
      results.status!.push(
        await withServerSide(server, 'GET /queue/status', () =>
          TOOL === 'wrk' ? measureWrk(statusUrl) : measure({ url: statusUrl }),
        ),
      );
      const joinEvent = await createEvent(server);
      events.push(joinEvent);
      const tokens = buyerTokens(30_000 * SECONDS);
      let next = 0;
      if (TOOL === 'wrk') {
        results.join!.push(
          await withServerSide(server, 'POST /queue', () =>
            measureWrk(`${server.address}/api/events/${joinEvent}/queue`, tokens),
          ),
        );
        if (PACED_RATE > 0) {
          const pacedEvent = await createEvent(server);
          events.push(pacedEvent);
          const pacedTokens = buyerTokens(2 * PACED_RATE * SECONDS);
          results.paced!.push(
            await withServerSide(server, 'POST /queue', () =>
              measureWrk(`${server.address}/api/events/${pacedEvent}/queue`, pacedTokens, true),
            ),
          );
        }
        console.error(
          `${store} run ${run + 1}: bare ${results.bare!.at(-1)!.perSecond}/s, status ${results.status!.at(-1)!.perSecond}/s, join ${results.join!.at(-1)!.perSecond}/s` +
            (PACED_RATE > 0
              ? `, join with pauses ${results.paced!.at(-1)!.perSecond}/s p99 ${results.paced!.at(-1)!.p99} ms`
              : ''),
        );
        continue;
      }
      results.join!.push(
        await withServerSide(server, 'POST /queue', () =>
          measure({
            url: `${server.address}/api/events/${joinEvent}/queue`,
            requests: [
              {
                method: 'POST',
                // Every join is a different buyer: one new place each.
                setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: tokens[next++ % tokens.length]! } }),
              },
            ],
          }),
        ),
      );
      console.error(
        `${store} run ${run + 1}: bare ${results.bare!.at(-1)!.perSecond}/s, status ${results.status!.at(-1)!.perSecond}/s, join ${results.join!.at(-1)!.perSecond}/s`,
      );
    }
    report[store] = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summarize(v)]));
  } finally {
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
  }
}

if (STORES.includes('redis')) {
  const redis = await createRedis(REDIS_URL);
  for (const e of events) await redis.client.del(Object.values(queueKeys(e)));
  await redis.client.sRem('tm:queues', events);
  await redis.quit();
}

console.log(`\nqueue benchmark (${TOOL}): ${CONNECTIONS} connections, ${SECONDS} s per measurement, median of ${RUNS} runs`);
console.log(`${cpus().length} cores; 1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`);
console.log('store   route                 req/s   p50 ms  p99 ms  server p50 / p99 ms  non-2xx  runs (req/s)');
for (const [store, routes] of Object.entries(report)) {
  for (const [route, s] of Object.entries(routes)) {
    const name =
      { bare: 'bare Fastify GET', status: 'GET queue/status', join: 'POST queue (join)', paced: `join, ${pauseMs()} ms pauses` }[
        route
      ] ?? route;
    console.log(
      `${store.padEnd(7)} ${name.padEnd(20)} ${String(s.perSecond).padStart(7)} ${String(s.p50).padStart(8)} ${String(s.p99).padStart(7)} ${(s.serverP50 === undefined ? '–' : `${s.serverP50} / ${s.serverP99}`).padStart(20)} ${String(s.non2xx).padStart(8)}  ${s.runs.join(', ')}`,
    );
  }
  const bare = routes.bare!.perSecond;
  console.log(
    `${store.padEnd(7)} ratios to bare: status ${(routes.status!.perSecond / bare).toFixed(2)}, join ${(routes.join!.perSecond / bare).toFixed(2)}`,
  );
}
