/**
 * Every Redis key and channel of the seat inventory, built here and nowhere else. Each key of
 * an event carries the hash tag {e:<eventId>} so one event's scripts touch one cluster slot.
 */
export function eventKeys(eventId: string) {
  const tag = `{e:${eventId}}`;
  return {
    /** hash: seats (seat count), v (availability version), cap:<sectionId> (GA capacity). Its absence means "not loaded". */
    meta: `${tag}:inv:meta`,
    /** string: the availability bitmap (bit offsets mapped so bytes read in API order). */
    bits: `${tag}:inv:bits`,
    /** hash: GA section id -> remaining places. */
    ga: `${tag}:inv:ga`,
    /** hash: user id -> hold record "expiresAt|i,j,k|section=qty,...". */
    holds: `${tag}:inv:holds`,
    /** zset: user id scored by hold expiry (ms). */
    expiries: `${tag}:inv:exp`,
    /** pub/sub channel of availability deltas. */
    channel: `${tag}:inv:changes`,
  };
}
export type EventKeys = ReturnType<typeof eventKeys>;

/** set: ids of events that may have holds, for every process's expiry sweeper. Not per event by nature. */
export const EVENTS_WITH_HOLDS_KEY = 'tm:inv:events-with-holds';
