import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../platform/errors.ts';
import { expandSections, rowLabel } from './catalog.layout.ts';
import type { SectionInput } from './catalog.schemas.ts';

/** Asserts that fn throws a 400 VALIDATION_FAILED naming this field, and returns the error. */
function assertInvalid(fn: () => unknown, field: string): AppError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AppError, `expected an AppError, got ${String(caught)}`);
  assert.equal(caught.status, 400);
  assert.equal(caught.code, 'VALIDATION_FAILED');
  const fields = (caught.details?.fields ?? []) as { field: string }[];
  assert.deepEqual(
    fields.map((f) => f.field),
    [field],
  );
  return caught;
}

const seated = (name: string, rows: { label: string; seats: string[] }[]): SectionInput => ({
  name,
  kind: 'seated',
  rows: rows.map((r) => ({ label: r.label, seats: r.seats.map((label, i) => ({ label, x: i, y: 0 })) })),
});

describe('rowLabel', () => {
  it('labels rows like spreadsheet columns: A…Z, then AA…ZZ, then AAA', () => {
    assert.equal(rowLabel(0), 'A');
    assert.equal(rowLabel(1), 'B');
    assert.equal(rowLabel(25), 'Z');
    assert.equal(rowLabel(26), 'AA');
    assert.equal(rowLabel(27), 'AB');
    assert.equal(rowLabel(51), 'AZ');
    assert.equal(rowLabel(52), 'BA');
    assert.equal(rowLabel(701), 'ZZ');
    assert.equal(rowLabel(702), 'AAA');
  });

  it('gives every row of the largest grid (2000 rows) a distinct label', () => {
    const labels = new Set(Array.from({ length: 2000 }, (_, i) => rowLabel(i)));
    assert.equal(labels.size, 2000);
  });
});

describe('expandSections', () => {
  it('expands a grid into rows A… and seats 1…, row by row', () => {
    const [section] = expandSections([{ name: 'Stalls', kind: 'seated', grid: { rows: 2, seatsPerRow: 3 } }]);
    assert.ok(section);
    assert.equal(section.kind, 'seated');
    assert.equal(section.capacity, null);
    assert.deepEqual(
      section.seats.map((s) => `${s.rowLabel}${s.label}@${s.x},${s.y}`),
      ['A1@0,0', 'A2@1,0', 'A3@2,0', 'B1@0,1', 'B2@1,1', 'B3@2,1'],
    );
  });

  it('stacks grid sections without an origin below the previous section, two rows apart', () => {
    const [first, second, third] = expandSections([
      { name: 'Stalls', kind: 'seated', grid: { rows: 5, seatsPerRow: 2 } },
      { name: 'Circle', kind: 'seated', grid: { rows: 2, seatsPerRow: 2 } },
      { name: 'Gods', kind: 'seated', grid: { rows: 1, seatsPerRow: 1, origin: { x: 100, y: 50 } } },
    ]);
    assert.deepEqual(
      first!.seats.map((s) => s.y),
      [0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
    );
    // Stalls end at y = 4, so Circle starts at 4 + 2.
    assert.deepEqual(
      second!.seats.map((s) => s.y),
      [6, 6, 7, 7],
    );
    // An explicit origin is used as it is.
    assert.deepEqual(third!.seats, [{ rowLabel: 'A', label: '1', x: 100, y: 50 }]);
  });

  it('stacks a grid below explicit rows too', () => {
    const [, grid] = expandSections([
      { name: 'Box', kind: 'seated', rows: [{ label: 'K', seats: [{ label: '1', x: 0, y: 10 }] }] },
      { name: 'Stalls', kind: 'seated', grid: { rows: 1, seatsPerRow: 1 } },
    ]);
    assert.equal(grid!.seats[0]!.y, 12);
  });

  it('keeps explicit rows and seats in the given order with their labels and coordinates', () => {
    const [section] = expandSections([
      {
        name: 'Box',
        kind: 'seated',
        rows: [
          {
            label: 'K',
            seats: [
              { label: '7', x: 1.5, y: 2 },
              { label: '3', x: 0.5, y: 2 },
            ],
          },
          { label: 'J', seats: [{ label: '1', x: 1, y: 1 }] },
        ],
      },
    ]);
    assert.deepEqual(section!.seats, [
      { rowLabel: 'K', label: '7', x: 1.5, y: 2 },
      { rowLabel: 'K', label: '3', x: 0.5, y: 2 },
      { rowLabel: 'J', label: '1', x: 1, y: 1 },
    ]);
  });

  it('turns a GA section into a capacity without seats, and trims names', () => {
    const [ga] = expandSections([{ name: '  Standing  ', kind: 'ga', capacity: 250 }]);
    assert.deepEqual(ga, { name: 'Standing', kind: 'ga', capacity: 250, seats: [] });
  });

  it('accepts the same row and seat labels in different sections and rows', () => {
    const sections = expandSections([
      seated('Left', [
        { label: 'A', seats: ['1', '2'] },
        { label: 'B', seats: ['1', '2'] },
      ]),
      seated('Right', [{ label: 'A', seats: ['1', '2'] }]),
    ]);
    assert.equal(
      sections.reduce((n, s) => n + s.seats.length, 0),
      6,
    );
  });

  it('refuses a repeated row label within a section', () => {
    assertInvalid(
      () =>
        expandSections([
          seated('Stalls', [
            { label: 'A', seats: ['1'] },
            { label: 'A', seats: ['2'] },
          ]),
        ]),
      'body.sections.0.rows.1.label',
    );
  });

  it('refuses a repeated seat label within a row', () => {
    assertInvalid(
      () => expandSections([seated('Stalls', [{ label: 'A', seats: ['1', '2', '1'] }])]),
      'body.sections.0.rows.0.seats.2.label',
    );
  });

  it('refuses a repeated section name, ignoring case and surrounding spaces', () => {
    assertInvalid(
      () =>
        expandSections([
          { name: 'Stalls', kind: 'ga', capacity: 10 },
          { name: ' stalls ', kind: 'seated', grid: { rows: 1, seatsPerRow: 1 } },
        ]),
      'body.sections.1.name',
    );
  });

  it('refuses a seated section with neither rows nor grid, with no rows, or with an empty row', () => {
    assertInvalid(() => expandSections([{ name: 'Empty', kind: 'seated' }]), 'body.sections.0');
    assertInvalid(() => expandSections([{ name: 'Empty', kind: 'seated', rows: [] }]), 'body.sections.0');
    assertInvalid(
      () =>
        expandSections([
          seated('Stalls', [
            { label: 'A', seats: ['1'] },
            { label: 'B', seats: [] },
          ]),
        ]),
      'body.sections.0.rows.1.seats',
    );
  });

  it('refuses a seated section with both rows and a grid', () => {
    assertInvalid(
      () =>
        expandSections([
          {
            name: 'Both',
            kind: 'seated',
            grid: { rows: 1, seatsPerRow: 1 },
            rows: [{ label: 'A', seats: [{ label: '1', x: 0, y: 0 }] }],
          },
        ]),
      'body.sections.0',
    );
  });

  it('refuses a GA section without a capacity, or with rows or a grid', () => {
    assertInvalid(() => expandSections([{ name: 'Floor', kind: 'ga' }]), 'body.sections.0.capacity');
    assertInvalid(
      () => expandSections([{ name: 'Floor', kind: 'ga', capacity: 5, grid: { rows: 1, seatsPerRow: 1 } }]),
      'body.sections.0',
    );
  });

  it('refuses a capacity on a seated section', () => {
    assertInvalid(
      () => expandSections([{ name: 'Stalls', kind: 'seated', capacity: 5, grid: { rows: 1, seatsPerRow: 1 } }]),
      'body.sections.0.capacity',
    );
  });

  it('accepts exactly 200,000 seats and refuses 200,001, naming the section that goes over', () => {
    const atLimit = expandSections([
      { name: 'A', kind: 'seated', grid: { rows: 2000, seatsPerRow: 50 } },
      { name: 'B', kind: 'seated', grid: { rows: 2000, seatsPerRow: 50 } },
    ]);
    assert.equal(
      atLimit.reduce((n, s) => n + s.seats.length, 0),
      200_000,
    );
    assertInvalid(
      () =>
        expandSections([
          { name: 'A', kind: 'seated', grid: { rows: 2000, seatsPerRow: 100 } },
          { name: 'B', kind: 'seated', grid: { rows: 1, seatsPerRow: 1 } },
        ]),
      'body.sections.1',
    );
  });

  it('counts explicit rows towards the seat limit before expanding anything', () => {
    const err = assertInvalid(
      () =>
        expandSections([
          { name: 'Huge', kind: 'seated', grid: { rows: 2000, seatsPerRow: 2000 } },
          { name: 'Box', kind: 'seated', rows: [{ label: 'A', seats: [{ label: '1', x: 0, y: 0 }] }] },
        ]),
      'body.sections.0',
    );
    assert.match(err.message, /200,000 seats/);
  });
});
