// Live availability: the SSE stream's snapshot, then deltas; polling every 2 s if the stream fails.
import { api, type Availability } from '../api.ts';
import { decodeBitmap } from './canvas.ts';

export interface AvailabilityListener {
  snapshot(taken: Uint8Array, ga: Record<string, number>): void;
  delta(taken: number[], freed: number[], ga: Record<string, number> | undefined): void;
}

export function watchAvailability(eventId: string, seatCount: number, on: AvailabilityListener): () => void {
  let stopped = false;
  let poll: ReturnType<typeof setInterval> | undefined;
  const snapshot = (a: Availability) => !stopped && on.snapshot(decodeBitmap(a.unavailable, seatCount), a.ga);
  const startPolling = () => {
    if (poll || stopped) return;
    const load = () => api.get<Availability>(`/api/events/${eventId}/availability`).then(snapshot, () => undefined);
    void load();
    poll = setInterval(() => void load(), 2000);
  };
  let source: EventSource | undefined;
  if (typeof EventSource === 'undefined') startPolling();
  else {
    source = new EventSource(`/api/events/${eventId}/availability/stream`);
    source.addEventListener('snapshot', (e) => snapshot(JSON.parse((e as MessageEvent<string>).data) as Availability));
    source.addEventListener('delta', (e) => {
      if (stopped) return;
      const d = JSON.parse((e as MessageEvent<string>).data) as {
        taken?: number[];
        freed?: number[];
        ga?: Record<string, number>;
      };
      on.delta(d.taken ?? [], d.freed ?? [], d.ga);
    });
    source.addEventListener('error', () => {
      if (source?.readyState === EventSource.CLOSED) startPolling();
    });
  }
  return () => {
    stopped = true;
    source?.close();
    if (poll) clearInterval(poll);
  };
}
