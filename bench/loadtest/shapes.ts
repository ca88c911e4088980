/** The two shapes of the server a run is made against, each verified from its database afterwards. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { queueKeys } from '../../src/modules/waiting-room/keys.ts';
import { openDb, type Queryable } from '../../src/platform/db.ts';
import { createRedis } from '../../src/platform/redis.ts';
import { removeBrokerTopology } from '../../src/workers/queues.ts';
import { startProcess, withDatabase } from '../lib.ts';
import { run, type RunOptions } from './run.ts';
import { round } from './stats.ts';
import { verify } from './verify.ts';

/** The window's event verified, and the warm-up sale's (its own line in the summary; a count above 0 fails the run too). */
async function verifyBoth(db: Queryable, result: Awaited<ReturnType<typeof run>>) {
  const window = await verify(db, result.venue.eventId, result.records);
  const warmUp = result.warmedUp && (await verify(db, result.warmedUp.venue.eventId, result.warmedUp.records));
  return { ...window, warmUpVerification: warmUp?.verification, warmUpSold: warmUp?.sold };
}

/** The server in one process on PGlite and the memory store. */
export async function embedded(o: RunOptions) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tm-load-'));
  try {
    const result = await run(
      o,
      () => openDb({ dataDir: dir }),
      () => startProcess(['src/main.ts'], { ...o.serverEnv, TICKETMAX_DATA_DIR: dir }),
      'server (api,ticker,expiry,outbox)',
    );
    const db = await openDb({ dataDir: dir });
    try {
      return { ...result, ...(await verifyBoth(db, result)) };
    } finally {
      await db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** API processes and a worker (start:scale) on PostgreSQL, Redis and RabbitMQ. */
export async function scale(o: RunOptions) {
  const redisUrl = process.env.LOADTEST_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
  const redis = await createRedis(redisUrl);
  await redis.client.flushDb();
  await redis.quit();
  const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const amqpPrefix = `tm-load-${randomBytes(4).toString('hex')}`;
  return withDatabase(async (databaseUrl) => {
    const result = await run(
      o,
      () => openDb({ url: databaseUrl }),
      async () => {
        const started = await startProcess(
          ['scripts/start-scale.ts', '--api', o.api, '--port', '0', '--queue-api', o.queueApi, '--queue-nice', o.queueNice],
          {
            ...o.serverEnv,
            DATABASE_URL: databaseUrl,
            REDIS_URL: redisUrl,
            AMQP_URL: amqpUrl,
            TICKETMAX_AMQP_PREFIX: amqpPrefix,
          },
        );
        // With a waiting-room tier, the launcher names its URL before the main one's.
        const queueUrl = /the waiting room at (http:\/\/[\d.:]+)/.exec(started.output)?.[1];
        if (Number(o.queueApi) > 0 && !queueUrl) throw new Error(`start:scale did not name its waiting room:\n${started.output}`);
        return { ...started, queueUrl };
      },
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
      return { ...result, queueMb, ...(await verifyBoth(db, result)) };
    } finally {
      await db.close();
      await removeQueues(amqpUrl, amqpPrefix);
    }
  });
}

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

/** What a run of either shape found (the scale shape adds what its queue held in Redis). */
export type ShapeResult = Awaited<ReturnType<typeof embedded>> | Awaited<ReturnType<typeof scale>>;
