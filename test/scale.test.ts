// start:scale end to end: N API processes sharing one port (round robin) and a worker, on
// PostgreSQL, Redis and RabbitMQ. Skipped (CI fails) when one of them is unreachable.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { getPriority } from 'node:os';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { rabbitReachable } from './broker-proxy.ts';
import { CI, dbShapes, freshDb } from './helpers.ts';
import { redisTargets } from './redis-helpers.ts';
import { exitOf, listenBacklog } from './server.ts';
import { removeBrokerTopology } from '../src/workers/queues.ts';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const ready = (await dbShapes()).includes('postgres') && (await redisTargets()).length > 0 && (await rabbitReachable());
if (!ready && CI) throw new Error('CI=true but PostgreSQL, Redis or RabbitMQ is unreachable');

/** One request on a connection of its own (round robin hands out connections, not requests). */
function fresh(url: string, method = 'GET', body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${url}: no answer in 15 s`)));
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** Per API process (by the instance of ticketmax_process_info): how many sign-ups it served. */
async function signupsByProcess(url: string, processes: number) {
  const seen = new Map<string, number>();
  for (let i = 0; i < 20 && seen.size < processes; i++) {
    const text = (await fresh(`${url}/metrics`)).text;
    const instance = /ticketmax_process_info\{instance="([^"]+)"\} 1/.exec(text)?.[1];
    const line = text
      .split('\n')
      .find((l) => l.startsWith('http_request_duration_seconds_count') && l.includes('route="/api/auth/signup"'));
    if (instance) seen.set(instance, line ? Number(line.split(' ').at(-1)) : 0);
  }
  return seen;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Starts `npm run start:scale` with `api` API processes on a fresh database; `started` resolves
 * with its URL once it says it is running, `output` is everything it printed so far.
 */
function launch(databaseUrl: string, api: number, extra: string[] = []) {
  const amqpPrefix = `test-${randomBytes(5).toString('hex')}`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/start-scale.ts', '--api', String(api), '--port', '0', ...extra],
    {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        // A database of its own: this run's ticker must not meet other test files' queues.
        REDIS_URL: process.env.TEST_SCALE_REDIS_URL ?? 'redis://127.0.0.1:6379/7',
        AMQP_URL,
        TICKETMAX_AMQP_PREFIX: amqpPrefix,
        TICKETMAX_SECRET: 's'.repeat(40),
        PAYMENT_WEBHOOK_SECRET: 'w'.repeat(40),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const run = {
    child,
    output: '',
    started: undefined as unknown as Promise<string>,
    /** Kills what is left of the run and deletes its queues from the broker (quorum queues outlive their processes). */
    async end() {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
      await removeBrokerTopology(AMQP_URL, amqpPrefix);
    },
  };
  run.started = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      run.output += chunk.toString();
      const match = /running at (http:\/\/[\d.:]+)/.exec(run.output);
      if (match) resolve(match[1]!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${run.output}`)));
  });
  return run;
}

describe('npm run start:scale', { skip: !ready && 'needs PostgreSQL, Redis and RabbitMQ' }, () => {
  it('serves through one URL, round robin over the API processes, replaces a killed one, and stops them all on SIGTERM', async () => {
    const { url: databaseUrl, drop } = await freshDb('postgres');
    const run = launch(databaseUrl!, 2);
    const { child } = run;
    try {
      const url = await run.started;
      const apis = /API processes: ([\d, ]+) sharing (http:\/\/[\d.:]+); worker \d+ health: (http:\/\/[\d.:]+)/.exec(run.output);
      assert.ok(apis, run.output);
      const pids = apis[1]!.split(', ').map(Number);
      assert.equal(pids.length, 2);
      assert.equal(apis[2], url, 'the API processes share the one URL');
      const worker = apis[3]!.replace(/\/healthz$/, '');
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      // The cluster's primary listens for the API processes with the backlog they ask for (src/main.ts).
      const { backlog, cap } = await listenBacklog(url);
      assert.equal(backlog, Math.min(4096, cap));
      for (let i = 0; i < 2; i++) {
        const res = await fresh(`${url}/api/auth/signup`, 'POST', {
          email: `scale-${i}-${randomBytes(3).toString('hex')}@example.test`,
          password: 'long-enough-1',
          name: 'Scale',
        });
        assert.equal(res.status, 201, res.text);
      }
      const served = await signupsByProcess(url, 2);
      assert.equal(served.size, 2, 'two API processes answer on the one port');
      assert.deepEqual([...served.values()], [1, 1], 'one sign-up on each API process');
      assert.equal((await fetch(`${worker}/healthz`)).status, 200);
      assert.equal((await fetch(`${worker}/api/events`)).status, 404);
      const missing = await fetch(`${url}/api/nothing-here`);
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');

      // An API process killed outright is replaced, and the URL keeps serving meanwhile.
      process.kill(pids[0]!, 'SIGKILL');
      const waitFor = async (pattern: RegExp) => {
        const deadline = Date.now() + 60_000;
        while (!pattern.test(run.output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      };
      // Once the launcher has seen the death it hands new connections to the living process only.
      await waitFor(new RegExp(`api:${pids[0]} exited`));
      assert.equal((await fresh(`${url}/readyz`)).status, 200);
      await waitFor(/took its place/);
      assert.match(run.output, /api:(\d+) took its place/);
      const replacement = Number(/api:(\d+) took its place/.exec(run.output)![1]);
      assert.ok(alive(replacement));
      assert.equal((await signupsByProcess(url, 2)).size, 2, 'two API processes again');

      const exited = exitOf(child);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      for (const pid of [pids[1]!, replacement]) assert.ok(!alive(pid), `API process ${pid} stopped too`);
    } finally {
      await run.end();
      await drop();
    }
  });

  it('runs a waiting-room tier on a port of its own at a lower CPU priority, and replaces its processes too', async () => {
    const { url: databaseUrl, drop } = await freshDb('postgres');
    const run = launch(databaseUrl!, 1, ['--queue-api', '1', '--queue-nice', '7']);
    try {
      const url = await run.started;
      const m = /Waiting-room API processes \(nice 7\): (\d+); the waiting room at (http:\/\/[\d.:]+)/.exec(run.output);
      assert.ok(m, run.output);
      const [pid, queueUrl] = [Number(m[1]), m[2]!];
      assert.notEqual(queueUrl, url, 'a port of its own');
      assert.equal(getPriority(pid), 7);
      const main = Number(/API processes: (\d+) sharing/.exec(run.output)![1]);
      assert.equal(getPriority(main), getPriority(), 'the main API processes keep the launcher’s priority');
      // The same API: a buyer's waiting-room calls answer there as on the main URL.
      assert.equal((await fresh(`${queueUrl}/readyz`)).status, 200);
      const missing = await fresh(`${queueUrl}/api/events/evt_nope/queue/status`);
      assert.equal(missing.status, 404, missing.text);
      process.kill(pid, 'SIGKILL');
      const deadline = Date.now() + 60_000;
      while (!/waiting-room:\d+ took its place/.test(run.output) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const replacement = Number(/waiting-room:(\d+) took its place/.exec(run.output)?.[1]);
      assert.ok(alive(replacement), run.output);
      assert.equal(getPriority(replacement), 7, 'the replacement runs at the tier’s priority');
      assert.equal((await fresh(`${queueUrl}/readyz`)).status, 200);
    } finally {
      await run.end();
      await drop();
    }
  });

  it('refuses a waiting-room port that is the main one or the worker’s', () => {
    const res = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/start-scale.ts', '--port', '3900', '--queue-api', '1', '--queue-port', '3901'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(res.status, 2);
    assert.match(res.stderr, /usage/);
  });

  it('takes every process down with it when the launcher itself is killed', async () => {
    const { url: databaseUrl, drop } = await freshDb('postgres');
    const run = launch(databaseUrl!, 1);
    const { child } = run;
    try {
      await run.started;
      const m = /API processes: (\d+) sharing .*; worker (\d+) health/.exec(run.output)!;
      const pids = [Number(m[1]), Number(m[2])];
      child.kill('SIGKILL'); // no chance to stop anything itself
      const deadline = Date.now() + 20_000;
      while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(pids.filter(alive), [], 'no API process or worker outlives the launcher');
    } finally {
      await run.end();
      await drop();
    }
  });
});
