import { randomBytes } from 'node:crypto';
import type { LuaReply, Redis } from '../../platform/redis.ts';
import { BOARD_KEYS, queueKeys, QUEUES_KEY, stagedQueueKeys } from './keys.ts';
import type { ShuffleSeed } from './shuffle.ts';
import {
  decodeMark,
  isNotLoaded,
  NOT_LOADED,
  type Place,
  type QueueRules,
  type QueueSnapshot,
  type WaitingRoomStoreAdapter,
} from './waiting-room.store.ts';

const SCRIPTS = {
  join: new URL('./lua/join-queue.lua', import.meta.url),
  advance: new URL('./lua/advance-queue.lua', import.meta.url),
  shuffle: new URL('./lua/shuffle-prequeue.lua', import.meta.url),
  claim: new URL('./lua/claim-turn.lua', import.meta.url),
  leave: new URL('./lua/leave-queue.lua', import.meta.url),
  finish: new URL('./lua/finish-turn.lua', import.meta.url),
  readPlace: new URL('./lua/read-place.lua', import.meta.url),
  claimPlace: new URL('./lua/claim-place.lua', import.meta.url),
  readCounters: new URL('./lua/read-counters.lua', import.meta.url),
  lease: new URL('./lua/renew-lease.lua', import.meta.url),
  load: new URL('./lua/load-queue.lua', import.meta.url),
};

/** Negative script returns, by name (see each script's header). */
const SHUFFLE_NEEDED = -1;
const ALREADY_SHUFFLED = -1;
const NOT_IN_QUEUE = -1;
const NOT_ADMITTED = -1;
const EXPIRED = -2;
/** Every queue script's answer while the store does not hold the event's queue. */
const QUEUE_NOT_LOADED = -9;

/** Most waiting buyers who left that one ticker step passes over. */
const SKIP_LIMIT = 10_000;
/** Entries a loader writes to its staged keys per command (see load). */
const LOAD_CHUNK = 5000;
/** Staged keys of a loader that stopped half-way go by themselves after this long. */
const STAGE_TTL_MS = 120_000;

function ints(reply: LuaReply): number[] {
  if (!Array.isArray(reply)) throw new Error(`unexpected script reply ${String(reply)}`);
  return reply.map((v) => Number(v));
}

function toPlace(number: LuaReply | undefined, mark: LuaReply | undefined, serving: LuaReply | undefined): Place {
  const n = Number(number);
  return { number: n === 0 ? null : n, mark: decodeMark(typeof mark === 'string' ? mark : ''), serving: Number(serving) };
}

const flag = (b: boolean) => (b ? '1' : '0');

/**
 * The scale-out store: one Lua script per operation, so each is atomic in Redis however many
 * API processes call it. Scripts are loaded once here and run by SHA.
 */
export async function createRedisStore(redis: Redis, options: { ownsClient?: boolean } = {}): Promise<WaitingRoomStoreAdapter> {
  const runScript = await redis.loadScripts(SCRIPTS);
  // Every queue script answers QUEUE_NOT_LOADED the same way: one sentinel for the port.
  const run = async (...args: Parameters<typeof runScript>) => {
    const reply = await runScript(...args);
    return reply === QUEUE_NOT_LOADED ? NOT_LOADED : reply;
  };

  /** Entries `from` … `from + limit - 1` of a list. */
  const listRange = async (key: string, from: number, limit: number) =>
    limit <= 0 ? [] : redis.client.lRange(key, from, from + limit - 1);

  return {
    kind: 'redis',

    async join(eventId, userId, now, phase, rules) {
      const k = queueKeys(eventId);
      const reply = await run(
        'join',
        [k.meta, k.numbers, k.byNumber, k.marks, k.pre, k.active, k.log],
        [userId, now, phase, flag(rules.paused), rules.admitPerMinute, rules.maxActive, rules.admissionMs],
      );
      if (isNotLoaded(reply)) return reply;
      if (reply === SHUFFLE_NEEDED) return 'shuffle-needed';
      if (!Array.isArray(reply)) throw new Error(`join-queue: unexpected reply ${String(reply)}`);
      return { created: Number(reply[0]) === 1, place: toPlace(reply[1], reply[2], reply[3]) };
    },

    async place(eventId, userId) {
      const k = queueKeys(eventId);
      const reply = await run('readPlace', [k.meta, k.numbers, k.marks], [userId]);
      if (isNotLoaded(reply)) return reply;
      if (reply === NOT_IN_QUEUE) return null;
      if (!Array.isArray(reply)) throw new Error(`read-place: unexpected reply ${String(reply)}`);
      return toPlace(reply[0], reply[1], reply[2]);
    },

    async claimPlace(eventId, userId, now, rules) {
      const k = queueKeys(eventId);
      const reply = await run(
        'claimPlace',
        [k.meta, k.numbers, k.marks, k.active],
        [userId, now, rules.claimMs, rules.admissionMs],
      );
      if (isNotLoaded(reply)) return reply;
      if (reply === NOT_IN_QUEUE) return null;
      if (!Array.isArray(reply)) throw new Error(`claim-place: unexpected reply ${String(reply)}`);
      return toPlace(reply[0], reply[1], reply[2]);
    },

    async shuffle(eventId, seed: ShuffleSeed) {
      const k = queueKeys(eventId);
      const reply = await run('shuffle', [k.meta, k.numbers, k.byNumber, k.pre], [...seed]);
      if (isNotLoaded(reply)) return reply;
      return reply === ALREADY_SHUFFLED ? null : Number(reply);
    },

    async advance(eventId, now, rules: QueueRules) {
      const k = queueKeys(eventId);
      const reply = await run(
        'advance',
        [k.meta, k.byNumber, k.marks, k.active, k.log],
        [now, flag(rules.paused), rules.admitPerMinute, rules.maxActive, rules.claimMs, SKIP_LIMIT],
      );
      if (isNotLoaded(reply)) return reply;
      const [admitted = 0, expired = 0, serving = 0] = ints(reply);
      return { admitted, expired, serving };
    },

    async claim(eventId, userId, now, rules) {
      const k = queueKeys(eventId);
      const reply = await run('claim', [k.meta, k.marks, k.active], [userId, now, rules.claimMs, rules.admissionMs]);
      if (isNotLoaded(reply)) return reply;
      if (reply === NOT_ADMITTED) return 'not-admitted';
      if (reply === EXPIRED) return 'expired';
      return 'ok';
    },

    async leave(eventId, userId) {
      const k = queueKeys(eventId);
      const reply = await run('leave', [k.meta, k.numbers, k.marks, k.active, k.leaves], [userId]);
      return isNotLoaded(reply) ? reply : reply !== NOT_IN_QUEUE;
    },

    async finish(eventId, userId) {
      const k = queueKeys(eventId);
      const reply = await run('finish', [k.meta, k.marks, k.active], [userId]);
      return isNotLoaded(reply) ? reply : reply === 1;
    },

    async counters(eventId) {
      const k = queueKeys(eventId);
      const reply = await run('readCounters', [k.meta, k.numbers, k.pre, k.active], []);
      if (isNotLoaded(reply)) return reply;
      const [
        joined = 0,
        issued = 0,
        serving = 0,
        preQueued = 0,
        shuffled = 0,
        active = 0,
        admitted = 0,
        noShows = 0,
        timedOut = 0,
      ] = ints(reply);
      return { joined, issued, serving, preQueued, shuffled: shuffled === 1, active, admitted, noShows, timedOut };
    },

    async admissions(eventId, from, limit) {
      if (limit <= 0) return [];
      const k = queueKeys(eventId);
      // Read-only and append-only: the entries below `from + limit` never change once written.
      const numbers = await redis.client.lRange(k.log, from, from + limit - 1);
      if (numbers.length === 0) return [];
      const users = await redis.client.hmGet(k.byNumber, numbers);
      return numbers.map((n, i) => ({ number: Number(n), userId: users[i] ?? '' }));
    },

    // Both append-only (the pre-queue until the shuffle deletes it), as the admission log.
    leaves: (eventId, from, limit) => listRange(queueKeys(eventId).leaves, from, limit),
    preQueue: (eventId, from, limit) => listRange(queueKeys(eventId).pre, from, limit),

    async places(eventId, from, limit) {
      const k = queueKeys(eventId);
      const issued = Number((await redis.client.hGet(k.meta, 'issued')) ?? 0);
      const first = Math.max(1, from);
      const last = Math.min(issued, from + limit - 1);
      if (last < first) return [];
      // Read-only: a number, once given, keeps its buyer.
      const numbers = Array.from({ length: last - first + 1 }, (_, i) => String(first + i));
      const users = await redis.client.hmGet(k.byNumber, numbers);
      const out: { number: number; userId: string }[] = [];
      users.forEach((userId, i) => userId && out.push({ number: first + i, userId }));
      return out;
    },

    async load(eventId, s: QueueSnapshot) {
      const k = queueKeys(eventId);
      // Staged in chunks under this loader's own keys, then renamed into place by one script call.
      const st = stagedQueueKeys(eventId, randomBytes(8).toString('hex'));
      const c = redis.client;
      const staged = async <T>(items: readonly T[], key: string, write: (chunk: T[]) => Promise<unknown>) => {
        for (let i = 0; i < items.length; i += LOAD_CHUNK) {
          await Promise.all([write(items.slice(i, i + LOAD_CHUNK)), c.pExpire(key, STAGE_TTL_MS)]);
        }
      };
      await staged(s.places, st.byNumber, (chunk) =>
        c.hSet(st.byNumber, Object.fromEntries(chunk.map((p) => [p.number, p.userId]))),
      );
      await staged(s.places, st.numbers, (chunk) =>
        c.hSet(st.numbers, Object.fromEntries(chunk.map((p) => [p.userId, p.number]))),
      );
      await staged(s.pre, st.numbers, (chunk) => c.hSet(st.numbers, Object.fromEntries(chunk.map((u) => [u, 0]))));
      await staged(s.pre, st.pre, (chunk) => c.rPush(st.pre, chunk));
      await staged(s.log, st.log, (chunk) => c.rPush(st.log, chunk.map(String)));
      await staged(s.marks, st.marks, (chunk) => c.hSet(st.marks, Object.fromEntries(chunk)));
      await staged(s.active, st.active, (chunk) =>
        c.zAdd(
          st.active,
          chunk.map(([value, score]) => ({ score, value })),
        ),
      );
      await staged(s.leaves, st.leaves, (chunk) => c.rPush(st.leaves, chunk));
      const keys = [k.meta, k.numbers, k.byNumber, k.marks, k.pre, k.active, k.log, k.leaves];
      const stagedKeys = [st.numbers, st.byNumber, st.marks, st.pre, st.active, st.log, st.leaves];
      const args = [s.issued, s.serving, flag(s.shuffled), s.log.length];
      return (await run('load', [...keys, ...stagedKeys], args)) === 1;
    },

    async forget(eventId) {
      // The ticker's lease is not the queue's state: it stays.
      const keys = Object.entries(queueKeys(eventId)).filter(([name]) => name !== 'lease');
      await redis.client.del(keys.map(([, key]) => key));
      await redis.client.sRem(QUEUES_KEY, eventId);
    },

    async lease(eventId, owner, ttlMs) {
      return (await run('lease', [queueKeys(eventId).lease], [owner, ttlMs])) === 1;
    },

    async addQueue(eventId) {
      await redis.client.sAdd(QUEUES_KEY, eventId);
    },
    async queues() {
      return redis.client.sMembers(QUEUES_KEY);
    },
    async removeQueue(eventId) {
      await redis.client.sRem(QUEUES_KEY, eventId);
    },
    async expireQueue(eventId, afterMs) {
      const keys = Object.values(queueKeys(eventId));
      await Promise.all(keys.map((key) => redis.client.pExpire(key, Math.max(1, Math.round(afterMs)))));
    },
    async report(board, source, value, now) {
      await redis.client.hSet(BOARD_KEYS[board], source, `${value}:${now}`);
    },
    async reading(board, source, now, maxAgeMs) {
      return freshReport(await redis.client.hGet(BOARD_KEYS[board], source), now, maxAgeMs);
    },
    async readings(board, now, maxAgeMs) {
      const reports = await redis.client.hGetAll(BOARD_KEYS[board]);
      const out: number[] = [];
      const stale: string[] = [];
      for (const [source, text] of Object.entries(reports)) {
        const value = freshReport(text, now, maxAgeMs);
        if (value === null) stale.push(source);
        else out.push(value);
      }
      // A process that stopped reporting (stopped, or killed) leaves its last report: dropped here.
      if (stale.length > 0) await redis.client.hDel(BOARD_KEYS[board], stale);
      return out;
    },
    ping: () => redis.ping(),
    async close() {
      if (options.ownsClient) await redis.quit();
    },
  };
}

/** A board report (`value:at`) younger than `maxAgeMs`, else null (stale, or not one). */
function freshReport(text: string | null | undefined, now: number, maxAgeMs: number): number | null {
  const [value, at] = (text ?? '').split(':').map(Number);
  return value !== undefined && at !== undefined && Number.isFinite(value) && Number.isFinite(at) && now - at <= maxAgeMs
    ? value
    : null;
}
