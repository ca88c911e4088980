/**
 * The admission rate as a token bucket: `tokens` grows by admitPerMinute / 60,000 per
 * millisecond and holds at most one second's worth plus one, so admission runs evenly at
 * about admitPerMinute / 60 a second and never releases a minute's worth at once. (The plus
 * one keeps the cap from clipping the carried fraction at low rates.) The fractional part
 * carries over between ticks, so a rate of 7 a minute admits exactly 7 a minute.
 * lua/advance-queue.lua and lua/join-queue.lua do the same arithmetic.
 */
export interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

export function bucketCapacity(admitPerMinute: number): number {
  return admitPerMinute / 60 + 1;
}

/** The bucket brought up to `now`. While paused nothing accrues. Time never runs backwards. */
export function refill(bucket: Bucket, now: number, admitPerMinute: number, paused: boolean): Bucket {
  if (now <= bucket.at) return bucket;
  if (paused || admitPerMinute <= 0) return { tokens: Math.min(bucket.tokens, bucketCapacity(admitPerMinute)), at: now };
  const tokens = Math.min(bucketCapacity(admitPerMinute), bucket.tokens + ((now - bucket.at) * admitPerMinute) / 60_000);
  return { tokens, at: now };
}

/** Float dust: 300 steps of 7/300 must make 7 tokens, not 6.999999. The Lua scripts use the same. */
export const TOKEN_EPSILON = 1e-9;

/** Whole tokens in the bucket. */
export function wholeTokens(tokens: number): number {
  return Math.floor(tokens + TOKEN_EPSILON);
}

/** How many to admit now: whole tokens, room under maxActive, and buyers waiting, whichever is least. */
export function admissionBudget(tokens: number, maxActive: number, active: number, waiting: number): number {
  return Math.max(0, Math.min(wholeTokens(tokens), maxActive - active, waiting));
}
