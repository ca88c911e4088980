import { newId, newIds } from '../../platform/crypto.ts';
import { forbidden, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/index.ts';
import { boundedCache } from './catalog.cache.ts';
import { expandSections } from './catalog.layout.ts';
import type { CatalogRepository, SeatRow, SectionRow } from './catalog.repository.ts';
import type { VenueBody } from './catalog.schemas.ts';

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
function venueOut(layout: VenueLayout, name: string, ownerId: string, gaCapacity: number) {
  return {
    id: layout.venueId,
    name,
    ownerId,
    seatCount: layout.seatCount,
    gaCapacity,
    sections: layout.sections.map((s) =>
      s.kind === 'ga'
        ? { id: s.id, name: s.name, kind: s.kind, capacity: s.capacity ?? 0 }
        : { id: s.id, name: s.name, kind: s.kind, rows: s.rows },
    ),
  };
}

export interface VenueDeps {
  repo: CatalogRepository;
  /** Runs fn with a repository bound to one transaction. */
  transaction: <T>(fn: (repo: CatalogRepository) => Promise<T>) => Promise<T>;
}

/**
 * Venues and their layouts: what events are sold on. A venue's layout never changes once created
 * (tickets, orders and seat maps name its seats); its name may be corrected.
 */
export function createVenueCatalog({ repo, transaction }: VenueDeps) {
  const layouts = boundedCache<VenueLayout>(8);

  /** The venue, if `principal` may change it and read its log: the organizer who created it, or an admin. */
  async function ownVenue(principal: Principal, venueId: string) {
    const venue = await repo.findVenue(venueId);
    if (!venue) throw notFound('Venue');
    if (principal.role !== 'admin' && principal.userId !== venue.owner_id) {
      throw forbidden('Only the organizer who created this venue, or an admin, may change it or read its log');
    }
    return venue;
  }

  async function layoutOf(venueId: string): Promise<VenueLayout> {
    const cached = layouts.get(venueId);
    if (cached) return cached;
    const [sections, seats] = await Promise.all([repo.sectionsOf([venueId]), repo.seatsOf(venueId)]);
    const layout = buildLayout(venueId, sections, seats);
    layouts.set(venueId, layout);
    return layout;
  }

  return {
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
      const gaCapacity = expanded.reduce((n, s) => n + (s.capacity ?? 0), 0);
      await transaction(async (tx) => {
        await tx.insertVenue({ id: venueId, name: body.name.trim(), ownerId: principal.userId, seatCount });
        await tx.insertSections(sections);
        await tx.insertSeats(venueId, seats);
        await tx.logVenue(principal.userId, 'venue.created', venueId, {
          name: body.name.trim(),
          seatCount,
          gaCapacity,
          sections: sections.length,
        });
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
      return venueOut(layout, body.name.trim(), principal.userId, gaCapacity);
    },

    async getVenue(id: string) {
      const venue = await repo.findVenue(id);
      if (!venue) throw notFound('Venue');
      return venueOut(await layoutOf(id), venue.name, venue.owner_id, venue.ga_capacity);
    },

    /**
     * PATCH /api/venues/:id: a new name (its creator or an admin), written with its audit line; a
     * name it already has changes nothing and writes no line.
     */
    async renameVenue(principal: Principal, id: string, name: string) {
      const venue = await ownVenue(principal, id);
      const wanted = name.trim();
      await transaction(async (tx) => {
        const previous = await tx.renameVenue(id, wanted);
        if (previous !== undefined && previous !== wanted) {
          await tx.logVenue(principal.userId, 'venue.renamed', id, { from: previous, to: wanted });
        }
      });
      return venueOut(await layoutOf(id), wanted, venue.owner_id, venue.ga_capacity);
    },

    /** Throws unless `principal` may read the venue's log (see `ownVenue`). */
    async mayControlVenue(principal: Principal, id: string): Promise<void> {
      await ownVenue(principal, id);
    },

    async listVenues() {
      const venues = await repo.listVenues();
      const sections = await repo.sectionsOf(venues.map((v) => v.id));
      return venues.map((v) => ({
        id: v.id,
        name: v.name,
        ownerId: v.owner_id,
        seatCount: v.seat_count,
        gaCapacity: v.ga_capacity,
        sections: sections
          .filter((s) => s.venue_id === v.id)
          .map((s) => ({ id: s.id, name: s.name, kind: s.kind, capacity: s.capacity ?? 0 })),
      }));
    },
  };
}
