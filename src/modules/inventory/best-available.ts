/**
 * Best-available seat selection: pure logic over the layout and the availability bitmap.
 * The service holds the chosen seats atomically and chooses again if someone was faster.
 */

export interface BaSeat {
  index: number;
  x: number;
}
export interface BaRow {
  label: string;
  seats: BaSeat[];
  /**
   * Set when the row's seat indexes are first, first + 1, … in seat order (as the seat map
   * numbers them): a caller can then bound the row's free seats from the bitmap in a few steps.
   */
  first?: number;
}

/**
 * At most how many of the seats first … first + count - 1 can be free (an upper bound is
 * enough: a row is passed over only when it cannot hold the block).
 */
export type FreeAtMost = (first: number, count: number) => number;
export interface BaSection {
  id: string;
  name: string;
  price: number;
  /** Position in the venue: the tie-breaker between sections of equal price. */
  order: number;
  rows: BaRow[];
}

export interface BaChoice {
  sectionId: string;
  rowLabel: string;
  indexes: number[];
}

interface Candidate {
  row: number;
  start: number;
  orphans: number;
  offCentre: number;
}

/**
 * Chooses `quantity` adjacent seats in one row: in the best-priced section that can fit them
 * (most expensive first, venue order between equals), avoiding a single orphan seat left next
 * to the block where another block in that section avoids it, then the frontmost row, then
 * nearest the row's centre. Rows are front-first in layout order; seats adjacent when they
 * are neighbours in the row's seat order.
 *
 * `freeAtMost` (optional) lets the walk pass over a row with a `first` index that cannot hold
 * `quantity` seats without asking `isTaken` seat by seat: late in a sale most rows are full, and
 * a sold-out venue was walked seat by seat on every request.
 */
export function chooseBestAvailable(
  sections: BaSection[],
  isTaken: (index: number) => boolean,
  quantity: number,
  freeAtMost?: FreeAtMost,
): BaChoice | undefined {
  if (quantity < 1) return undefined;
  const ordered = [...sections].sort((a, b) => b.price - a.price || a.order - b.order);
  for (const section of ordered) {
    const best = bestInSection(section, isTaken, quantity, freeAtMost);
    if (best) {
      const row = section.rows[best.row]!;
      return {
        sectionId: section.id,
        rowLabel: row.label,
        indexes: row.seats.slice(best.start, best.start + quantity).map((s) => s.index),
      };
    }
  }
  return undefined;
}

/** Whether the row can be passed over: fewer than `quantity` of its seats can be free. */
export function rowCannotHold(row: BaRow, quantity: number, freeAtMost: FreeAtMost | undefined): boolean {
  if (row.seats.length < quantity) return true;
  return freeAtMost !== undefined && row.first !== undefined && freeAtMost(row.first, row.seats.length) < quantity;
}

function bestInSection(
  section: BaSection,
  isTaken: (index: number) => boolean,
  quantity: number,
  freeAtMost: FreeAtMost | undefined,
): Candidate | undefined {
  let best: Candidate | undefined;
  for (let r = 0; r < section.rows.length; r++) {
    // Fewest orphans first, then the front row: once a block leaving no orphan is found, no block
    // in a later row can beat it, so the walk stops there (in a busy sale, within a few rows).
    if (best?.orphans === 0) break;
    const row = section.rows[r]!;
    if (rowCannotHold(row, quantity, freeAtMost)) continue;
    const centre = rowCentre(row);
    let runStart = -1;
    // Walk the row once, closing a run of free seats at every taken seat and at the row's end.
    for (let i = 0; i <= row.seats.length; i++) {
      const free = i < row.seats.length && !isTaken(row.seats[i]!.index);
      if (free) {
        if (runStart < 0) runStart = i;
        continue;
      }
      if (runStart < 0) continue;
      const runEnd = i - 1;
      for (let s = runStart; s + quantity - 1 <= runEnd; s++) {
        const left = s - runStart;
        const right = runEnd - (s + quantity - 1);
        const orphans = (left === 1 ? 1 : 0) + (right === 1 ? 1 : 0);
        // Only a block at least as good on orphans and row can win on its distance from the centre.
        if (best && (orphans > best.orphans || (orphans === best.orphans && best.row < r))) continue;
        const candidate: Candidate = { row: r, start: s, orphans, offCentre: Math.abs(blockCentre(row, s, quantity) - centre) };
        if (!best || better(candidate, best)) best = candidate;
      }
      runStart = -1;
    }
  }
  return best;
}

function better(a: Candidate, b: Candidate): boolean {
  if (a.orphans !== b.orphans) return a.orphans < b.orphans;
  if (a.row !== b.row) return a.row < b.row;
  return a.offCentre < b.offCentre - 1e-9;
}

function rowCentre(row: BaRow): number {
  const first = row.seats[0]!.x;
  const last = row.seats[row.seats.length - 1]!.x;
  return (first + last) / 2;
}

function blockCentre(row: BaRow, start: number, quantity: number): number {
  return (row.seats[start]!.x + row.seats[start + quantity - 1]!.x) / 2;
}
