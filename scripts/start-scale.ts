/**
 * The scale-out shape on one machine: N API processes (TICKETMAX_ROLES=api) sharing one port,
 * and one worker process (ticker, expiry, outbox), against PostgreSQL, Redis and RabbitMQ; with
 * --queue-api M, a waiting-room tier of M more API processes on a port of their own.
 *
 *   npm run start:scale -- --api 2 [--port 3000] [--host 127.0.0.1]
 *                          [--queue-api 1 [--queue-port 3002] [--queue-nice 10]]
 *
 * The waiting-room tier serves the same API; a load balancer in front sends it the waiting room's
 * paths (`/api/events/:id/queue…`) and everything else to the others (see the README). Its
 * processes run at a lower CPU priority (nice 10 by default): when the machine is short of CPU, as
 * in the first seconds of an on-sale when tens of thousands join at once, the buyers already in
 * checkout are served first and the joins wait, instead of every request waiting behind the joins
 * in one event loop. The waiting buyers lose nothing by it: their place is taken in arrival order.
 *
 * The API processes are node:cluster workers of this one: they all listen on --port, and this
 * process hands each new connection to the next of them in turn (round robin, no proxy hop; a
 * keep-alive connection stays with the process that accepted it). A process that dies is replaced;
 * one that dies before it listened, or a sixth replacement within a minute, stops everything. The
 * worker is tied to this process by an IPC channel: if this launcher dies, however, it stops too.
 *
 * Environment: DATABASE_URL, REDIS_URL, AMQP_URL (local defaults below), TICKETMAX_SECRET and
 * PAYMENT_WEBHOOK_SECRET (generated for this run when unset: sessions then end with it), and
 * anything else src/main.ts reads, passed through to every process. The worker's health port
 * is port+1 (chosen freely with --port 0). On several machines, run the API processes behind
 * any HTTP load balancer instead (see the README).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: '2' },
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
    'queue-api': { type: 'string', default: '0' },
    'queue-port': { type: 'string' },
    'queue-nice': { type: 'string', default: '10' },
  },
});
const apiCount = Number(values.api);
const port = Number(values.port);
const host = values.host;
const queueCount = Number(values['queue-api']);
const queuePortAsked = values['queue-port'] === undefined ? (port === 0 ? 0 : port + 2) : Number(values['queue-port']);
const queueNice = Number(values['queue-nice']);
const isPort = (n: number) => Number.isInteger(n) && n >= 0 && n < 65536;
if (
  !Number.isInteger(apiCount) ||
  apiCount < 1 ||
  !isPort(port) ||
  !Number.isInteger(queueCount) ||
  queueCount < 0 ||
  !isPort(queuePortAsked) ||
  (queuePortAsked !== 0 && (queuePortAsked === port || queuePortAsked === port + 1)) ||
  !Number.isInteger(queueNice) ||
  queueNice < 0 ||
  queueNice > 19
) {
  console.error(
    'usage: npm run start:scale -- --api <N ≥ 1> [--port <port>] [--host <address>]\n' +
      '         [--queue-api <M ≥ 0> [--queue-port <port, not --port or the one after>] [--queue-nice <0–19>]]',
  );
  process.exit(2);
}

const env: Record<string, string> = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/ticketmax',
  REDIS_URL: 'redis://127.0.0.1:6379',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  ...(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined)) as Record<string, string>),
};
for (const name of ['TICKETMAX_SECRET', 'PAYMENT_WEBHOOK_SECRET']) {
  if (!env[name]) {
    env[name] = randomBytes(32).toString('hex');
    console.warn(`start:scale: ${name} is not set; using a random one for this run`);
  }
}

/** More replacements than this within a minute is a crash loop: everything stops. */
const MAX_RESTARTS_A_MINUTE = 5;
const restarts: number[] = [];
let stopping = false;

/**
 * Whether a member that died may be replaced: not while stopping, not if it died before it
 * listened (a broken start would only repeat), not in a crash loop.
 */
function mayReplace(name: string, listened: boolean, how: string): boolean {
  if (stopping) return false;
  const now = Date.now();
  while (restarts.length > 0 && restarts[0]! < now - 60_000) restarts.shift();
  if (!listened || restarts.length >= MAX_RESTARTS_A_MINUTE) {
    console.error(
      `start:scale: ${name} exited with ${how}${listened ? ' (too often)' : ' before it listened'}; stopping everything`,
    );
    void stop(1);
    return false;
  }
  restarts.push(now);
  console.error(`start:scale: ${name} exited with ${how}; starting another`);
  return true;
}

/** Prints a member's output with its name, and resolves with the URL it says it runs at. */
function follow(name: string, streams: (Readable | null)[]): Promise<string> {
  return new Promise((resolve) => {
    for (const stream of streams) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        const match = /running at (http:\/\/[\d.:]+)/.exec(line);
        if (match) resolve(match[1]!);
        else console.log(`[${name}] ${line}`);
      });
    }
  });
}

/** The worker process (ticker, expiry, outbox): its own port, for health and metrics only. */
function launchWorker(): Promise<{ child: ChildProcess; url: string }> {
  let listened = false;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...env, TICKETMAX_ROLES: 'ticker,expiry,outbox', PORT: String(port === 0 ? 0 : port + 1), HOST: '127.0.0.1' },
    // The IPC channel closes when this launcher dies, however it dies: the worker then stops too.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    follow('worker', [child.stdout, child.stderr]).then((url) => {
      listened = true;
      resolve({ child, url });
    }, reject);
    child.on('exit', (code, signal) => {
      reject(new Error(`the worker exited with ${code ?? signal} before it listened`));
      if (mayReplace('the worker', listened, String(code ?? signal))) void launchWorker().then((w) => (worker = w.child));
    });
  });
}

/** The API processes' tiers: the main one, and the waiting room's (--queue-api). */
interface Tier {
  name: 'api' | 'waiting-room';
  port: number;
  /** The CPU priority its processes run at (nice: 0 as the launcher, higher yields). */
  nice: number;
}

/**
 * A port free at the moment, for the waiting-room tier when --port is 0: cluster workers that all
 * listen on port 0 are handed one and the same port, so the second tier needs a number of its own.
 */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port: free } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return free;
}

/** One API process: a cluster worker listening on its tier's shared port. */
function launchApi(tier: Tier): Promise<{ api: Worker; url: string }> {
  const api = cluster.fork({
    ...env,
    TICKETMAX_ROLES: 'api',
    PORT: String(tier.port),
    HOST: host,
    ...(tier.name === 'api' ? {} : { TICKETMAX_TIER: tier.name }),
  });
  // Only lowering the priority: a process may always do that to its children.
  if (tier.nice !== 0 && api.process.pid !== undefined) setPriority(api.process.pid, tier.nice);
  const name = `${tier.name}:${api.process.pid}`;
  let listened = false;
  return new Promise((resolve, reject) => {
    follow(name, [api.process.stdout ?? null, api.process.stderr ?? null]).then((url) => {
      listened = true;
      resolve({ api, url });
    }, reject);
    api.on('exit', (code, signal) => {
      reject(new Error(`${name} exited with ${code ?? signal} before it listened`));
      if (mayReplace(name, listened, String(code ?? signal))) {
        void launchApi(tier).then(({ api: next }) => console.log(`start:scale: ${tier.name}:${next.process.pid} took its place`));
      }
    });
  });
}

let worker: ChildProcess | undefined;

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  const exited = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  await Promise.all([
    ...Object.values(cluster.workers ?? {}).map((api) => (api ? exited(api.process) : undefined)),
    ...(worker ? [exited(worker)] : []),
  ]);
  process.exit(code);
}

process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

cluster.setupPrimary({ exec: 'src/main.ts', execArgv: ['--import', 'tsx'], silent: true });
// Round robin: this process accepts and hands each connection to the next API process.
cluster.schedulingPolicy = cluster.SCHED_RR;
try {
  // The worker first: it applies the migrations once (the API processes then find them done).
  const w = await launchWorker();
  worker = w.child;
  const main: Tier = { name: 'api', port, nice: 0 };
  const apis = await Promise.all(Array.from({ length: apiCount }, () => launchApi(main)));
  const url = apis[0]!.url;
  console.log(
    `API processes: ${apis.map((a) => a.api.process.pid).join(', ')} sharing ${url}; worker ${w.child.pid} health: ${w.url}/healthz`,
  );
  if (queueCount > 0) {
    const queue: Tier = { name: 'waiting-room', port: queuePortAsked || (await freePort()), nice: queueNice };
    const queueApis = await Promise.all(Array.from({ length: queueCount }, () => launchApi(queue)));
    console.log(
      `Waiting-room API processes (nice ${queueNice}): ${queueApis.map((a) => a.api.process.pid).join(', ')}; ` +
        `the waiting room at ${queueApis[0]!.url}`,
    );
  }
  const tiers = queueCount > 0 ? `${apiCount} + ${queueCount} waiting-room API processes` : `${apiCount} API processes`;
  console.log(`TicketMax (scale-out: ${tiers} + 1 worker) is running at ${url}`);
} catch (err) {
  console.error(`start:scale: ${String(err)}`);
  await stop(1);
}
