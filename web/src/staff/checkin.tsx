import type { FunctionComponent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type EventSummary, plainMessage, type Ticket } from '../api.ts';
import { Notice, RequireUser, Title, useLoad } from '../components.tsx';
import { dateTime } from '../format.ts';
import { type DoorEvent, mayHaveReached, readClaims, unreachable } from './offline.ts';
import { checkInOnline, door, type Result, useOfflineDoor, usedHere } from './use-door.ts';
import { rememberUser, useOfflinePage } from '../offline-page.ts';
import { userState } from '../state.ts';

interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}
declare global {
  interface Window {
    BarcodeDetector?: new (options: { formats: string[] }) => Detector;
  }
}

const seatLine = (t: Ticket) => t.seat.section + (t.seat.label ? ` · row ${t.seat.row} · seat ${t.seat.label}` : '');
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The camera, read by the browser's BarcodeDetector (where it exists) a few times a second. */
function Scanner({ onCode }: { onCode: (code: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    let last = '';
    const Detector = window.BarcodeDetector!;
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: 'environment' } })
      .then(async (s) => {
        stream = s;
        if (!video.current) return;
        video.current.srcObject = s;
        await video.current.play();
        const detector = new Detector({ formats: ['qr_code'] });
        timer = setInterval(() => {
          if (!video.current) return;
          detector.detect(video.current).then(
            (codes) => {
              const code = codes[0]?.rawValue;
              if (code && code !== last) {
                last = code;
                onCode(code);
              }
            },
            () => undefined,
          );
        }, 300);
      })
      .catch(() => setError('The camera could not be opened. Paste the code instead.'));
    return () => {
      if (timer) clearInterval(timer);
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, []);
  return (
    <div>
      <video
        ref={video}
        class="w-full max-w-sm rounded-lg bg-black"
        muted
        playsInline
        aria-label="Camera view for scanning a QR code"
      />
      {error && <p class="text-red-800">{error}</p>}
    </div>
  );
}

function Desk() {
  const [loaded, loadError] = useLoad(() => api.get<{ events: EventSummary[] }>('/api/events'), []);
  // Without a connection, the event this device last worked.
  const lastEvent = door.event();
  const events: DoorEvent[] = loaded?.events ?? (loadError && lastEvent ? [lastEvent] : []);
  const [eventId, setEventId] = useState('');
  const [code, setCode] = useState('');
  const [result, setResult] = useState<Result | null>(null);
  const [camera, setCamera] = useState(false);
  const canScan = typeof window.BarcodeDetector === 'function' && !!navigator.mediaDevices;
  const chosen = eventId || events.find((e) => e.id === lastEvent?.id)?.id || events[0]?.id || '';
  const offline = useOfflineDoor(chosen);
  const pageOffline = useOfflinePage();
  const user = userState.use();
  useEffect(() => {
    if (user) rememberUser(user);
  }, [user]);
  useEffect(() => {
    const event = loaded?.events.find((e) => e.id === chosen);
    if (event) door.setEvent(event);
  }, [chosen, loaded]);

  async function check(value: string) {
    setResult(null);
    const ticketCode = value.trim();
    // A ticket let in here while offline and not yet sent is one the server has not heard of.
    const queued = door.queue().find((scan) => scan.ticketId === readClaims(ticketCode)?.t);
    if (queued) {
      setResult({ ok: false, reason: usedHere(queued.scannedAt) });
      return;
    }
    const triedAt = new Date().toISOString();
    try {
      const { ticket } = (await checkInOnline(chosen, ticketCode)).body;
      door.seen(ticket.id, ticket.checkedInAt ?? new Date().toISOString());
      setResult({ ok: true, seat: seatLine(ticket), offline: false });
      setCode('');
      if (offline.waiting > 0) void offline.send();
    } catch (err) {
      if (!unreachable(err)) {
        setResult({ ok: false, reason: plainMessage(err) });
        return;
      }
      const checked = await offline.checkOffline(ticketCode, { at: triedAt, uncertain: mayHaveReached(err) });
      setResult(checked);
      if (checked.ok) setCode('');
    }
  }

  return (
    <section class="mx-auto max-w-xl">
      <Title>Check-in</Title>
      <form
        class="card flex flex-col gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          void check(code);
        }}
      >
        <div>
          <label class="label" for="checkin-event">
            Event
          </label>
          <select id="checkin-event" class="input" value={chosen} onChange={(e) => setEventId(e.currentTarget.value)}>
            {events.map((e) => (
              <option key={e.id} value={e.id}>
                {e.name} · {dateTime(e.startsAt)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label class="label" for="checkin-code">
            Ticket code (scan or paste)
          </label>
          <textarea
            id="checkin-code"
            class="input font-mono text-sm"
            rows={3}
            required
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
        </div>
        <div class="flex flex-wrap gap-3">
          <button class="btn" type="submit" disabled={!chosen}>
            Check in
          </button>
          {canScan && (
            <button type="button" class="btn-secondary" onClick={() => setCamera((c) => !c)}>
              {camera ? 'Stop camera' : 'Scan with camera'}
            </button>
          )}
        </div>
        {camera && <Scanner onCode={(c) => void check(c)} />}
      </form>
      <div aria-live="assertive" class="mt-4">
        {result?.ok && (
          <div class="rounded-lg border-4 border-green-700 bg-green-50 p-4 text-green-950" data-testid="checkin-ok">
            <p class="text-2xl font-bold">✓ Welcome in</p>
            <p>{result.seat}</p>
            {result.offline && (
              <p class="mt-2 text-sm" data-testid="checkin-offline">
                Checked on this device (no connection): the ticket is genuine. The check-in is sent when the connection is back.
              </p>
            )}
          </div>
        )}
        {result && !result.ok && (
          <div class="rounded-lg border-4 border-red-700 bg-red-50 p-4 text-red-950" data-testid="checkin-refused">
            <p class="text-2xl font-bold">✗ Not admitted</p>
            <p>{result.reason}</p>
          </div>
        )}
      </div>
      {offline.waiting > 0 && (
        <div class="mt-4" data-testid="checkin-waiting">
          <Notice tone="warn">
            {plural(offline.waiting, 'check-in')} made without a connection {offline.waiting === 1 ? 'is' : 'are'} kept on this
            device and sent once the connection is back while this page is open.{' '}
            {offline.signedOut && (
              <strong>
                TicketMax asks for a staff sign-in before it takes them:{' '}
                <a class="link" href="/signin?next=%2Fcheckin">
                  sign in again
                </a>{' '}
                and this page sends them.{' '}
              </strong>
            )}
            <button type="button" class="btn-secondary ml-2" onClick={() => void offline.send()}>
              Send now
            </button>
          </Notice>
        </div>
      )}
      {offline.findings.length > 0 && (
        <div class="card mt-4" data-testid="checkin-findings">
          <h2 class="text-lg font-semibold">Found when offline check-ins were sent</h2>
          <ul class="my-2 list-disc pl-5">
            {offline.findings.map((f) => (
              <li key={f.ticketId + f.scannedAt}>
                {f.seat}, let in at {dateTime(f.scannedAt)}: {f.problem}
              </li>
            ))}
          </ul>
          <button type="button" class="btn-secondary" onClick={offline.clearFindings}>
            Clear
          </button>
        </div>
      )}
      <p class="mt-4 text-sm text-slate-600">
        {offline.ready
          ? 'If the connection drops, this page goes on checking tickets by their signature and sends the check-ins later.'
          : 'Offline checks are not ready: this page needs a connection once to fetch the ticket key.'}
        {pageOffline && <span data-testid="offline-page"> It opens again on this device without a connection.</span>}
        {offline.list.updatedAt && (
          <span data-testid="door-list">
            {' '}
            Door list as of {dateTime(offline.list.updatedAt)}: {offline.list.used.toLocaleString('en-US')} checked in,{' '}
            {offline.list.void.toLocaleString('en-US')} void (refunded or canceled); both are refused offline too.
          </span>
        )}
      </p>
    </section>
  );
}

export const CheckinPage: FunctionComponent = () => (
  <RequireUser roles={['staff', 'organizer', 'admin']}>
    <Desk />
  </RequireUser>
);
