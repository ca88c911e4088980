import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Clock } from '../../platform/clock.ts';
import { newId, newIds } from '../../platform/crypto.ts';
import { forbidden, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/index.ts';
import { invalidField } from './catalog.errors.ts';
import { expandSections } from './catalog.layout.ts';
import type { CatalogRepository, EventRow, PriceRow, SeatRow, SectionRow } from './catalog.repository.ts';
import type { EventBody, EventDetail, EventPatch, EventStatus, EventSummary, VenueBody } from './catalog.schemas.ts';

export interface SeatOut {
  id: string;
  label: string;
  x: number;
  y: number;
  index: number;
}
export interface LayoutSectionOut {
  id: string;
  name: string;
  kind: 'seated' | 'ga';
  capacity: number | null;
  rows: { label: string; seats: SeatOut[] }[];
}
/** A venue's immutable layout as served: what the seat map and the inventory are built on. */
export interface VenueLayout {
  venueId: string;
  seatCount: number;
  sections: LayoutSectionOut[];
}

/** The seat map body, serialised once per (event, version) and served from memory. */
export interface SeatmapEntry {
  etag: string;
  json: string;
  gzip: Buffer;
}

const DEFAULTS = {
  maxSeatsPerOrder: 6,
  holdSeconds: 600,
  admitPerMinute: 600,
  maxActive: 1000,
  claimSeconds: 120,
  preQueueMinutes: 30,
  admissionMinutes: 15,
};

/** How long the seat map trusts the event row it read (its version), and for how many events at most. */
const SEATMAP_ROW_TTL_MS = 1000;
const SEATMAP_ROWS_KEPT = 1000;

/** A small insertion-ordered cache: the oldest entry goes when it is full. */
function boundedCache<V>(max: number) {
  const map = new Map<string, V>();
  return {
    get: (key: string) => map.get(key),
    delete: (key: string) => map.delete(key),
    set(key: string, value: V) {
      map.delete(key);
      map.set(key, value);
      if (map.size > max) map.delete(map.keys().next().value as string);
    },
  };
}

export function buildLayout(venueId: string, sections: SectionRow[], seats: SeatRow[]): VenueLayout {
  const bySection = new Map<string, LayoutSectionOut>();
  const out = sections.map((s) => {
    const section: LayoutSectionOut = { id: s.id, name: s.name, kind: s.kind, capacity: s.capacity, rows: [] };
    bySection.set(s.id, section);
    return section;
  });
  for (const seat of seats) {
    const section = bySection.get(seat.section_id);
    if (!section) continue;
    let row = section.rows.at(-1);
    if (row?.label !== seat.row_label) {
      row = { label: seat.row_label, seats: [] };
      section.rows.push(row);
    }
    row.seats.push({ id: seat.id, label: seat.label, x: seat.x, y: seat.y, index: seat.idx });
  }
  return { venueId, seatCount: seats.length, sections: out };
}

/** A venue as the API shows it: GA sections with a capacity, seated ones with rows. */
function venueOut(layout: VenueLayout, name: string, gaCapacity: number) {
  return {
    id: layout.venueId,
    name,
    seatCount: layout.seatCount,
    gaCapacity,
    sections: layout.sections.map((s) =>
      s.kind === 'ga'
        ? { id: s.id, name: s.name, kind: s.kind, capacity: s.capacity ?? 0 }
        : { id: s.id, name: s.name, kind: s.kind, rows: s.rows },
    ),
  };
}

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

export interface CatalogDeps {
  repo: CatalogRepository;
  /** Runs fn with a repository bound to one transaction. */
  transaction: <T>(fn: (repo: CatalogRepository) => Promise<T>) => Promise<T>;
  clock: Clock;
}

export function createCatalogService({ repo, transaction, clock }: CatalogDeps) {
  const layouts = boundedCache<VenueLayout>(8);
  const seatmaps = boundedCache<SeatmapEntry>(16);
  /** Event rows as the seat map read them (one read a second per event and process; see seatmapRow). */
  const seatmapRows = boundedCache<{ row: Promise<EventRow | undefined>; until: number }>(SEATMAP_ROWS_KEPT);

  /**
   * The event row behind its seat map, read again at most once a second: every admitted buyer
   * opens the map, and its version changes only with a PATCH of prices (this process drops its
   * copy at once, the others within the second, as the inventory's event rows do).
   */
  function seatmapRow(eventId: string): Promise<EventRow | undefined> {
    const now = clock.now();
    const known = seatmapRows.get(eventId);
    if (known && known.until > now) return known.row;
    const row = repo.findEvent(eventId);
    const entry = { row, until: now + SEATMAP_ROW_TTL_MS };
    seatmapRows.set(eventId, entry);
    // A failed read is not kept; nor is an unknown event (it may be created next).
    row.then(
      (found) => {
        if (!found && seatmapRows.get(eventId) === entry) seatmapRows.delete(eventId);
      },
      () => {
        if (seatmapRows.get(eventId) === entry) seatmapRows.delete(eventId);
      },
    );
    return row;
  }

  async function layoutOf(venueId: string): Promise<VenueLayout> {
    const cached = layouts.get(venueId);
    if (cached) return cached;
    const [sections, seats] = await Promise.all([repo.sectionsOf([venueId]), repo.seatsOf(venueId)]);
    const layout = buildLayout(venueId, sections, seats);
    layouts.set(venueId, layout);
    return layout;
  }

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

  /**
   * Builds the new seat map version in the background, so the first buyer to open a large map
   * does not wait for it to be serialised (a 50,000-seat map takes most of a second).
   */
  function warmSeatmap(eventId: string) {
    seatmapRows.delete(eventId);
    setImmediate(() => {
      service.seatmap(eventId).catch(() => undefined);
    });
  }

  const service = {
    layoutOf,

    async createVenue(principal: Principal, body: VenueBody) {
      const expanded = expandSections(body.sections);
      const venueId = newId('ven');
      const sectionIds = newIds('sec', expanded.length);
      const seatCount = expanded.reduce((n, s) => n + s.seats.length, 0);
      const seatIds = newIds('st', seatCount);
      const sections = expanded.map((s, position) => ({
        id: sectionIds[position]!,
        venueId,
        name: s.name,
        kind: s.kind,
        capacity: s.capacity,
        position,
      }));
      const seats: Parameters<CatalogRepository['insertSeats']>[1] = [];
      expanded.forEach((s, position) => {
        for (const seat of s.seats) {
          const idx = seats.length;
          seats.push({ id: seatIds[idx]!, sectionId: sectionIds[position]!, ...seat, idx });
        }
      });
      await transaction(async (tx) => {
        await tx.insertVenue({ id: venueId, name: body.name.trim(), ownerId: principal.userId, seatCount });
        await tx.insertSections(sections);
        await tx.insertSeats(venueId, seats);
      });
      // Built from what was stored, without reading it back: coordinates are double precision
      // (migration 003), so every process that later reads the venue builds the same bytes and
      // the same strong ETag for a seat map version.
      const layout = buildLayout(
        venueId,
        sections.map((s) => ({
          id: s.id,
          venue_id: venueId,
          name: s.name,
          kind: s.kind,
          capacity: s.capacity,
          position: s.position,
        })),
        seats.map((s) => ({
          id: s.id,
          section_id: s.sectionId,
          row_label: s.rowLabel,
          label: s.label,
          x: s.x,
          y: s.y,
          idx: s.idx,
        })),
      );
      layouts.set(venueId, layout);
      const gaCapacity = expanded.reduce((n, s) => n + (s.capacity ?? 0), 0);
      return venueOut(layout, body.name.trim(), gaCapacity);
    },

    async getVenue(id: string) {
      const venue = await repo.findVenue(id);
      if (!venue) throw notFound('Venue');
      return venueOut(await layoutOf(id), venue.name, venue.ga_capacity);
    },

    async listVenues() {
      const venues = await repo.listVenues();
      const sections = await repo.sectionsOf(venues.map((v) => v.id));
      return venues.map((v) => ({
        id: v.id,
        name: v.name,
        seatCount: v.seat_count,
        gaCapacity: v.ga_capacity,
        sections: sections
          .filter((s) => s.venue_id === v.id)
          .map((s) => ({ id: s.id, name: s.name, kind: s.kind, capacity: s.capacity ?? 0 })),
      }));
    },

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
      await transaction(async (tx) => {
        await tx.updateEvent(id, changes, prices !== undefined);
        if (prices) await tx.replacePrices(id, prices);
      });
      warmSeatmap(id);
      return loadDetail(id);
    },

    async listEvents(): Promise<EventSummary[]> {
      const rows = await repo.listEvents(500);
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

    /** The seat map of an event at its current version, serialised once and kept in memory. */
    async seatmap(eventId: string): Promise<SeatmapEntry> {
      const row = await seatmapRow(eventId);
      if (!row) throw notFound('Event');
      const key = `${eventId}:${row.seatmap_version}`;
      const cached = seatmaps.get(key);
      if (cached) return cached;
      const [layout, prices] = await Promise.all([layoutOf(row.venue_id), repo.pricesOf([eventId])]);
      const priceOf = new Map(prices.map((p) => [p.section_id, { amount: p.amount, currency: p.currency }]));
      const body = {
        eventId,
        version: row.seatmap_version,
        sections: layout.sections.map((s) =>
          s.kind === 'ga'
            ? { id: s.id, name: s.name, kind: s.kind, price: priceOf.get(s.id), capacity: s.capacity }
            : { id: s.id, name: s.name, kind: s.kind, price: priceOf.get(s.id), rows: s.rows },
        ),
      };
      const json = JSON.stringify(body);
      const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
      const entry = { etag, json, gzip: gzipSync(json, { level: 6 }) };
      seatmaps.set(key, entry);
      return entry;
    },
  };
  return service;
}
export type CatalogService = ReturnType<typeof createCatalogService>;
