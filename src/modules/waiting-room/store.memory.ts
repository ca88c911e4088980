import { admissionBudget, type Bucket, bucketCapacity, refill, wholeTokens } from './rate.ts';
import { shuffleInPlace, type ShuffleSeed } from './shuffle.ts';
import {
  type AdvanceResult,
  type Board,
  type ClaimResult,
  type Counters,
  decodeMark,
  NOT_LOADED,
  type Place,
  type QueueRules,
  type QueueSnapshot,
  type WaitingRoomStoreAdapter,
} from './waiting-room.store.ts';

/** Most buyers who left while waiting that one step passes over (keeps a step short). */
const SKIP_LIMIT = 10_000;

interface EventQueue {
  /** user -> number (0 while in the pre-queue). */
  numbers: Map<string, number>;
  /** user -> mark, as encodeMark writes it; absent while waiting. */
  marks: Map<string, string>;
  /** number - 1 -> user. */
  byNumber: string[];
  pre: string[];
  shuffled: boolean;
  serving: number;
  /** Active buyers -> the moment their admission (or unclaimed turn) runs out. */
  active: Map<string, number>;
  bucket: Bucket | undefined;
  admitted: number;
  noShows: number;
  timedOut: number;
  /** The number of every admission, in the order they were made. */
  log: number[];
  /** Every buyer who left, in the order they left. */
  leaves: string[];
}

/**
 * The embedded shape's store: plain maps in this process. Each operation runs synchronously
 * to the end before returning, so operations on one event never interleave.
 */
export function createMemoryStore(): WaitingRoomStoreAdapter {
  const events = new Map<string, EventQueue>();
  const leases = new Map<string, { owner: string; until: number }>();
  /** Admission back-off's boards: each source's latest report and when it was made. */
  const boards: Record<Board, Map<string, { value: number; at: number }>> = { load: new Map(), factor: new Map() };
  const registered = new Set<string>();

  /** The queue as a snapshot gives it (an empty one for a new event). */
  function queueFrom(s: QueueSnapshot): EventQueue {
    const byNumber: string[] = new Array<string>(s.issued);
    const numbers = new Map<string, number>();
    for (const { number, userId } of s.places) {
      byNumber[number - 1] = userId;
      numbers.set(userId, number);
    }
    for (const userId of s.pre) numbers.set(userId, 0);
    return {
      numbers,
      marks: new Map(s.marks),
      byNumber,
      pre: [...s.pre],
      shuffled: s.shuffled,
      serving: s.serving,
      active: new Map(s.active),
      bucket: undefined,
      admitted: s.log.length,
      noShows: 0,
      timedOut: 0,
      log: [...s.log],
      leaves: [...s.leaves],
    };
  }

  function placeOf(q: EventQueue, userId: string): Place | null {
    const n = q.numbers.get(userId);
    if (n === undefined) return null;
    return { number: n === 0 ? null : n, mark: decodeMark(q.marks.get(userId)), serving: q.serving };
  }

  function admit(q: EventQueue, userId: string, number: number, now: number, rules: QueueRules) {
    q.log.push(number);
    q.marks.set(userId, `a${now}`);
    q.active.set(userId, now + rules.claimMs);
    q.admitted += 1;
  }

  function bucketAt(q: EventQueue, now: number, rules: QueueRules): Bucket {
    q.bucket = refill(
      q.bucket ?? { tokens: bucketCapacity(rules.admitPerMinute), at: now },
      now,
      rules.admitPerMinute,
      rules.paused,
    );
    return q.bucket;
  }

  /** Claims a turn admitted at `at`, or expires it when claimMs has run out. */
  function claimTurn(q: EventQueue, userId: string, at: number, now: number, rules: QueueRules): ClaimResult {
    if (now >= at + rules.claimMs) {
      expire(q, userId);
      return 'expired';
    }
    q.marks.set(userId, `c${at}`);
    q.active.set(userId, at + rules.admissionMs);
    return 'ok';
  }

  /** Ends an admission whose time ran out: an unclaimed one is a no-show. */
  function expire(q: EventQueue, userId: string) {
    const mark = q.marks.get(userId) ?? '';
    if (mark.startsWith('a')) q.noShows += 1;
    else q.timedOut += 1;
    q.marks.set(userId, 'x');
    q.active.delete(userId);
  }

  return {
    kind: 'memory',

    async join(eventId, userId, now, phase, rules) {
      const q = events.get(eventId);
      if (!q) return NOT_LOADED;
      const existing = placeOf(q, userId);
      if (existing) return { created: false, place: existing };
      if (phase === 'pre' && !q.shuffled) {
        q.numbers.set(userId, 0);
        q.pre.push(userId);
        return { created: true, place: { number: null, mark: { kind: 'none' }, serving: q.serving } };
      }
      if (!q.shuffled) return 'shuffle-needed';
      const n = q.byNumber.push(userId);
      q.numbers.set(userId, n);
      // Admitted at once only when nobody is ahead and both limits have room.
      if (!rules.paused && q.serving === n - 1 && q.active.size < rules.maxActive) {
        const bucket = bucketAt(q, now, rules);
        if (wholeTokens(bucket.tokens) >= 1) {
          bucket.tokens -= 1;
          q.serving = n;
          admit(q, userId, n, now, rules);
          // Claimed at once: the joiner is here, and the answer carries their token.
          q.marks.set(userId, `c${now}`);
          q.active.set(userId, now + rules.admissionMs);
        }
      }
      return { created: true, place: placeOf(q, userId)! };
    },

    async place(eventId, userId) {
      const q = events.get(eventId);
      return q ? placeOf(q, userId) : NOT_LOADED;
    },

    async claimPlace(eventId, userId, now, rules) {
      const q = events.get(eventId);
      if (!q) return NOT_LOADED;
      const mark = decodeMark(q.marks.get(userId));
      if (mark.kind === 'admitted' && q.numbers.has(userId)) claimTurn(q, userId, mark.at, now, rules);
      return placeOf(q, userId);
    },

    async shuffle(eventId, seed: ShuffleSeed) {
      const q = events.get(eventId);
      if (!q) return NOT_LOADED;
      if (q.shuffled) return null;
      const order = shuffleInPlace(q.pre, seed);
      for (const userId of order) q.numbers.set(userId, q.byNumber.push(userId));
      q.pre = [];
      q.shuffled = true;
      return order.length;
    },

    async advance(eventId, now, rules) {
      const q = events.get(eventId);
      if (!q) return NOT_LOADED;
      let expired = 0;
      for (const [userId, deadline] of q.active) {
        if (deadline <= now) {
          expire(q, userId);
          expired += 1;
        }
      }
      let admitted = 0;
      if (q.shuffled) {
        const bucket = bucketAt(q, now, rules);
        let budget = rules.paused
          ? 0
          : admissionBudget(bucket.tokens, rules.maxActive, q.active.size, q.byNumber.length - q.serving);
        let skipped = 0;
        while (budget > 0 && q.serving < q.byNumber.length && skipped < SKIP_LIMIT) {
          const userId = q.byNumber[q.serving];
          q.serving += 1;
          // A number the database lost with the store (userId undefined) is passed over like one who left.
          if (userId === undefined || q.marks.has(userId)) {
            skipped += 1; // left while waiting: passes without using a turn
            continue;
          }
          admit(q, userId, q.serving, now, rules);
          admitted += 1;
          budget -= 1;
          bucket.tokens -= 1;
        }
      }
      return { admitted, expired, serving: q.serving } satisfies AdvanceResult;
    },

    async claim(eventId, userId, now, rules) {
      const q = events.get(eventId);
      if (!q) return NOT_LOADED;
      const mark = decodeMark(q.marks.get(userId));
      if (mark.kind === 'admitted') return claimTurn(q, userId, mark.at, now, rules);
      if (mark.kind === 'claimed') {
        if (now >= mark.at + rules.admissionMs) {
          expire(q, userId);
          return 'expired';
        }
        return 'ok';
      }
      return (mark.kind === 'expired' ? 'expired' : 'not-admitted') satisfies ClaimResult;
    },

    async leave(eventId, userId) {
      const q = events.get(eventId);
      if (!q) return NOT_LOADED;
      if (!q.numbers.has(userId)) return false;
      const mark = decodeMark(q.marks.get(userId)).kind;
      if (mark === 'none' || mark === 'admitted' || mark === 'claimed') {
        q.marks.set(userId, 'l');
        q.active.delete(userId);
        q.leaves.push(userId);
      }
      return true;
    },

    async finish(eventId, userId) {
      const q = events.get(eventId);
      if (!q) return NOT_LOADED;
      if (!q.active.has(userId)) return false;
      q.marks.set(userId, 'f');
      q.active.delete(userId);
      return true;
    },

    async counters(eventId) {
      const q = events.get(eventId);
      if (!q) return NOT_LOADED;
      const counters: Counters = {
        joined: q.numbers.size,
        issued: q.byNumber.length,
        serving: q.serving,
        preQueued: q.pre.length,
        shuffled: q.shuffled,
        active: q.active.size,
        admitted: q.admitted,
        noShows: q.noShows,
        timedOut: q.timedOut,
      };
      return counters;
    },

    async admissions(eventId, from, limit) {
      const q = events.get(eventId);
      if (!q) return [];
      return q.log.slice(from, from + limit).map((number) => ({ number, userId: q.byNumber[number - 1] ?? '' }));
    },

    leaves: async (eventId, from, limit) => events.get(eventId)?.leaves.slice(from, from + limit) ?? [],
    preQueue: async (eventId, from, limit) => events.get(eventId)?.pre.slice(from, from + limit) ?? [],

    async places(eventId, from, limit) {
      const q = events.get(eventId);
      const out: { number: number; userId: string }[] = [];
      if (!q) return out;
      for (let n = Math.max(1, from); n < from + limit && n <= q.byNumber.length; n++) {
        const userId = q.byNumber[n - 1];
        if (userId !== undefined) out.push({ number: n, userId });
      }
      return out;
    },

    async load(eventId, snapshot) {
      if (events.has(eventId)) return false;
      events.set(eventId, queueFrom(snapshot));
      return true;
    },

    async forget(eventId) {
      events.delete(eventId);
      registered.delete(eventId);
    },

    async lease(eventId, owner, ttlMs) {
      const now = Date.now();
      const current = leases.get(eventId);
      if (current && current.owner !== owner && current.until > now) return false;
      leases.set(eventId, { owner, until: now + ttlMs });
      return true;
    },

    async addQueue(eventId) {
      registered.add(eventId);
    },
    async queues() {
      return [...registered];
    },
    async removeQueue(eventId) {
      registered.delete(eventId);
    },
    async expireQueue(eventId, afterMs) {
      setTimeout(() => events.delete(eventId), afterMs).unref();
    },
    async report(board, source, value, now) {
      boards[board].set(source, { value, at: now });
    },
    async reading(board, source, now, maxAgeMs) {
      const report = boards[board].get(source);
      return report && now - report.at <= maxAgeMs ? report.value : null;
    },
    async readings(board, now, maxAgeMs) {
      const out: number[] = [];
      for (const [source, report] of boards[board]) {
        if (now - report.at > maxAgeMs) boards[board].delete(source);
        else out.push(report.value);
      }
      return out;
    },
    async ping() {},
    async close() {
      events.clear();
    },
  };
}
