import type { FunctionComponent } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorBox, RequireUser, Title } from '../components.tsx';
import { navigate } from '../state.ts';

interface Draft {
  name: string;
  kind: 'seated' | 'ga';
  rows: number;
  seatsPerRow: number;
  capacity: number;
}

const blank = (n: number): Draft => ({ name: `Section ${n}`, kind: 'seated', rows: 10, seatsPerRow: 20, capacity: 500 });

function Form() {
  const [name, setName] = useState('');
  const [sections, setSections] = useState<Draft[]>([blank(1)]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (i: number, patch: Partial<Draft>) => setSections((all) => all.map((s, j) => (j === i ? { ...s, ...patch } : s)));
  const seats = sections.reduce((n, s) => n + (s.kind === 'seated' ? s.rows * s.seatsPerRow : s.capacity), 0);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = {
        name,
        sections: sections.map((s) =>
          s.kind === 'ga'
            ? { name: s.name, kind: 'ga', capacity: s.capacity }
            : { name: s.name, kind: 'seated', grid: { rows: s.rows, seatsPerRow: s.seatsPerRow } },
        ),
      };
      const { venue } = await api.send<{ venue: { id: string } }>('POST', '/api/venues', body);
      navigate(`/organizer/events/new?venue=${venue.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const num = (v: string) => Math.max(1, Math.floor(Number(v) || 1));
  return (
    <section class="mx-auto max-w-3xl">
      <Title sub="Seated sections are grids of rows A, B, C… with seats 1, 2, 3…; standing areas have a capacity.">
        Create a venue
      </Title>
      <form class="flex flex-col gap-4" onSubmit={(e) => void submit(e)}>
        <div class="card">
          <label class="label" for="venue-name">
            Venue name
          </label>
          <input
            class="input"
            id="venue-name"
            required
            maxLength={200}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </div>
        {sections.map((s, i) => (
          <fieldset key={i} class="card grid gap-3 sm:grid-cols-4">
            <legend class="font-bold">Section {i + 1}</legend>
            <div class="sm:col-span-2">
              <label class="label" for={`s${i}-name`}>
                Name
              </label>
              <input
                class="input"
                id={`s${i}-name`}
                required
                value={s.name}
                onInput={(e) => set(i, { name: e.currentTarget.value })}
              />
            </div>
            <div class="sm:col-span-2">
              <label class="label" for={`s${i}-kind`}>
                Kind
              </label>
              <select
                class="input"
                id={`s${i}-kind`}
                value={s.kind}
                onChange={(e) => set(i, { kind: e.currentTarget.value as Draft['kind'] })}
              >
                <option value="seated">Seated (grid)</option>
                <option value="ga">Standing (general admission)</option>
              </select>
            </div>
            {s.kind === 'seated' ? (
              <>
                <div>
                  <label class="label" for={`s${i}-rows`}>
                    Rows
                  </label>
                  <input
                    class="input"
                    id={`s${i}-rows`}
                    type="number"
                    min={1}
                    max={2000}
                    value={s.rows}
                    onInput={(e) => set(i, { rows: num(e.currentTarget.value) })}
                  />
                </div>
                <div>
                  <label class="label" for={`s${i}-seats`}>
                    Seats per row
                  </label>
                  <input
                    class="input"
                    id={`s${i}-seats`}
                    type="number"
                    min={1}
                    max={2000}
                    value={s.seatsPerRow}
                    onInput={(e) => set(i, { seatsPerRow: num(e.currentTarget.value) })}
                  />
                </div>
              </>
            ) : (
              <div>
                <label class="label" for={`s${i}-capacity`}>
                  Capacity
                </label>
                <input
                  class="input"
                  id={`s${i}-capacity`}
                  type="number"
                  min={1}
                  value={s.capacity}
                  onInput={(e) => set(i, { capacity: num(e.currentTarget.value) })}
                />
              </div>
            )}
            <div class="flex items-end">
              <button
                type="button"
                class="btn-secondary"
                disabled={sections.length === 1}
                onClick={() => setSections((all) => all.filter((_, j) => j !== i))}
              >
                Remove<span class="sr-only"> section {i + 1}</span>
              </button>
            </div>
          </fieldset>
        ))}
        <p class="flex flex-wrap items-center gap-3">
          <button type="button" class="btn-secondary" onClick={() => setSections((all) => [...all, blank(all.length + 1)])}>
            Add a section
          </button>
          <span class="text-slate-800">Capacity: {seats.toLocaleString('en-US')}</span>
        </p>
        <ErrorBox error={error} />
        <button class="btn self-start" type="submit" disabled={busy}>
          Create venue
        </button>
      </form>
    </section>
  );
}

export const VenueForm: FunctionComponent = () => (
  <RequireUser roles={['organizer', 'admin']}>
    <Form />
  </RequireUser>
);
