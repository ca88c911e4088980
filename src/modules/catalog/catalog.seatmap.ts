import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Clock } from '../../platform/clock.ts';
import { notFound } from '../../platform/errors.ts';
import { boundedCache } from './catalog.cache.ts';
import type { CatalogRepository, EventRow } from './catalog.repository.ts';
import type { VenueLayout } from './catalog.venues.ts';

/** The seat map body, serialised once per (event, version) and served from memory. */
export interface SeatmapEntry {
  etag: string;
  json: string;
  gzip: Buffer;
}

/** How long the seat map trusts the event row it read (its version), and for how many events at most. */
const SEATMAP_ROW_TTL_MS = 1000;
const SEATMAP_ROWS_KEPT = 1000;

export interface SeatmapDeps {
  repo: CatalogRepository;
  clock: Clock;
  layoutOf: (venueId: string) => Promise<VenueLayout>;
}

/** Serves each event's seat map, built from its venue's layout and its prices. */
export function createSeatmaps({ repo, clock, layoutOf }: SeatmapDeps) {
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

  /** The seat map of an event at its current version, serialised once and kept in memory. */
  async function seatmap(eventId: string): Promise<SeatmapEntry> {
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
  }

  /**
   * Builds the new seat map version in the background, so the first buyer to open a large map
   * does not wait for it to be serialised (a 50,000-seat map takes most of a second).
   */
  function warmSeatmap(eventId: string) {
    seatmapRows.delete(eventId);
    setImmediate(() => {
      seatmap(eventId).catch(() => undefined);
    });
  }

  return { seatmap, warmSeatmap };
}
