// Keyboard and screen-reader ways to pick seats: a per-section/row list of seats with checkboxes,
// the best-available picker and the general-admission quantity picker.
import { useState } from 'preact/hooks';
import type { Seatmap, SeatmapSection } from '../api.ts';
import { field, money } from '../format.ts';
import { FREE, MINE } from './canvas.ts';

export function SeatList({
  map,
  statusOf,
  checkedOf,
  onToggle,
  disabled,
}: {
  map: Seatmap;
  statusOf: (index: number) => number;
  /** Whether the seat's box is ticked: mine, or being asked for right now. */
  checkedOf: (index: number) => boolean;
  onToggle: (index: number) => void;
  disabled: boolean;
}) {
  const seated = map.sections.filter((s) => s.kind !== 'ga' && (s.rows?.length ?? 0) > 0);
  const [sectionId, setSectionId] = useState(seated[0]?.id ?? '');
  const section = seated.find((s) => s.id === sectionId) ?? seated[0];
  const [rowLabel, setRowLabel] = useState('');
  const row = section?.rows?.find((r) => r.label === rowLabel) ?? section?.rows?.[0];
  if (!section || !row) return null;
  const free = row.seats.filter((s) => statusOf(s.index) === FREE).length;
  return (
    <div class="flex flex-col gap-3">
      <div class="flex flex-wrap gap-3">
        <div>
          <label class="label" for="list-section">
            Section
          </label>
          <select
            id="list-section"
            class="input"
            value={section.id}
            onChange={(e) => {
              setSectionId(e.currentTarget.value);
              setRowLabel('');
            }}
          >
            {seated.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} · {money(s.price)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label class="label" for="list-row">
            Row
          </label>
          <select id="list-row" class="input" value={row.label} onChange={(e) => setRowLabel(e.currentTarget.value)}>
            {section.rows?.map((r) => (
              <option key={r.label} value={r.label}>
                Row {r.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <fieldset>
        <legend class="label">
          Seats in {section.name}, row {row.label} ({free} free)
        </legend>
        {/* Focusable so the keyboard can scroll it when every seat of the row is taken (none to tab to). */}
        <div
          class="flex max-h-56 flex-wrap gap-1 overflow-y-auto"
          role="group"
          tabIndex={0}
          aria-label={`Seats in row ${row.label}`}
        >
          {row.seats.map((seat) => {
            const st = statusOf(seat.index);
            const id = `seat-${seat.id}`;
            return (
              <label
                key={seat.id}
                for={id}
                class={`flex cursor-pointer items-center gap-1 rounded border px-2 py-1 text-sm ${
                  st === MINE
                    ? 'border-orange-700 bg-orange-100'
                    : st === FREE
                      ? 'border-slate-400 bg-white'
                      : 'border-slate-200 bg-slate-100 text-slate-600 line-through'
                }`}
              >
                <input
                  type="checkbox"
                  id={id}
                  data-seat-id={seat.id}
                  checked={checkedOf(seat.index)}
                  disabled={disabled || (st !== FREE && st !== MINE)}
                  onChange={() => onToggle(seat.index)}
                />
                <span>
                  <span class="sr-only">
                    {section.name} row {row.label} seat{' '}
                  </span>
                  {seat.label}
                  {st !== FREE && st !== MINE && <span class="sr-only"> (taken)</span>}
                </span>
              </label>
            );
          })}
        </div>
      </fieldset>
    </div>
  );
}

export function BestAvailable({
  sections,
  max,
  disabled,
  onPick,
}: {
  sections: SeatmapSection[];
  max: number;
  disabled: boolean;
  onPick: (quantity: number, section: string | undefined) => void;
}) {
  const seated = sections.filter((s) => s.kind !== 'ga');
  if (seated.length === 0) return null;
  return (
    <form
      class="flex flex-wrap items-end gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        onPick(Number(f.get('quantity')), field(f, 'section') || undefined);
      }}
    >
      <div>
        <label class="label" for="best-quantity">
          How many seats
        </label>
        <select id="best-quantity" name="quantity" class="input">
          {Array.from({ length: max }, (_, i) => (
            <option key={i} value={i + 1}>
              {i + 1}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label class="label" for="best-section">
          Where
        </label>
        <select id="best-section" name="section" class="input">
          <option value="">Best seats anywhere</option>
          {seated.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name} · {money(s.price)}
            </option>
          ))}
        </select>
      </div>
      <button class="btn" type="submit" disabled={disabled}>
        Find best seats
      </button>
    </form>
  );
}

export function GaPicker({
  section,
  remaining,
  max,
  disabled,
  onPick,
}: {
  section: SeatmapSection;
  remaining: number | undefined;
  max: number;
  disabled: boolean;
  onPick: (quantity: number) => void;
}) {
  const id = `ga-${section.id}`;
  return (
    <form
      class="flex flex-wrap items-end gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        onPick(Number(new FormData(e.currentTarget).get('quantity')));
      }}
    >
      <div>
        <label class="label" for={id}>
          {section.name}: standing, {money(section.price)} each —{' '}
          {remaining === undefined ? '…' : remaining.toLocaleString('en-US')} left
        </label>
        <select id={id} name="quantity" class="input">
          {Array.from({ length: max }, (_, i) => (
            <option key={i} value={i + 1}>
              {i + 1} {i === 0 ? 'place' : 'places'}
            </option>
          ))}
        </select>
      </div>
      <button class="btn" type="submit" disabled={disabled || remaining === 0}>
        Add standing places
      </button>
    </form>
  );
}
