import type { Clock } from '../../platform/clock.ts';
import { newId } from '../../platform/crypto.ts';
import { forbidden, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/index.ts';
import { invalidField } from './catalog.errors.ts';
import type { EventRow, PriceRow, SectionRow } from './catalog.repository.ts';
import type { EventBody, EventDetail, EventPatch, EventStatus, EventSummary } from './catalog.schemas.ts';
import { createSeatmaps } from './catalog.seatmap.ts';
import { createVenueCatalog, type VenueDeps } from './catalog.venues.ts';

const DEFAULTS = {
  maxSeatsPerOrder: 6,
  holdSeconds: 600,
  admitPerMinute: 600,
  maxActive: 1000,
  claimSeconds: 120,
  preQueueMinutes: 30,
  admissionMinutes: 15,
};

// The date-time format admits strings JavaScript cannot read (a leap second "…T23:59:60Z", an
// offset without minutes "+01") and years PostgreSQL cannot store (0000). Caught here, they are a
// 400; let through, they failed at the database as a 500.
const EARLIEST_TIME = Date.UTC(1970, 0, 1);
const LATEST_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function timeOf(field: string, value: string): Date {
  const date = new Date(value);
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw invalidField(field, 'is not a date and time this service can read; use e.g. 2030-06-01T19:30:00Z');
  if (ms < EARLIEST_TIME || ms > LATEST_TIME) throw invalidField(field, 'must be between the years 1970 and 9999');
  return date;
}

export function eventStatus(
  row: Pick<EventRow, 'on_sale_at' | 'off_sale_at' | 'starts_at'>,
  available: number,
  now: number,
): EventStatus {
  const end = (row.off_sale_at ?? row.starts_at).getTime();
  if (now >= end) return 'ended';
  if (now < row.on_sale_at.getTime()) return 'scheduled';
  return available <= 0 ? 'sold_out' : 'on_sale';
}

export interface CatalogDeps extends VenueDeps {
  clock: Clock;
}

/** The API's name of each event column a PATCH can change (the audit log speaks the API's words). */
const PATCHED_FIELDS: Record<string, string> = {
  name: 'name',
  description: 'description',
  starts_at: 'startsAt',
  on_sale_at: 'onSaleAt',
  off_sale_at: 'offSaleAt',
  max_seats_per_order: 'maxSeatsPerOrder',
  hold_seconds: 'holdSeconds',
  admit_per_minute: 'queue.admitPerMinute',
  max_active: 'queue.maxActive',
  claim_seconds: 'queue.claimSeconds',
  pre_queue_minutes: 'queue.preQueueMinutes',
  admission_minutes: 'queue.admissionMinutes',
};

/** Whether a PATCH's prices are the ones the event has (then the audit log does not speak of them). */
function samePrices(old: PriceRow[], next: { sectionId: string; amount: number; currency: string }[]) {
  const key = (p: { sectionId: string; amount: number; currency: string }) => `${p.sectionId}:${Number(p.amount)}:${p.currency}`;
  const before = new Set(old.map((p) => key({ sectionId: p.section_id, amount: p.amount, currency: p.currency })));
  return before.size === next.length && next.every((p) => before.has(key(p)));
}

/**
 * What a PATCH really changes, for the audit log: each changed field's value before and after (the
 * description only by name: it can be long), and whether the prices changed; undefined when it
 * changes nothing.
 */
function eventChanges(row: EventRow, changes: Record<string, unknown>, pricesChanged: boolean) {
  const plain = (v: unknown) => (v instanceof Date ? v.toISOString() : (v ?? null));
  const from: Record<string, unknown> = {};
  const to: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(changes)) {
    const before = plain(row[column as keyof EventRow]);
    if (before === plain(value)) continue;
    const field = PATCHED_FIELDS[column] ?? column;
    from[field] = column === 'description' ? null : before;
    to[field] = column === 'description' ? null : plain(value);
  }
  const fields = Object.keys(to);
  if (fields.length === 0 && !pricesChanged) return undefined;
  return { fields: pricesChanged ? [...fields, 'prices'] : fields, from, to };
}

export function createCatalogService({ repo, transaction, clock }: CatalogDeps) {
  const venues = createVenueCatalog({ repo, transaction });
  const { seatmap, warmSeatmap } = createSeatmaps({ repo, clock, layoutOf: venues.layoutOf });

  function mayEdit(principal: Principal, ownerId: string) {
    if (principal.role !== 'admin' && principal.userId !== ownerId) {
      throw forbidden('Only the organizer who owns this event, or an admin, may change it');
    }
  }

  /** Matches each price to a section by id or name; every section needs exactly one price, in one currency. */
  function resolvePrices(sections: SectionRow[], prices: EventBody['prices']) {
    const resolved = new Map<string, { sectionId: string; amount: number; currency: string }>();
    for (const [i, price] of prices.entries()) {
      const wanted = price.section.trim().toLowerCase();
      const section = sections.find((s) => s.id === price.section || s.name.toLowerCase() === wanted);
      if (!section) throw invalidField(`body.prices.${i}.section`, `names no section of this venue ("${price.section}")`);
      if (resolved.has(section.id)) throw invalidField(`body.prices.${i}.section`, `prices section "${section.name}" twice`);
      resolved.set(section.id, { sectionId: section.id, amount: price.amount, currency: price.currency });
    }
    const missing = sections.filter((s) => !resolved.has(s.id)).map((s) => s.name);
    if (missing.length > 0) throw invalidField('body.prices', `needs a price for every section; missing: ${missing.join(', ')}`);
    const currencies = new Set([...resolved.values()].map((p) => p.currency));
    if (currencies.size > 1) throw invalidField('body.prices', 'must all be in one currency');
    return [...resolved.values()];
  }

  function checkTimes(startsAt: Date, onSaleAt: Date, offSaleAt: Date | null) {
    if (onSaleAt > startsAt) throw invalidField('body.onSaleAt', 'must not be after startsAt');
    if (offSaleAt && offSaleAt <= onSaleAt) throw invalidField('body.offSaleAt', 'must be after onSaleAt');
  }

  function summarize(row: EventRow, prices: PriceRow[], taken: number, now: number): EventSummary {
    const capacity = row.seat_count + row.ga_capacity;
    const available = Math.max(0, capacity - taken);
    let priceRange: EventSummary['priceRange'] = null;
    if (prices.length > 0) {
      const amounts = prices.map((p) => p.amount);
      const currency = prices[0]!.currency;
      priceRange = { min: { amount: Math.min(...amounts), currency }, max: { amount: Math.max(...amounts), currency } };
    }
    return {
      id: row.id,
      name: row.name,
      venue: { id: row.venue_id, name: row.venue_name },
      startsAt: row.starts_at.toISOString(),
      onSaleAt: row.on_sale_at.toISOString(),
      offSaleAt: row.off_sale_at?.toISOString() ?? null,
      status: eventStatus(row, available, now),
      priceRange,
      available,
      capacity,
    };
  }

  function detail(row: EventRow, prices: PriceRow[], taken: number): EventDetail {
    return {
      ...summarize(row, prices, taken, clock.now()),
      description: row.description,
      organizerId: row.organizer_id,
      prices: prices.map((p) => ({
        sectionId: p.section_id,
        section: p.section_name,
        kind: p.kind,
        amount: p.amount,
        currency: p.currency,
      })),
      maxSeatsPerOrder: row.max_seats_per_order,
      holdSeconds: row.hold_seconds,
      queue: {
        admitPerMinute: row.admit_per_minute,
        maxActive: row.max_active,
        claimSeconds: row.claim_seconds,
        preQueueMinutes: row.pre_queue_minutes,
        admissionMinutes: row.admission_minutes,
        paused: row.queue_paused,
      },
      seatmapVersion: row.seatmap_version,
    };
  }

  async function loadDetail(id: string): Promise<EventDetail> {
    const row = await repo.findEvent(id);
    if (!row) throw notFound('Event');
    const [prices, taken] = await Promise.all([repo.pricesOf([id]), repo.takenCounts([id])]);
    return detail(row, prices, taken[0]?.taken ?? 0);
  }

  return {
    ...venues,

    async createEvent(principal: Principal, body: EventBody): Promise<EventDetail> {
      const venue = await repo.findVenue(body.venueId);
      if (!venue) throw invalidField('body.venueId', 'names no venue');
      const sections = await repo.sectionsOf([venue.id]);
      const prices = resolvePrices(sections, body.prices);
      const startsAt = timeOf('body.startsAt', body.startsAt);
      const onSaleAt = timeOf('body.onSaleAt', body.onSaleAt);
      const offSaleAt = body.offSaleAt ? timeOf('body.offSaleAt', body.offSaleAt) : null;
      checkTimes(startsAt, onSaleAt, offSaleAt);
      const id = newId('evt');
      const q = body.queue ?? {};
      await transaction(async (tx) => {
        await tx.insertEvent({
          id,
          venueId: venue.id,
          organizerId: principal.userId,
          name: body.name.trim(),
          description: body.description ?? '',
          startsAt,
          onSaleAt,
          offSaleAt,
          maxSeatsPerOrder: body.maxSeatsPerOrder ?? DEFAULTS.maxSeatsPerOrder,
          holdSeconds: body.holdSeconds ?? DEFAULTS.holdSeconds,
          admitPerMinute: q.admitPerMinute ?? DEFAULTS.admitPerMinute,
          maxActive: q.maxActive ?? DEFAULTS.maxActive,
          claimSeconds: q.claimSeconds ?? DEFAULTS.claimSeconds,
          preQueueMinutes: q.preQueueMinutes ?? DEFAULTS.preQueueMinutes,
          admissionMinutes: q.admissionMinutes ?? DEFAULTS.admissionMinutes,
        });
        await tx.replacePrices(id, prices);
        await tx.insertGaInventory(
          id,
          sections.filter((s) => s.kind === 'ga').map((s) => ({ sectionId: s.id, capacity: s.capacity ?? 1 })),
        );
        await tx.logEvent(principal.userId, 'event.created', id, {
          name: body.name.trim(),
          venue: { id: venue.id, name: venue.name },
          startsAt: startsAt.toISOString(),
          onSaleAt: onSaleAt.toISOString(),
          offSaleAt: offSaleAt?.toISOString() ?? null,
        });
      });
      warmSeatmap(id);
      return loadDetail(id);
    },

    async updateEvent(principal: Principal, id: string, patch: EventPatch): Promise<EventDetail> {
      const row = await repo.findEvent(id);
      if (!row) throw notFound('Event');
      mayEdit(principal, row.organizer_id);
      const startsAt = patch.startsAt ? timeOf('body.startsAt', patch.startsAt) : row.starts_at;
      const onSaleAt = patch.onSaleAt ? timeOf('body.onSaleAt', patch.onSaleAt) : row.on_sale_at;
      const offSaleAt =
        patch.offSaleAt === undefined
          ? row.off_sale_at
          : patch.offSaleAt === null
            ? null
            : timeOf('body.offSaleAt', patch.offSaleAt);
      checkTimes(startsAt, onSaleAt, offSaleAt);
      const prices = patch.prices ? resolvePrices(await repo.sectionsOf([row.venue_id]), patch.prices) : undefined;
      const changes: Record<string, unknown> = {};
      if (patch.name !== undefined) changes.name = patch.name.trim();
      if (patch.description !== undefined) changes.description = patch.description;
      if (patch.startsAt !== undefined) changes.starts_at = startsAt;
      if (patch.onSaleAt !== undefined) changes.on_sale_at = onSaleAt;
      if (patch.offSaleAt !== undefined) changes.off_sale_at = offSaleAt;
      if (patch.maxSeatsPerOrder !== undefined) changes.max_seats_per_order = patch.maxSeatsPerOrder;
      if (patch.holdSeconds !== undefined) changes.hold_seconds = patch.holdSeconds;
      const q = patch.queue ?? {};
      if (q.admitPerMinute !== undefined) changes.admit_per_minute = q.admitPerMinute;
      if (q.maxActive !== undefined) changes.max_active = q.maxActive;
      if (q.claimSeconds !== undefined) changes.claim_seconds = q.claimSeconds;
      if (q.preQueueMinutes !== undefined) changes.pre_queue_minutes = q.preQueueMinutes;
      if (q.admissionMinutes !== undefined) changes.admission_minutes = q.admissionMinutes;
      const pricesChanged = prices !== undefined && !samePrices(await repo.pricesOf([id]), prices);
      const audit = eventChanges(row, changes, pricesChanged);
      await transaction(async (tx) => {
        await tx.updateEvent(id, changes, prices !== undefined);
        if (prices) await tx.replacePrices(id, prices);
        if (audit) await tx.logEvent(principal.userId, 'event.changed', id, audit);
      });
      warmSeatmap(id);
      return loadDetail(id);
    },

    /** The public list; with `organizerId`, one organizer's events (their own page). */
    async listEvents(organizerId?: string): Promise<EventSummary[]> {
      const rows = await repo.listEvents(500, new Date(clock.now()), organizerId);
      const ids = rows.map((r) => r.id);
      const [prices, taken] = await Promise.all([repo.pricesOf(ids), repo.takenCounts(ids)]);
      const takenBy = new Map(taken.map((t) => [t.event_id, t.taken]));
      const now = clock.now();
      return rows.map((row) =>
        summarize(
          row,
          prices.filter((p) => p.event_id === row.id),
          takenBy.get(row.id) ?? 0,
          now,
        ),
      );
    },

    getEvent: loadDetail,

    /** The event's raw row (other modules read settings from it). */
    async eventRow(id: string) {
      const row = await repo.findEvent(id);
      if (!row) throw notFound('Event');
      return row;
    },

    seatmap,
  };
}
export type CatalogService = ReturnType<typeof createCatalogService>;
