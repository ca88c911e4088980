/**
 * The scale-out shape on one machine: N API processes (TICKETMAX_ROLES=api) and one worker process
 * (ticker, expiry, outbox) against PostgreSQL, Redis and RabbitMQ, behind a small round-robin HTTP
 * load balancer, so clients see one URL.
 *
 *   npm run start:scale -- --api 2 [--port 3000] [--host 127.0.0.1]
 *
 * Environment: DATABASE_URL, REDIS_URL, AMQP_URL (local defaults below), TICKETMAX_SECRET and
 * PAYMENT_WEBHOOK_SECRET (generated for this run when unset: sessions then end with it), and
 * anything else src/main.ts reads, passed through to every process. API processes listen on
 * port+1 … port+N and the worker's health port is port+N+1 (all chosen freely with --port 0).
 * On several machines, use any HTTP load balancer instead of this one (see the README).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: '2' },
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
  },
});
const apiCount = Number(values.api);
const port = Number(values.port);
const host = values.host;
if (!Number.isInteger(apiCount) || apiCount < 1 || !Number.isInteger(port) || port < 0) {
  console.error('usage: npm run start:scale -- --api <N ≥ 1> [--port <port>] [--host <address>]');
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

interface Member {
  name: string;
  child: ChildProcess;
  url: string;
}
const members: Member[] = [];
let stopping = false;

function launch(name: string, roles: string, memberPort: number): Promise<Member> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...env, TICKETMAX_ROLES: roles, PORT: String(memberPort), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        const match = /running at (http:\/\/[\d.:]+)/.exec(line);
        if (match) resolve({ name, child, url: match[1]! });
        else console.log(`[${name}] ${line}`);
      });
    }
    child.on('exit', (code) => {
      reject(new Error(`${name} exited with ${code} before it listened`));
      if (!stopping) {
        console.error(`start:scale: ${name} exited with ${code}; stopping everything`);
        void stop(1);
      }
    });
  });
}

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  balancer.close();
  balancer.closeAllConnections();
  await Promise.all(
    members.map(
      (m) =>
        new Promise((resolve) => {
          if (m.child.exitCode !== null) return resolve(undefined);
          m.child.once('exit', resolve);
          m.child.kill('SIGTERM');
        }),
    ),
  );
  process.exit(code);
}

// The balancer: round robin over the API processes, streaming both ways (SSE passes through as it
// is written), keep-alive to the upstreams. A process that refuses a connection is skipped for 2 s.
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
const upstreams: { url: URL; downUntil: number }[] = [];
let turn = 0;

function nextUpstream() {
  const now = Date.now();
  for (let i = 0; i < upstreams.length; i++) {
    const u = upstreams[turn++ % upstreams.length]!;
    if (u.downUntil <= now) return u;
  }
  return upstreams[turn++ % upstreams.length];
}

const balancer = http.createServer((req, res) => {
  const target = nextUpstream();
  if (!target) return void res.writeHead(503).end();
  const forwarded = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
  const upstream = http.request(
    {
      host: target.url.hostname,
      port: target.url.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, 'x-forwarded-for': forwarded },
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      if (String(answer.headers['content-type']).startsWith('text/event-stream')) res.flushHeaders();
      answer.pipe(res);
    },
  );
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNREFUSED') target.downUntil = Date.now() + 2000;
    if (!res.headersSent)
      res
        .writeHead(502, { 'content-type': 'application/json' })
        .end('{"error":{"code":"BAD_GATEWAY","message":"upstream unavailable","details":{}}}');
    else res.destroy();
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
});
balancer.keepAliveTimeout = 65_000;

process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

const at = (i: number) => (port === 0 ? 0 : port + i);
try {
  // The worker first: it applies the migrations once (the API processes then find them done).
  members.push(await launch('worker', 'ticker,expiry,outbox', at(apiCount + 1)));
  const apis = await Promise.all(Array.from({ length: apiCount }, (_, i) => launch(`api${i + 1}`, 'api', at(i + 1))));
  members.push(...apis);
  for (const api of apis) upstreams.push({ url: new URL(api.url), downUntil: 0 });
} catch (err) {
  console.error(`start:scale: ${String(err)}`);
  await stop(1);
}
balancer.listen(port, host, () => {
  const { port: bound } = balancer.address() as AddressInfo;
  console.log(
    `API processes: ${members
      .filter((m) => m.name !== 'worker')
      .map((m) => m.url)
      .join(', ')}; worker health: ${members[0]!.url}/healthz`,
  );
  console.log(`TicketMax (scale-out: ${apiCount} API processes + 1 worker) is running at http://${host}:${bound}`);
});
