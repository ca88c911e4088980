import { createRedis } from '../src/platform/redis.ts';
import { CI } from './helpers.ts';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The Redis URLs a test file should cover: the test Redis when it answers. Under CI=true an
 * unreachable Redis is an error, never a silent skip; outside CI the Redis cases are skipped
 * with a warning.
 */
export async function redisTargets(): Promise<string[]> {
  try {
    const redis = await createRedis(TEST_REDIS_URL, { connectTimeoutMs: 2000 });
    await redis.ping();
    await redis.quit();
    return [TEST_REDIS_URL];
  } catch (err) {
    if (CI) throw new Error(`CI=true but Redis at ${TEST_REDIS_URL} is unreachable: ${String(err)}`);
    console.warn(`# Redis at ${TEST_REDIS_URL} unreachable: Redis cases skipped (CI would fail)`);
    return [];
  }
}
