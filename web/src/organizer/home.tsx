import type { FunctionComponent } from 'preact';
import { api, type EventSummary } from '../api.ts';
import { ErrorBox, Loading, Notice, RequireUser, Title, useLoad } from '../components.tsx';
import { dateTime } from '../format.ts';

function List() {
  // Your own events (an admin sees everyone's), those to come first.
  const [data, error] = useLoad(() => api.get<{ events: EventSummary[] }>('/api/admin/events'), []);
  return (
    <section>
      <Title sub="Create venues and events, then watch the sale live.">Organizer</Title>
      <p class="mb-4 flex flex-wrap gap-3">
        <a class="btn" href="/organizer/events/new">
          Create an event
        </a>
        <a class="btn-secondary" href="/organizer/venues/new">
          Create a venue
        </a>
        <a class="btn-secondary" href="/organizer/venues">
          Venues
        </a>
      </p>
      <ErrorBox error={error} />
      {!data && !error && <Loading />}
      {data && data.events.length === 0 && <Notice>No events yet: create a venue, then an event in it.</Notice>}
      <div class="relative overflow-x-auto">
        <table class="w-full min-w-[32rem] bg-white text-left">
          <thead>
            <tr class="border-b border-slate-300">
              <th scope="col" class="p-2">
                Event
              </th>
              <th scope="col" class="p-2">
                Starts
              </th>
              <th scope="col" class="p-2">
                Status
              </th>
              <th scope="col" class="p-2">
                Actions
              </th>
            </tr>
          </thead>
          <tbody>
            {data?.events.map((e) => (
              <tr key={e.id} class="border-b border-slate-200">
                <td class="p-2">
                  {e.name}
                  <div class="text-sm text-slate-700">{e.venue.name}</div>
                </td>
                <td class="p-2">{dateTime(e.startsAt)}</td>
                <td class="p-2">{e.status.replace('_', ' ')}</td>
                <td class="p-2">
                  <a class="link mr-3" href={`/organizer/events/${e.id}`}>
                    Dashboard<span class="sr-only"> of {e.name}</span>
                  </a>
                  <a class="link" href={`/organizer/events/${e.id}/edit`}>
                    Edit<span class="sr-only"> {e.name}</span>
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export const OrganizerHome: FunctionComponent = () => (
  <RequireUser roles={['organizer', 'admin']}>
    <List />
  </RequireUser>
);
