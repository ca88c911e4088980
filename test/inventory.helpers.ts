import { randomBytes } from 'node:crypto';
import { createRedis, type Redis } from '../src/platform/redis.ts';
import { CI } from './helpers.ts';

/** The Redis the inventory tests use: a database index of its own, so flushing it in a test touches nobody else. */
export const TEST_REDIS_URL = process.env.TEST_INVENTORY_REDIS_URL ?? 'redis://127.0.0.1:6379/5';

export type StoreShape = 'memory' | 'redis';

/**
 * The hot-state shapes this run covers: memory always, Redis when it answers.
 * Under CI=true an unreachable Redis is an error, never a silent skip.
 */
export async function storeShapes(): Promise<StoreShape[]> {
  try {
    const redis = await createRedis(TEST_REDIS_URL, { connectTimeoutMs: 2000 });
    await redis.quit();
    return ['memory', 'redis'];
  } catch (err) {
    if (CI) throw new Error(`CI=true but Redis at ${TEST_REDIS_URL} is unreachable: ${String(err)}`);
    console.warn(`# Redis at ${TEST_REDIS_URL} unreachable: running the memory store only (CI would fail)`);
    return ['memory'];
  }
}

export async function connectTestRedis(): Promise<Redis> {
  return createRedis(TEST_REDIS_URL);
}

export function randomEventId(): string {
  return `evt_t${randomBytes(6).toString('hex')}`;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 3000, stepMs = 10): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
