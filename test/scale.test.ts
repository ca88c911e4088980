// start:scale end to end: N API processes and a worker behind the round-robin balancer, on
// PostgreSQL, Redis and RabbitMQ. Skipped (CI fails) when one of them is unreachable.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { rabbitReachable } from './broker-proxy.ts';
import { CI, dbShapes, freshDb } from './helpers.ts';
import { redisTargets } from './redis-helpers.ts';
import { exitOf } from './server.ts';

const ready = (await dbShapes()).includes('postgres') && (await redisTargets()).length > 0 && (await rabbitReachable());
if (!ready && CI) throw new Error('CI=true but PostgreSQL, Redis or RabbitMQ is unreachable');

const signupsOn = async (url: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('http_request_duration_seconds_count') && l.includes('route="/api/auth/signup"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('npm run start:scale', { skip: !ready && 'needs PostgreSQL, Redis and RabbitMQ' }, () => {
  it('serves through one URL, round robin over the API processes, a worker that serves no API, and stops them all on SIGTERM', async () => {
    const { url: databaseUrl, drop } = await freshDb('postgres');
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start-scale.ts', '--api', '2', '--port', '0'], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl!,
        REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
        AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
        TICKETMAX_AMQP_PREFIX: `test-${randomBytes(5).toString('hex')}`,
        TICKETMAX_SECRET: 's'.repeat(40),
        PAYMENT_WEBHOOK_SECRET: 'w'.repeat(40),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const started = new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /running at (http:\/\/[\d.:]+)/.exec(output);
        if (match) resolve(match[1]!);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });
    try {
      const url = await started;
      const apis = /API processes: (.*); worker health: (http:\/\/[\d.:]+)/.exec(output);
      assert.ok(apis, output);
      const [api1, api2] = apis[1]!.split(', ');
      const worker = apis[2]!;
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${url}/api/auth/signup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            email: `scale-${i}-${randomBytes(3).toString('hex')}@example.test`,
            password: 'long-enough-1',
            name: 'Scale',
          }),
        });
        assert.equal(res.status, 201);
      }
      assert.deepEqual([await signupsOn(api1!), await signupsOn(api2!)], [1, 1], 'one sign-up on each API process');
      assert.equal((await fetch(`${worker}/healthz`)).status, 200);
      assert.equal((await fetch(`${worker}/api/events`)).status, 404);
      const missing = await fetch(`${url}/api/nothing-here`);
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
      const exited = exitOf(child);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      await assert.rejects(fetch(`${api1}/healthz`), 'the API processes stopped too');
    } finally {
      child.kill('SIGKILL');
      await drop();
    }
  });
});
