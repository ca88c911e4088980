import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  admissionHeader,
  api,
  ApiError,
  type EventDetail,
  type Hold,
  idempotencyKey,
  type Order,
  type QueueView,
  type Seatmap,
} from '../api.ts';
import { ErrorBox, Loading, Notice, Title, useLoad } from '../components.tsx';
import { clock, money } from '../format.ts';
import { FREE, indexSeats, MINE, SeatCanvas, sectionColour, TAKEN } from '../seatmap/canvas.ts';
import { watchAvailability } from '../seatmap/live.ts';
import { BestAvailable, GaPicker, SeatList } from '../seatmap/pickers.tsx';
import { admission, navigate, useNow, userState } from '../state.ts';

declare global {
  interface Window {
    /** For tests and debugging: where a seat is drawn and what state it shows. */
    tmSeatmap?: {
      seatToClient(id: string): { x: number; y: number } | null;
      status(id: string): number | null;
      focus(id: string): void;
      drawStats(): { frames: number; totalMs: number; maxMs: number };
    };
  }
}

async function loadSeatmap(id: string) {
  performance.mark('tm-seatmap-start');
  const [event, map] = await Promise.all([
    api.get<{ event: EventDetail }>(`/api/events/${id}`),
    api.get<Seatmap>(`/api/events/${id}/seatmap`),
  ]);
  performance.mark('tm-seatmap-data');
  return { event: event.event, map, seats: indexSeats(map) };
}

/** The admission token of this tab's turn, refreshed from the waiting room (null: not admitted). */
function useAdmission(id: string) {
  const user = userState.use();
  const [token, setToken] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    if (user === undefined) return;
    if (user === null) return setToken(null);
    api.get<{ queue: QueueView }>(`/api/events/${id}/queue`).then(
      ({ queue }) => {
        if (queue.admission) admission.set(id, queue.admission.token);
        setToken(queue.admission?.token ?? null);
      },
      () => setToken(null),
    );
  }, [id, user]);
  return token;
}

export function SeatsPage({ id }: { id: string }) {
  const [data, loadError] = useLoad(() => loadSeatmap(id), [id]);
  const token = useAdmission(id);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const view = useRef<SeatCanvas | null>(null);
  const taken = useRef<Uint8Array>(new Uint8Array(0));
  const mine = useRef<Set<number>>(new Set());
  const [ga, setGa] = useState<Record<string, number>>({});
  const [hold, setHold] = useState<Hold | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [wanted, setWanted] = useState<Set<string> | null>(null);
  const [, setTick] = useState(0);
  const rerender = () => setTick((n) => n + 1);
  const orderKey = useRef(idempotencyKey());
  const now = useNow();
  const admitted = !!token;

  const statusOf = (i: number) => (mine.current.has(i) ? MINE : taken.current[i] ? TAKEN : FREE);

  useEffect(() => {
    if (!data || !canvasRef.current) return;
    const { seats } = data;
    taken.current = new Uint8Array(seats.count);
    const canvas = new SeatCanvas(canvasRef.current, seats, {
      onSeatClick: (i) => void toggleRef.current(i),
      onFirstFrame: () => {
        performance.mark('tm-seatmap-first-frame');
        performance.measure('tm-seatmap-first-frame', 'tm-seatmap-start', 'tm-seatmap-first-frame');
      },
    });
    view.current = canvas;
    window.tmSeatmap = {
      seatToClient: (sid) => (seats.byId.has(sid) ? canvas.seatToClient(seats.byId.get(sid)!) : null),
      status: (sid) => (seats.byId.has(sid) ? canvas.status[seats.byId.get(sid)!]! : null),
      focus: (sid) => seats.byId.has(sid) && canvas.focusSeat(seats.byId.get(sid)!),
      drawStats: () => ({ ...canvas.drawStats }),
    };
    const stop = watchAvailability(id, seats.count, {
      snapshot: (bits, g) => {
        taken.current = bits;
        canvas.setAll(Uint8Array.from(bits, (_, i) => statusOf(i)));
        setGa(g);
        rerender();
      },
      delta: (t, f, g) => {
        for (const i of t) taken.current[i] = 1;
        for (const i of f) taken.current[i] = 0;
        canvas.update([...t, ...f].map((i) => [i, statusOf(i)] as [number, number]));
        if (g) setGa((old) => ({ ...old, ...g }));
        rerender();
      },
    });
    return () => {
      stop();
      canvas.destroy();
      view.current = null;
      delete window.tmSeatmap;
    };
  }, [data]);

  function applyHold(h: Hold | null) {
    if (!data) return;
    const next = new Set((h?.seats ?? []).map((s) => data.seats.byId.get(s.id)).filter((i): i is number => i !== undefined));
    const changed = [...mine.current, ...next];
    mine.current = next;
    view.current?.update(changed.map((i) => [i, statusOf(i)] as [number, number]));
    setHold(h && (h.seats.length > 0 || h.ga.length > 0) ? h : null);
  }

  useEffect(() => {
    if (!token || !data) return;
    api.get<{ hold: Hold }>(`/api/events/${id}/hold`, admissionHeader(token)).then(
      (r) => applyHold(r.hold),
      () => applyHold(null),
    );
  }, [token, data]);

  async function change(body: object | null) {
    if (!token) return setError(new Error('Join the waiting room first: seats can be picked once it is your turn.'));
    setBusy(true);
    setError(null);
    try {
      if (body === null) {
        await api.send('DELETE', `/api/events/${id}/hold`, undefined, admissionHeader(token));
        applyHold(null);
      } else {
        applyHold((await api.send<{ hold: Hold }>('PUT', `/api/events/${id}/hold`, body, admissionHeader(token))).hold);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function toggle(i: number) {
    if (!data) return;
    const st = statusOf(i);
    if (st === TAKEN) return setError(new Error('That seat is already taken. Please pick a free one.'));
    const ids = new Set((hold?.seats ?? []).map((s) => s.id));
    const sid = data.seats.ids[i]!;
    if (ids.has(sid)) ids.delete(sid);
    else ids.add(sid);
    // The seat list shows the asked-for set at once, not a flicker back until the server answers.
    setWanted(ids);
    await change(ids.size === 0 ? null : { seats: [...ids] });
    setWanted(null);
  }
  const toggleRef = useRef(toggle);
  toggleRef.current = toggle;

  async function order() {
    const headers = { ...admissionHeader(token ?? undefined), 'idempotency-key': orderKey.current };
    return (await api.send<{ order: Order }>('POST', '/api/orders', { eventId: id }, headers)).order;
  }

  async function checkout() {
    setBusy(true);
    setError(null);
    try {
      let created: Order;
      try {
        created = await order();
      } catch (err) {
        // No hold on the server while this page shows one that has not run out: it was lost with
        // the server's hot state (a restart). Ask for the same seats again, then order once more.
        if (!(err instanceof ApiError && err.code === 'NO_HOLD') || !hold || Date.parse(hold.expiresAt) <= Date.now()) throw err;
        const again =
          hold.seats.length > 0
            ? { seats: hold.seats.map((seat) => seat.id) }
            : { ga: { section: hold.ga[0]!.sectionId, quantity: hold.ga[0]!.quantity } };
        const held = await api
          .send<{ hold: Hold }>('PUT', `/api/events/${id}/hold`, again, admissionHeader(token ?? undefined))
          .catch((refused: unknown) => {
            applyHold(null); // some of them were taken meanwhile: the map shows what is free now
            throw refused;
          });
        applyHold(held.hold);
        orderKey.current = idempotencyKey();
        created = await order();
      }
      navigate(`/checkout/${created.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'IDEMPOTENCY_KEY_REUSED') orderKey.current = idempotencyKey();
      setError(err);
      setBusy(false);
    }
  }

  // When the hold runs out the server frees its seats; ask once so the map stops calling them mine.
  const expired = !!hold && Date.parse(hold.expiresAt) <= now;
  useEffect(() => {
    if (!expired || !token) return;
    api.get<{ hold: Hold }>(`/api/events/${id}/hold`, admissionHeader(token)).then(
      (r) => applyHold(r.hold),
      () => {
        applyHold(null);
        setError(new ApiError(410, 'HOLD_EXPIRED', 'Hold expired'));
      },
    );
  }, [expired]);

  const legend = useMemo(() => data?.map.sections.map((s, i) => ({ s, colour: sectionColour(i) })) ?? [], [data]);
  if (loadError) return <ErrorBox error={loadError} />;
  const left = hold ? (Date.parse(hold.expiresAt) - now) / 1000 : 0;
  const max = data?.event.maxSeatsPerOrder ?? 6;

  return (
    <section>
      <Title sub={data ? `${data.event.venue.name} · up to ${max} tickets per order` : undefined}>
        {data ? data.event.name : 'Seat map'}
      </Title>
      {token === null && (
        <Notice tone="warn">
          You can look at the seat map, but picking seats needs your turn from the{' '}
          <a class="link" href={`/events/${id}/queue`}>
            waiting room
          </a>
          .
        </Notice>
      )}
      {!data && <Loading what="Loading the seat map" />}
      <div class="grid gap-4 lg:grid-cols-3">
        <div class="lg:col-span-2">
          <div class="relative">
            <canvas
              ref={canvasRef}
              tabIndex={0}
              aria-label="Seat map. Drag to move, scroll or pinch to zoom, arrow keys to move, plus and minus to zoom. Use the seat list below to pick seats with the keyboard."
              data-testid="seatmap"
              class="max-h-[60vh] min-h-64 w-full touch-none rounded-lg border border-slate-300 bg-slate-100"
              // As tall as the layout needs at this width (a wide stadium leaves no empty band on a phone).
              style={{ aspectRatio: data ? `${data.seats.width + 4} / ${data.seats.height + 4}` : '4 / 3' }}
            />
            <div class="absolute right-2 top-2 flex flex-col gap-1">
              <button type="button" class="btn-secondary px-3 py-1" aria-label="Zoom in" onClick={() => view.current?.zoom(1.5)}>
                +
              </button>
              <button
                type="button"
                class="btn-secondary px-3 py-1"
                aria-label="Zoom out"
                onClick={() => view.current?.zoom(1 / 1.5)}
              >
                −
              </button>
              <button type="button" class="btn-secondary px-2 py-1 text-xs" onClick={() => view.current?.fit()}>
                Fit
              </button>
            </div>
          </div>
          <ul class="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-sm" aria-label="Colours and prices">
            {legend.map(({ s, colour }) => (
              <li key={s.id} class="flex items-center gap-1">
                <span class="inline-block h-3 w-3 rounded-sm" style={{ background: colour }} aria-hidden="true" />
                {s.name} {money(s.price)}
              </li>
            ))}
            <li class="flex items-center gap-1">
              <span class="inline-block h-3 w-3 rounded-sm bg-slate-500" aria-hidden="true" /> Taken
            </li>
            <li class="flex items-center gap-1">
              <span class="inline-block h-3 w-3 rounded-sm bg-orange-600" aria-hidden="true" /> Your seats
            </li>
          </ul>
        </div>
        <aside class="card flex flex-col gap-3" aria-label="Your selection">
          <h2 class="text-lg font-bold">Your selection</h2>
          <ErrorBox error={error} />
          <div aria-live="polite">
            {!hold && <p class="text-slate-700">No seats yet. Click free seats on the map, or use the pickers below.</p>}
            {hold && (
              <>
                <ul class="divide-y divide-slate-200" data-testid="hold-seats">
                  {hold.seats.map((s) => (
                    <li key={s.id} class="flex justify-between py-1">
                      <span>
                        {s.section} · row {s.row} · seat {s.label}
                      </span>
                      <span>{money(s.price)}</span>
                    </li>
                  ))}
                  {hold.ga.map((g) => (
                    <li key={g.sectionId} class="flex justify-between py-1">
                      <span>
                        {g.section} · {g.quantity} standing
                      </span>
                      <span>{money({ amount: g.price.amount * g.quantity, currency: g.price.currency })}</span>
                    </li>
                  ))}
                </ul>
                <p class="mt-2 flex justify-between font-bold">
                  <span>Total</span> <span>{money(hold.total)}</span>
                </p>
                <p class={`mt-1 ${left < 60 ? 'font-bold text-red-800' : 'text-slate-800'}`}>Held for you for {clock(left)}</p>
              </>
            )}
          </div>
          <button class="btn" type="button" disabled={!hold || busy} onClick={() => void checkout()}>
            Continue to checkout
          </button>
          {hold && (
            <button class="btn-secondary" type="button" disabled={busy} onClick={() => void change(null)}>
              Release my seats
            </button>
          )}
        </aside>
      </div>
      {data && (
        <div class="mt-6 grid gap-4 lg:grid-cols-2">
          <div class="card flex flex-col gap-4">
            <h2 class="text-lg font-bold">Quick pick</h2>
            <BestAvailable
              sections={data.map.sections}
              max={max}
              disabled={!admitted || busy}
              onPick={(quantity, section) => void change({ bestAvailable: section ? { quantity, section } : { quantity } })}
            />
            {data.map.sections
              .filter((s) => s.kind === 'ga')
              .map((s) => (
                <GaPicker
                  key={s.id}
                  section={s}
                  remaining={ga[s.id]}
                  max={max}
                  disabled={!admitted || busy}
                  onPick={(quantity) => void change({ ga: { section: s.id, quantity } })}
                />
              ))}
          </div>
          <div class="card">
            <h2 class="mb-2 text-lg font-bold">Pick seats from a list</h2>
            <SeatList
              map={data.map}
              statusOf={statusOf}
              checkedOf={(i) => (wanted ? wanted.has(data.seats.ids[i]!) : statusOf(i) === MINE)}
              onToggle={(i) => void toggle(i)}
              disabled={!admitted || busy}
            />
          </div>
        </div>
      )}
    </section>
  );
}
