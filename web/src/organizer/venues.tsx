import type { FunctionComponent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type AuditEntry, type User, type VenueSummary } from '../api.ts';
import { ErrorBox, Loading, Notice, RequireUser, Title, useLoad } from '../components.tsx';
import { dateTime } from '../format.ts';
import { userState } from '../state.ts';

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** "74 seats, 100 standing": what a venue holds. */
function places(seatCount: number, gaCapacity: number): string {
  const parts = [
    seatCount > 0 ? count(seatCount, 'seat') : '',
    gaCapacity > 0 ? `${gaCapacity.toLocaleString('en-US')} standing` : '',
  ];
  return parts.filter(Boolean).join(', ') || 'no places';
}

/** A line of a venue's log in words: "ana@… renamed the venue from "Old Hall" to "New Hall"." */
function venueLine(e: AuditEntry): string {
  const actor = e.actor?.email ?? 'TicketMax';
  const d = e.details;
  if (e.action === 'venue.created') {
    return `${actor} created the venue "${String(d.name)}" (${places(Number(d.seatCount), Number(d.gaCapacity))}).`;
  }
  if (e.action === 'venue.renamed') return `${actor} renamed the venue from "${String(d.from)}" to "${String(d.to)}".`;
  return `${actor}: ${e.action}.`;
}

/** Who created and renamed the venue, the newest 50 lines first; read again when `version` (its name) changes. */
function History({ id, version }: { id: string; version: string }) {
  const [data, error] = useLoad(() => api.get<{ entries: AuditEntry[] }>(`/api/venues/${id}/audit?limit=50`), [id, version]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="Loading the history" />;
  return (
    <>
      {data.entries.length === 0 && <p class="text-sm text-slate-700">Nothing recorded for this venue yet.</p>}
      <ul class="flex flex-col gap-1 text-sm" data-testid="venue-history">
        {data.entries.map((e) => (
          <li key={e.id}>
            <span class="text-slate-700">{dateTime(e.at)}</span> {venueLine(e)}
          </li>
        ))}
      </ul>
    </>
  );
}

function RenameForm({
  venue,
  onSaved,
  onCancel,
}: {
  venue: VenueSummary;
  onSaved: (name: string) => void;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState(venue.name);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api.send<{ venue: { name: string } }>('PATCH', `/api/venues/${venue.id}`, { name: draft });
      onSaved(res.venue.name);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const id = `venue-name-${venue.id}`;
  return (
    <form
      class="mt-3 flex flex-col gap-2"
      aria-label={`Rename ${venue.name}`}
      onSubmit={(e) => void submit(e)}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <div>
        <label class="label" for={id}>
          Venue name
        </label>
        <input
          ref={input}
          class="input"
          id={id}
          required
          maxLength={200}
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
        />
      </div>
      <ErrorBox error={error} />
      <p class="flex flex-wrap gap-3">
        <button class="btn" type="submit" disabled={busy}>
          Save<span class="sr-only"> the new name</span>
        </button>
        <button class="btn-secondary" type="button" onClick={onCancel}>
          Cancel<span class="sr-only"> renaming {venue.name}</span>
        </button>
      </p>
    </form>
  );
}

function VenueCard({ venue: initial, mayChange }: { venue: VenueSummary; mayChange: boolean }) {
  const [venue, setVenue] = useState(initial);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState('');
  const [history, setHistory] = useState(false);
  // Back on the Rename button once the form closes, so a keyboard user is not dropped at the top of the page.
  const renameButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  useEffect(() => {
    if (wasEditing.current && !editing) renameButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);

  const headingId = `venue-${venue.id}`;
  return (
    <li class="card" data-testid="venue" aria-labelledby={headingId}>
      <h2 id={headingId} class="text-lg font-bold text-slate-900">
        {venue.name}
      </h2>
      <p class="text-sm text-slate-800">
        {places(venue.seatCount, venue.gaCapacity)}
        {venue.sections.length > 0 && <> · {venue.sections.map((s) => s.name).join(', ')}</>}
      </p>
      <p role="status" class="text-sm text-green-800">
        {saved}
      </p>
      <p class="mt-2 flex flex-wrap items-center gap-3">
        <a class="link" href={`/organizer/events/new?venue=${venue.id}`}>
          New event here<span class="sr-only"> at {venue.name}</span>
        </a>
        {mayChange && !editing && (
          <button
            ref={renameButton}
            type="button"
            class="btn-secondary"
            onClick={() => {
              setSaved('');
              setEditing(true);
            }}
          >
            Rename<span class="sr-only"> {venue.name}</span>
          </button>
        )}
        {mayChange && (
          <button
            type="button"
            class="btn-secondary"
            aria-expanded={history}
            aria-controls={`${headingId}-history`}
            onClick={() => setHistory((open) => !open)}
          >
            History<span class="sr-only"> of {venue.name}</span>
          </button>
        )}
      </p>
      {editing && (
        <RenameForm
          venue={venue}
          onCancel={() => setEditing(false)}
          onSaved={(name) => {
            setVenue((v) => ({ ...v, name }));
            setSaved(`Saved: the venue is now called "${name}".`);
            setEditing(false);
          }}
        />
      )}
      {mayChange && (
        <div id={`${headingId}-history`} class="mt-3" hidden={!history}>
          {history && <History id={venue.id} version={venue.name} />}
        </div>
      )}
    </li>
  );
}

function List({ user }: { user: User }) {
  // Every venue: any organizer may put an event in one, but only its creator (or an admin) renames it.
  const [data, error] = useLoad(() => api.get<{ venues: VenueSummary[] }>('/api/venues'), []);
  return (
    <section>
      <Title sub="Every venue on TicketMax: start an event in any of them, and rename those you created.">Venues</Title>
      <p class="mb-4 flex flex-wrap gap-3">
        <a class="btn" href="/organizer/venues/new">
          Create a venue
        </a>
        <a class="btn-secondary" href="/organizer">
          Your events
        </a>
      </p>
      <ErrorBox error={error} />
      {!data && !error && <Loading />}
      {data && data.venues.length === 0 && (
        <Notice>
          No venues yet.{' '}
          <a class="link" href="/organizer/venues/new">
            Create a venue
          </a>
          , then events in it.
        </Notice>
      )}
      {data && data.venues.length > 0 && (
        <ul class="grid items-start gap-4 md:grid-cols-2">
          {data.venues.map((v) => (
            <VenueCard key={v.id} venue={v} mayChange={user.role === 'admin' || v.ownerId === user.id} />
          ))}
        </ul>
      )}
    </section>
  );
}

function Venues() {
  const user = userState.use();
  return user ? <List user={user} /> : <Loading />;
}

export const VenuesPage: FunctionComponent = () => (
  <RequireUser roles={['organizer', 'admin']}>
    <Venues />
  </RequireUser>
);
