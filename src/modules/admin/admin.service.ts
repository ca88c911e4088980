import type { Clock } from '../../platform/clock.ts';
import { notFound } from '../../platform/errors.ts';
import type { AdminRepository } from './admin.repository.ts';

export interface Actor {
  userId: string;
  role: string;
}

/** What the dashboard needs from the waiting room (it also checks the actor may see this event). */
export interface QueueSource<Q> {
  adminStatus(actor: Actor, eventId: string): Promise<Q>;
  /** Only the check: 404 for an unknown event, 403 for someone else's. */
  mayControl(actor: Actor, eventId: string): Promise<void>;
}
/** What the dashboard needs from the inventory: the live availability snapshot. */
/** The audit log's lines about one event, newest first (the accounts module keeps the log). */
export type EventAuditSource<A> = (eventId: string, before: string | undefined, limit: number) => Promise<A>;
export interface AvailabilitySource {
  snapshot(eventId: string): Promise<{ seatCount: number; bitmap: Uint8Array; body: { ga: Record<string, number> } }>;
}

export interface EventStats<Q = unknown> {
  sold: number;
  checkedIn: number;
  held: number;
  pending: number;
  available: number;
  revenue: { amount: number; currency: string };
  queue: Q;
  ordersPerMinute: { minute: string; count: number }[];
}

const CHART_MINUTES = 30;
const MINUTE = 60_000;

function countBits(bitmap: Uint8Array, count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) n += (bitmap[i >> 3]! >> (i & 7)) & 1;
  return n;
}

/**
 * The organizer's live figures for one event. Sold and pending come from the database (the
 * truth); held is what the availability bitmap shows taken beyond them, i.e. seats in holds.
 */
export function createAdminService<Q, A = unknown>(deps: {
  repo: AdminRepository;
  queue: QueueSource<Q>;
  availability: AvailabilitySource;
  audit: EventAuditSource<A>;
  clock: Clock;
}) {
  const { repo, queue, availability, audit, clock } = deps;
  return {
    /** Who changed the event's sale and when (queue controls, the event's details), newest first. */
    async changes(actor: Actor, eventId: string, before: string | undefined, limit: number): Promise<A> {
      await queue.mayControl(actor, eventId);
      return audit(eventId, before, limit);
    },

    async stats(actor: Actor, eventId: string): Promise<EventStats<Q>> {
      // First: it answers 404 for an unknown event and 403 for someone else's.
      const queueView = await queue.adminStatus(actor, eventId);
      const shape = await repo.eventShape(eventId);
      if (!shape) throw notFound('Event');
      const now = clock.now();
      const since = Math.floor(now / MINUTE) * MINUTE - (CHART_MINUTES - 1) * MINUTE;
      const [snapshot, figures, perMinute, checkedIn] = await Promise.all([
        availability.snapshot(eventId),
        repo.orderFigures(eventId),
        repo.ordersPerMinute(eventId, new Date(since)),
        repo.checkedIn(eventId),
      ]);
      const gaRemaining = Object.values(snapshot.body.ga).reduce((a, b) => a + b, 0);
      const taken = countBits(snapshot.bitmap, snapshot.seatCount) + (shape.gaCapacity - gaRemaining);
      const counts = new Map(perMinute.map((p) => [p.minute, p.count]));
      return {
        sold: figures.soldPlaces,
        checkedIn,
        pending: figures.pendingPlaces,
        held: Math.max(0, taken - figures.soldPlaces - figures.pendingPlaces),
        available: snapshot.seatCount - countBits(snapshot.bitmap, snapshot.seatCount) + gaRemaining,
        revenue: { amount: figures.revenue, currency: figures.currency ?? shape.currency },
        queue: queueView,
        ordersPerMinute: Array.from({ length: CHART_MINUTES }, (_, i) => {
          const minute = since + i * MINUTE;
          return { minute: new Date(minute).toISOString(), count: counts.get(minute) ?? 0 };
        }),
      };
    },
  };
}
export interface AdminService<Q = unknown, A = unknown> {
  stats(actor: Actor, eventId: string): Promise<EventStats<Q>>;
  changes(actor: Actor, eventId: string, before: string | undefined, limit: number): Promise<A>;
}
