/**
 * How long a client that polls its place (instead of streaming it) waits before asking again:
 * a fifth of the expected wait, between 2 s near the front and 15 s far back, and 5 s while no
 * wait can be promised (pre-queue, paused, sold out). 50,000 buyers polling every 2 s would ask
 * 25,000 times a second for answers that barely change; far back, a position a few seconds old
 * is as good. No turn is missed: an admission waits claimSeconds (a minute by default) for its buyer.
 * Pure, so the waiting-room page and the load generator share it.
 */
export function queuePollDelayMs(queue: { etaSeconds: number | null }): number {
  if (queue.etaSeconds === null) return 5000;
  return Math.min(15_000, Math.max(2000, Math.round(queue.etaSeconds * 200)));
}
