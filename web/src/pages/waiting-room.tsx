import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type EventDetail, type QueueView, type RoomStatus } from '../api.ts';
import { ErrorBox, Notice, RequireUser, Title, useLoad } from '../components.tsx';
import { dateTime, duration } from '../format.ts';
import { admission, navigate, useNow } from '../state.ts';
import { followFromStatus, queuePollDelayMs } from '../../../src/modules/waiting-room/poll.ts';

/**
 * Live place in the waiting room: SSE `queue` events, falling back to polling (every 2–30 s, by
 * the expected wait: the public status while waiting, the own place when the turn may have come)
 * when the stream cannot be opened. Joining is idempotent per account, so a reload keeps the same place.
 */
function useQueue(eventId: string) {
  const [queue, setQueue] = useState<QueueView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState<'sse' | 'polling' | 'connecting'>('connecting');
  useEffect(() => {
    let stopped = false;
    let source: EventSource | undefined;
    let poll: ReturnType<typeof setTimeout> | undefined;
    let last: QueueView | null = null;
    const accept = (q: QueueView) => {
      if (stopped) return;
      last = q;
      setQueue(q);
      setError(null);
      if (q.admission) admission.set(eventId, q.admission.token);
    };
    let previous: { serving: number; at: number } | null = null;
    /**
     * While waiting with a number, the public status (cacheable, the same for everyone) tells the
     * place; the own place is read when the turn may have come, or at once when `own` is set.
     */
    const pollOnce = async (own = false) => {
      if (!own && last?.state === 'waiting' && last.number !== null) {
        const status = await api.get<RoomStatus>(`/api/events/${eventId}/queue/status`);
        const now = Date.now();
        const place = followFromStatus(last.number, status, now, previous);
        if (!previous || now - previous.at >= 1000) previous = { serving: status.serving, at: now };
        if (!place.turn) return accept({ ...last, position: place.position, etaSeconds: place.etaSeconds });
      }
      try {
        accept((await api.get<{ queue: QueueView }>(`/api/events/${eventId}/queue`)).queue);
      } catch (err) {
        // No place any more (lost with the server's hot state before it was saved): join again.
        if (!(err instanceof ApiError && err.status === 404)) throw err;
        accept((await api.send<{ queue: QueueView }>('POST', `/api/events/${eventId}/queue`)).queue);
      }
    };
    const startPolling = () => {
      if (poll || stopped) return;
      setLive('polling');
      // Often near the front, rarely far back: the delay follows the expected wait, spread at random.
      const next = () => {
        poll = setTimeout(
          () => {
            pollOnce()
              .catch(setError)
              .finally(() => {
                if (!stopped) next();
              });
          },
          queuePollDelayMs(last ?? { etaSeconds: 0 }),
        );
      };
      next();
    };
    api
      .send<{ queue: QueueView }>('POST', `/api/events/${eventId}/queue`)
      .then((r) => {
        accept(r.queue);
        if (stopped || typeof EventSource === 'undefined') return startPolling();
        source = new EventSource(`/api/events/${eventId}/queue/stream`);
        source.addEventListener('open', () => setLive('sse'));
        source.addEventListener('queue', (e) =>
          accept((JSON.parse((e as MessageEvent<string>).data) as { queue: QueueView }).queue),
        );
        source.addEventListener('error', () => {
          // EventSource retries by itself; if it has given up (the place may be gone: 404), read the
          // own place at once (joining again if it is gone), then poll.
          if (source?.readyState === EventSource.CLOSED) pollOnce(true).catch(setError).finally(startPolling);
        });
      })
      .catch(setError);
    return () => {
      stopped = true;
      source?.close();
      if (poll) clearTimeout(poll);
    };
  }, [eventId]);
  return { queue, error, live };
}

function Room({ id }: { id: string }) {
  const [event] = useLoad(() => api.get<{ event: EventDetail }>(`/api/events/${id}`), [id]);
  const [status, , reloadStatus] = useLoad(() => api.get<RoomStatus>(`/api/events/${id}/queue/status`), [id]);
  const { queue, error, live } = useQueue(id);
  const firstPosition = useRef<number | null>(null);
  const now = useNow();
  useEffect(() => {
    const t = setInterval(reloadStatus, 5000);
    return () => clearInterval(t);
  }, [id]);
  useEffect(() => {
    if (queue?.state !== 'admitted') return;
    const t = setTimeout(() => navigate(`/events/${id}/seats`), 1500);
    return () => clearTimeout(t);
  }, [queue?.state]);

  const position = queue?.position ?? null;
  if (position !== null && (firstPosition.current === null || position > firstPosition.current)) firstPosition.current = position;
  const start = firstPosition.current ?? 0;
  const progress =
    queue?.state === 'admitted' ? 100 : start > 0 && position !== null ? Math.round(((start - position) / start) * 100) : 0;

  return (
    <section class="mx-auto max-w-xl">
      <Title sub={event ? `${event.event.name} · ${event.event.venue.name}` : undefined}>Waiting room</Title>
      <Notice>
        <strong>Keep this page open.</strong> Your place belongs to your account: refreshing this page or coming back later keeps
        it.
      </Notice>
      <ErrorBox error={error} />
      {status?.state === 'paused' && (
        <Notice tone="warn">The organizer has paused the sale for a moment. Your place is kept.</Notice>
      )}
      {status?.state === 'sold_out' && queue?.state !== 'admitted' && (
        <Notice tone="warn">
          Every ticket is sold or in someone's basket right now. Your place is kept: if held tickets are not bought in time, they
          come back and the line moves again.
        </Notice>
      )}
      <div class="card" aria-live="polite">
        {!queue && <p role="status">Finding your place…</p>}
        {queue?.state === 'prequeue' && (
          <p class="text-lg">
            You are in. The sale opens{' '}
            {status ? `${dateTime(status.onSaleAt)} (in ${duration((Date.parse(status.onSaleAt) - now) / 1000)})` : 'soon'}; at
            that moment everyone already here gets a place in random order, so arriving early or late before then makes no
            difference.
          </p>
        )}
        {queue?.state === 'waiting' && (
          <>
            <p class="text-lg">
              <span class="text-slate-700">People ahead of you: </span>
              <strong class="text-3xl" data-testid="queue-position">
                {position?.toLocaleString('en-US')}
              </strong>
            </p>
            <p class="mt-1 text-slate-800">
              Estimated wait: <strong>{queue.etaSeconds === null ? 'unknown' : duration(queue.etaSeconds)}</strong>
            </p>
          </>
        )}
        {queue?.state === 'admitted' && (
          <>
            <p class="text-2xl font-bold text-green-800" data-testid="queue-admitted">
              It is your turn!
            </p>
            <p class="mt-1">Taking you to the seat map…</p>
            <p class="mt-3">
              <a class="btn" href={`/events/${id}/seats`}>
                Choose seats now
              </a>
            </p>
          </>
        )}
        {queue?.state === 'expired' && (
          <p class="text-lg text-red-900">
            Your turn ran out before you picked seats. Each account gets one turn per sale, so it cannot be taken again.
          </p>
        )}
        {queue?.state === 'left' && <p class="text-lg">You left this waiting room.</p>}
        {queue && queue.state !== 'prequeue' && (
          <div class="mt-4">
            <div
              role="progressbar"
              aria-label="Progress through the queue"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={progress}
              class="h-4 w-full overflow-hidden rounded-full bg-slate-200"
            >
              <div class="h-full rounded-full bg-blue-700 transition-all duration-700" style={{ width: `${progress}%` }} />
            </div>
            <p class="mt-1 text-sm text-slate-700">
              {queue.number !== null && `Your queue number: ${queue.number}. `}
              {live === 'sse' ? 'Updating live.' : live === 'polling' ? 'Updating every few seconds.' : 'Connecting…'}
            </p>
          </div>
        )}
      </div>
    </section>
  );
}

export function WaitingRoomPage({ id }: { id: string }) {
  return (
    <RequireUser>
      <Room id={id} />
    </RequireUser>
  );
}
