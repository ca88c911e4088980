import type { Redis } from '../../platform/redis.ts';

/**
 * Charges whose payment has left `processing` for good (succeeded, declined or refunded), written
 * after the commit that moved it. A payment never goes back to `processing`, so a charge found
 * here is settled; one not found may be settled too (the mark expired, was never written, or Redis
 * lost it) and is looked up in the database. It spares that read for the gateway's confirming
 * webhook, which most often arrives for a charge its pay request already settled.
 */
export interface SettledCharges {
  /** Records a settled charge. Call only after the settlement committed. */
  add(gateway: string, key: string): Promise<void>;
  /** True when the charge is known to be settled; false means "ask the database". */
  has(gateway: string, key: string): Promise<boolean>;
}

/** How long a mark is kept: the confirming webhook comes seconds after the charge; a later one reads the database. */
export const SETTLED_MARK_SECONDS = 15 * 60;

const name = (gateway: string, key: string) => `${gateway}:${key}`;

/**
 * This process's memory (the embedded shape): the marks in insertion order, each with its expiry,
 * at most `max` of them (the oldest go first). With several processes and no Redis each knows only
 * its own settlements, which is still right: a missing mark only means a read.
 */
export function createMemorySettledCharges(
  options: { now?: () => number; ttlSeconds?: number; max?: number } = {},
): SettledCharges {
  const { now = Date.now, ttlSeconds = SETTLED_MARK_SECONDS, max = 100_000 } = options;
  const marks = new Map<string, number>();
  return {
    async add(gateway, key) {
      const id = name(gateway, key);
      const at = now();
      marks.delete(id);
      marks.set(id, at + ttlSeconds * 1000);
      // Oldest first: drop the expired ones and any over the cap.
      for (const [oldest, expires] of marks) {
        if (marks.size <= max && expires > at) break;
        marks.delete(oldest);
      }
    },
    async has(gateway, key) {
      const id = name(gateway, key);
      const expires = marks.get(id);
      if (expires === undefined) return false;
      if (expires > now()) return true;
      marks.delete(id);
      return false;
    },
  };
}

/** Keys of the marks in Redis (one Redis database per deployment, as for every other key). */
export const SETTLED_PREFIX = 'tm:pay:settled:';

/** Redis (the scale-out shape): every API process sees every process's settlements. */
export function createRedisSettledCharges(redis: Redis, ttlSeconds = SETTLED_MARK_SECONDS): SettledCharges {
  return {
    async add(gateway, key) {
      await redis.client.set(SETTLED_PREFIX + name(gateway, key), '1', { expiration: { type: 'EX', value: ttlSeconds } });
    },
    async has(gateway, key) {
      return (await redis.client.exists(SETTLED_PREFIX + name(gateway, key))) === 1;
    },
  };
}
