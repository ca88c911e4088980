/**
 * The pace at which a client that polls its place (instead of streaming it) asks again: a fifth of
 * the expected wait, between 2 s near the front and 30 s far back, and 5 s while no wait can be
 * promised (pre-queue, paused, sold out). 50,000 buyers polling every 2 s would ask 25,000 times a
 * second for answers that barely change; far back (a wait of minutes), a position half a minute
 * old is as good. No turn is missed: each delay is at most a fifth of the wait still expected, so
 * the polls close in on the turn unless admission suddenly runs five times faster than observed,
 * and an admission waits claimSeconds (a minute by default, twice the longest delay) for its buyer.
 */
export function queuePaceMs(queue: { etaSeconds: number | null }): number {
  if (queue.etaSeconds === null) return 5000;
  return Math.min(30_000, Math.max(2000, Math.round(queue.etaSeconds * 200)));
}

/**
 * The delay before a polling client's next read: the pace, shortened at random by up to 30 %
 * (never lengthened, so the longest delay stays 30 s, half the default claimSeconds). Buyers who
 * arrive together in a spike would otherwise poll together for the whole wait — tens of thousands
 * of requests in the same second, every half minute, with idle seconds between; spread, the same
 * requests arrive evenly, for about 18 % more of them. Pure but for `random`, so the waiting-room
 * page and the load generator share it.
 */
export function queuePollDelayMs(queue: { etaSeconds: number | null }, random: () => number = Math.random): number {
  return Math.round(queuePaceMs(queue) * (0.7 + 0.3 * random()));
}

/** The parts of a buyer's view a queue stream paces by. */
interface StreamedView {
  state: string;
  etaSeconds: number | null;
}

/**
 * Whether a queue stream that sees the buyer's view changed sends it now, `sinceLastMs` after it
 * last sent `last` (the stream looks once a second). Any change outside waiting (admitted,
 * expired, left, numbered after the shuffle), or a wait that stops or starts being promised
 * (pause, sold out, resume), goes out at once; a waiting buyer's moving position goes out at the
 * pace a polling page would ask (queuePaceMs), so 50,000 streams far back cost a few
 * thousand writes a second instead of 50,000.
 */
export function queueStreamSends(last: StreamedView, next: StreamedView, sinceLastMs: number): boolean {
  if (next.state !== 'waiting' || last.state !== 'waiting') return true;
  if ((next.etaSeconds === null) !== (last.etaSeconds === null)) return true;
  return sinceLastMs >= queuePaceMs(last);
}

/** The parts of the public queue status (`GET …/queue/status`) a follower reads. */
export interface StatusSample {
  state: string;
  serving: number;
  admitPerMinute: number;
}

/** Where a numbered, waiting buyer stands, as the public status implies it. */
export interface FollowedPlace {
  /** The serving counter has reached the number, or the room left `open`: only the buyer's own view can say what happened. */
  turn: boolean;
  position: number;
  etaSeconds: number | null;
}

/**
 * A waiting buyer's place followed from the public status — the same answer for everyone, cacheable
 * for a second, so a shared cache or CDN can serve it — instead of reading the buyer's own place on
 * every poll: admission is in number order, so position = number − serving − 1 (as the server counts
 * it) and the turn has come once serving reaches the number. The wait follows the counter's pace
 * between this sample and `previous` (taken at least a second earlier), else the configured rate;
 * a counter that stood still promises no wait (null), as the server says while paused or full.
 * Pure, so the waiting-room page's polling and the load generator share it.
 */
export function followFromStatus(
  number: number,
  status: StatusSample,
  now: number,
  previous: { serving: number; at: number } | null,
): FollowedPlace {
  const position = Math.max(0, number - status.serving - 1);
  if (status.state !== 'open' || status.serving >= number) {
    return { turn: status.state !== 'paused' || status.serving >= number, position, etaSeconds: null };
  }
  let perSecond = status.admitPerMinute / 60;
  if (previous && now - previous.at >= 1000) perSecond = ((status.serving - previous.serving) * 1000) / (now - previous.at);
  return { turn: false, position, etaSeconds: perSecond > 0 ? Math.ceil((position + 1) / perSecond) : null };
}
