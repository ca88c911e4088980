/**
 * Every Redis key of the waiting room, built here and nowhere else. Each key of an event
 * carries the hash tag {e:<eventId>}, so all of an event's keys live in one cluster slot and
 * one Lua script may touch them together.
 */
export function queueKeys(eventId: string) {
  const tag = `{e:${eventId}}`;
  return {
    /** Hash: loaded (the queue is held: see lua/load-queue.lua), issued, serving, shuffled, tokens, tokens_at, admitted, no_shows, timed_out. */
    meta: `${tag}:q`,
    /** Hash: user id -> number ("0" while in the pre-queue). */
    numbers: `${tag}:q:num`,
    /** Hash: number -> user id. */
    byNumber: `${tag}:q:by`,
    /** Hash: user id -> mark (see encodeMark); absent while waiting. */
    marks: `${tag}:q:mark`,
    /** List: the pre-queue in arrival order; deleted by the shuffle. */
    pre: `${tag}:q:pre`,
    /** Sorted set: active buyer -> deadline (ms) of their unclaimed turn or of their admission. */
    active: `${tag}:q:active`,
    /** List: the number of every admission, in the order they were made (the admission log). */
    log: `${tag}:q:log`,
    /** List: every buyer who left, in the order they left (the leave log). */
    leaves: `${tag}:q:left`,
    /** String: the ticker lease holder. */
    lease: `${tag}:q:ticker`,
  };
}

/**
 * One loader's staged copy of an event's queue (lua/load-queue.lua renames it into place): private
 * to the loader (`token`), in the event's slot, short-lived. A large queue is written here in
 * chunks, since one script call with every place as an argument overflows the client's stack.
 */
export function stagedQueueKeys(eventId: string, token: string) {
  const stage = `{e:${eventId}}:q:stage:${token}`;
  return {
    numbers: `${stage}:num`,
    byNumber: `${stage}:by`,
    marks: `${stage}:mark`,
    pre: `${stage}:pre`,
    active: `${stage}:active`,
    log: `${stage}:log`,
    leaves: `${stage}:left`,
  };
}

/** The one global key: the set of events that have a queue (read by the ticker, never in a script). */
export const QUEUES_KEY = 'tm:queues';
/** Global: admission back-off's boards (backoff.ts), each a hash of source → `value:at`: each API process's latest load, each event's factor (from the ticker leading it). */
export const BOARD_KEYS = { load: 'tm:load', factor: 'tm:backoff' } as const;
