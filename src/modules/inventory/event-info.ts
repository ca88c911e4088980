import { AppError } from '../../platform/errors.ts';
import type { EventRow, VenueLayout } from '../catalog/index.ts';
import type { BaRow, BaSection } from './best-available.ts';
import type { InventoryRepository } from './inventory.repository.ts';

export interface Money {
  amount: number;
  currency: string;
}
export interface SeatInfo {
  id: string;
  index: number;
  label: string;
  row: string;
  sectionId: string;
  section: string;
}
export interface GaSectionInfo {
  id: string;
  name: string;
  capacity: number;
}

/** What the inventory needs to know about one event, indexed for the hot path. */
export interface EventInfo {
  row: EventRow;
  seatCount: number;
  seatsById: Map<string, SeatInfo>;
  seatsByIndex: SeatInfo[];
  gaSections: Map<string, GaSectionInfo>;
  /** Seated and GA sections by id and by lower-case name. */
  sectionByKey: Map<string, { id: string; name: string; kind: 'seated' | 'ga' }>;
  prices: Map<string, Money>;
  currency: string;
  /** Seated sections for best-available, with their prices. */
  ba: BaSection[];
}

export interface EventInfoSource {
  eventRow(id: string): Promise<EventRow>;
  layoutOf(venueId: string): Promise<VenueLayout>;
}

/** Event rows are re-read this often, so a PATCH (sale window, limits) applies within a second. */
const ROW_TTL_MS = 1000;
/** How long a stale entry may be served while its refresh fails or has not answered. */
const STALE_LIMIT_MS = 10_000;

/** A row for best-available; `first` when its seat indexes run on without a gap (see BaRow). */
function baRow(label: string, seats: readonly { index: number; x: number }[]): BaRow {
  const row: BaRow = { label, seats: seats.map((s) => ({ index: s.index, x: s.x })) };
  const first = seats[0]?.index;
  if (first !== undefined && seats.every((s, i) => s.index === first + i)) row.first = first;
  return row;
}

function index(
  row: EventRow,
  layout: VenueLayout,
  priceRows: { section_id: string; amount: number; currency: string }[],
): EventInfo {
  const prices = new Map(priceRows.map((p) => [p.section_id, { amount: p.amount, currency: p.currency }]));
  const seatsById = new Map<string, SeatInfo>();
  const seatsByIndex = new Array<SeatInfo>(layout.seatCount);
  const gaSections = new Map<string, GaSectionInfo>();
  const sectionByKey = new Map<string, { id: string; name: string; kind: 'seated' | 'ga' }>();
  const ba: BaSection[] = [];
  layout.sections.forEach((section, order) => {
    const key = { id: section.id, name: section.name, kind: section.kind };
    sectionByKey.set(section.id, key);
    sectionByKey.set(section.name.toLowerCase(), key);
    if (section.kind === 'ga') {
      gaSections.set(section.id, { id: section.id, name: section.name, capacity: section.capacity ?? 0 });
      return;
    }
    ba.push({
      id: section.id,
      name: section.name,
      price: prices.get(section.id)?.amount ?? 0,
      order,
      rows: section.rows.map((r) => baRow(r.label, r.seats)),
    });
    for (const r of section.rows) {
      for (const s of r.seats) {
        const seat = { id: s.id, index: s.index, label: s.label, row: r.label, sectionId: section.id, section: section.name };
        seatsById.set(s.id, seat);
        seatsByIndex[s.index] = seat;
      }
    }
  });
  return {
    row,
    seatCount: layout.seatCount,
    seatsById,
    seatsByIndex,
    gaSections,
    sectionByKey,
    prices,
    currency: priceRows[0]?.currency ?? 'USD',
    ba,
  };
}

/**
 * Per-process cache of event info: the row is re-read every second (one indexed query), the
 * seat index is rebuilt only when the venue or the seat map version (prices) changes.
 */
export function createEventInfoCache(
  source: EventInfoSource,
  repo: InventoryRepository,
  now: () => number = Date.now,
  onRefreshError: (err: unknown, eventId: string) => void = () => undefined,
) {
  const entries = new Map<string, { info: EventInfo; at: number }>();
  const inflight = new Map<string, Promise<EventInfo>>();

  async function load(eventId: string): Promise<EventInfo> {
    let row: EventRow;
    try {
      row = await source.eventRow(eventId);
    } catch (err) {
      // A deleted event is forgotten at once; a database blip keeps serving the entry (up to STALE_LIMIT_MS).
      if (err instanceof AppError && err.code === 'NOT_FOUND') entries.delete(eventId);
      throw err;
    }
    const previous = entries.get(eventId)?.info;
    if (previous && previous.row.venue_id === row.venue_id && previous.row.seatmap_version === row.seatmap_version) {
      const info = { ...previous, row };
      entries.set(eventId, { info, at: now() });
      return info;
    }
    const [layout, priceRows] = await Promise.all([source.layoutOf(row.venue_id), repo.pricesOf(eventId)]);
    const info = index(row, layout, priceRows);
    entries.set(eventId, { info, at: now() });
    if (entries.size > 256) entries.delete(entries.keys().next().value as string);
    return info;
  }

  function refresh(eventId: string): Promise<EventInfo> {
    let pending = inflight.get(eventId);
    if (!pending) {
      pending = load(eventId).finally(() => inflight.delete(eventId));
      inflight.set(eventId, pending);
    }
    return pending;
  }

  return {
    /**
     * The event's info. Past ROW_TTL_MS the entry is still served while one read refreshes it in
     * the background, so requests never queue behind the database once a second; past
     * STALE_LIMIT_MS (the database has not answered for that long) requests wait for the read.
     */
    async get(eventId: string): Promise<EventInfo> {
      const entry = entries.get(eventId);
      const age = entry ? now() - entry.at : Infinity;
      if (entry && age < ROW_TTL_MS) return entry.info;
      if (entry && age < STALE_LIMIT_MS) {
        refresh(eventId).catch((err: unknown) => onRefreshError(err, eventId));
        return entry.info;
      }
      return refresh(eventId);
    },
  };
}
