// Redis memory and shuffle time for a big waiting room: `npm run bench:queue-memory`.
// Puts 200,000 buyers in one event's pre-queue through the real Redis store (the same Lua
// scripts the API runs), times the one-time shuffle, then reads INFO memory (used_memory
// before and after). The same shuffle is timed on the memory store. Results: bench/README.md.
//   REDIS_URL (default redis://127.0.0.1:6379), BENCH_BUYERS (default 200000)
import { randomBytes } from 'node:crypto';
import { createMemoryStore, createRedisStore, queueKeys, withoutDatabase } from '../src/modules/waiting-room/index.ts';
import { newShuffleSeed } from '../src/modules/waiting-room/shuffle.ts';
import type { QueueRules, WaitingRoomStore } from '../src/modules/waiting-room/waiting-room.store.ts';
import { createRedis } from '../src/platform/redis.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BUYERS = Number(process.env.BENCH_BUYERS ?? 200_000);
const RULES: QueueRules = { paused: false, admitPerMinute: 600, maxActive: 1000, claimMs: 120_000, admissionMs: 900_000 };

/** User ids shaped like the real ones: "usr_" and 16 base32 characters. */
const userIds = Array.from({ length: BUYERS }, () => `usr_${randomBytes(10).toString('base64url').slice(0, 16).toLowerCase()}`);

async function fill(store: WaitingRoomStore, eventId: string, ids: string[], phase: 'pre' | 'open') {
  const batch = 2000;
  const now = Date.now();
  for (let i = 0; i < ids.length; i += batch) {
    await Promise.all(ids.slice(i, i + batch).map((u) => store.join(eventId, u, now, phase, { ...RULES, paused: true })));
  }
}

async function usedMemory(client: Awaited<ReturnType<typeof createRedis>>['client']): Promise<number> {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const redis = await createRedis(REDIS_URL);
const store = withoutDatabase(await createRedisStore(redis));
const eventId = `evt_bench_${randomBytes(6).toString('hex')}`;
try {
  const before = await usedMemory(redis.client);
  let started = performance.now();
  await fill(store, eventId, userIds, 'pre');
  const fillSeconds = (performance.now() - started) / 1000;
  const preQueued = await usedMemory(redis.client);
  started = performance.now();
  const shuffled = await store.shuffle(eventId, newShuffleSeed());
  const shuffleMs = performance.now() - started;
  const after = await usedMemory(redis.client);
  const counters = await store.counters(eventId);

  // Later arrivals on top of the shuffled queue: what the FIFO part costs per buyer.
  const late = Array.from({ length: 20_000 }, (_, i) => `usr_late${i.toString(36).padStart(12, '0')}`);
  await fill(store, eventId, late, 'open');
  const withLate = await usedMemory(redis.client);

  const memoryStore = withoutDatabase(createMemoryStore());
  const memEvent = 'evt_mem';
  await fill(memoryStore, memEvent, userIds, 'pre');
  started = performance.now();
  await memoryStore.shuffle(memEvent, newShuffleSeed());
  const memoryShuffleMs = performance.now() - started;

  console.log(`Redis store, ${BUYERS} buyers (${REDIS_URL}):`);
  console.log(
    `  pre-queue fill: ${fillSeconds.toFixed(1)} s (${Math.round(BUYERS / fillSeconds)} joins/s through the join-queue script, 2000 in flight)`,
  );
  console.log(`  used_memory: before ${mb(before)} MB, pre-queued ${mb(preQueued)} MB, after the shuffle ${mb(after)} MB`);
  console.log(`  => ${mb(after - before)} MB for ${BUYERS} waiting buyers (${Math.round((after - before) / BUYERS)} bytes each)`);
  console.log(
    `  shuffle of ${shuffled} buyers in one Lua script: ${shuffleMs.toFixed(0)} ms; waiting ${counters.issued - counters.serving}`,
  );
  console.log(
    `  20,000 later arrivals: +${mb(withLate - after)} MB (${Math.round((withLate - after) / late.length)} bytes each)`,
  );
  console.log(`Memory store: shuffle of ${BUYERS} buyers: ${memoryShuffleMs.toFixed(0)} ms`);
} finally {
  await redis.client.del(Object.values(queueKeys(eventId)));
  await redis.quit();
}
