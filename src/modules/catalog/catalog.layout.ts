import { invalidField as invalid } from './catalog.errors.ts';
import { MAX_VENUE_SEATS, type SectionInput } from './catalog.schemas.ts';

/** A venue's layout as stored: sections in order, seats in bitmap order. */
export interface LayoutSeat {
  rowLabel: string;
  label: string;
  x: number;
  y: number;
}
export interface LayoutSection {
  name: string;
  kind: 'seated' | 'ga';
  capacity: number | null;
  /** Seats in this section, row by row, seat by seat; their venue-wide index is their place in the venue. */
  seats: LayoutSeat[];
}

/** Spreadsheet-style row labels: A…Z, AA, AB, … */
export function rowLabel(index: number): string {
  let label = '';
  let n = index + 1;
  while (n > 0) {
    const rem = (n - 1) % 26;
    label = String.fromCharCode(65 + rem) + label;
    n = Math.floor((n - 1) / 26);
  }
  return label;
}

/**
 * Turns the request's sections into a layout, or explains in a 400 what is wrong with them:
 * duplicate names and labels, empty sections, a section that is both grid and rows, too many seats.
 * Grid sections without an origin are stacked below the previous section.
 */
export function expandSections(sections: SectionInput[]): LayoutSection[] {
  let total = 0;
  for (const [i, s] of sections.entries()) {
    if (s.kind === 'seated' && s.grid) total += s.grid.rows * s.grid.seatsPerRow;
    if (s.kind === 'seated' && s.rows) total += s.rows.reduce((n, r) => n + r.seats.length, 0);
    if (total > MAX_VENUE_SEATS) {
      throw invalid(`body.sections.${i}`, `brings the venue over ${MAX_VENUE_SEATS.toLocaleString('en')} seats`);
    }
  }

  const names = new Set<string>();
  let nextY = 0;
  return sections.map((s, i) => {
    const at = `body.sections.${i}`;
    const key = s.name.trim().toLowerCase();
    if (names.has(key)) throw invalid(`${at}.name`, `repeats the section name "${s.name}"`);
    names.add(key);

    if (s.kind === 'ga') {
      if (s.capacity === undefined) throw invalid(`${at}.capacity`, 'is required for a GA section');
      if (s.rows || s.grid) throw invalid(at, 'is a GA section and cannot have rows or a grid');
      return { name: s.name.trim(), kind: 'ga', capacity: s.capacity, seats: [] };
    }
    if (s.capacity !== undefined) throw invalid(`${at}.capacity`, 'is only for GA sections');
    if (s.rows && s.grid) throw invalid(at, 'has both rows and grid; give one');
    const seats: LayoutSeat[] = [];
    if (s.grid) {
      const ox = s.grid.origin?.x ?? 0;
      const oy = s.grid.origin?.y ?? nextY;
      for (let r = 0; r < s.grid.rows; r++) {
        const label = rowLabel(r);
        for (let n = 0; n < s.grid.seatsPerRow; n++) seats.push({ rowLabel: label, label: String(n + 1), x: ox + n, y: oy + r });
      }
    } else if (s.rows) {
      const rowLabels = new Set<string>();
      for (const [r, row] of s.rows.entries()) {
        if (rowLabels.has(row.label)) throw invalid(`${at}.rows.${r}.label`, `repeats row "${row.label}"`);
        rowLabels.add(row.label);
        if (row.seats.length === 0) throw invalid(`${at}.rows.${r}.seats`, 'is empty');
        const seatLabels = new Set<string>();
        for (const [n, seat] of row.seats.entries()) {
          if (seatLabels.has(seat.label)) {
            throw invalid(`${at}.rows.${r}.seats.${n}.label`, `repeats seat "${seat.label}" in row "${row.label}"`);
          }
          seatLabels.add(seat.label);
          seats.push({ rowLabel: row.label, label: seat.label, x: seat.x, y: seat.y });
        }
      }
    }
    if (seats.length === 0) throw invalid(at, 'has no seats');
    nextY = Math.max(nextY, maxY(seats) + 2);
    return { name: s.name.trim(), kind: 'seated', capacity: null, seats };
  });
}

function maxY(seats: LayoutSeat[]): number {
  let max = -Infinity;
  for (const seat of seats) if (seat.y > max) max = seat.y;
  return max;
}
