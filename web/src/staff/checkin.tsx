import type { FunctionComponent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type EventSummary, plainMessage, plainText, request, type Ticket } from '../api.ts';
import { Notice, RequireUser, Title, useLoad } from '../components.tsx';
import { dateTime } from '../format.ts';
import {
  doorStore,
  importTicketKey,
  mayHaveReached,
  readClaims,
  seatOfClaims,
  sendOfflineScans,
  unreachable,
  verifyTicketCode,
} from './offline.ts';

interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}
declare global {
  interface Window {
    BarcodeDetector?: new (options: { formats: string[] }) => Detector;
  }
}

type Result = { ok: true; seat: string; offline: boolean } | { ok: false; reason: string };

/** Answers slower than this count as no connection: the door does not wait on a dead network. */
const ANSWER_WITHIN_MS = 8000;

const door = doorStore(localStorage);

function checkInOnline(eventId: string, code: string) {
  return request<{ ticket: Ticket }>('/api/checkin', {
    method: 'POST',
    body: { eventId, code },
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
}

const seatLine = (t: Ticket) => t.seat.section + (t.seat.label ? ` · row ${t.seat.row} · seat ${t.seat.label}` : '');
const usedHere = (at: string) => `${plainText('ALREADY_CHECKED_IN')} It was let in at this door at ${dateTime(at)}.`;
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * The door's offline side: the ticket key (fetched while there is a connection, kept for when
 * there is none), the check-ins waiting to be sent and what sending them found.
 */
function useOfflineDoor() {
  const [key, setKey] = useState<CryptoKey | undefined>();
  const [waiting, setWaiting] = useState(() => door.queue().length);
  const [findings, setFindings] = useState(() => door.findings());
  const sending = useRef(false);

  async function send() {
    if (sending.current) return;
    sending.current = true;
    try {
      await sendOfflineScans(door, (scan) => checkInOnline(scan.eventId, scan.code), ANSWER_WITHIN_MS);
    } finally {
      sending.current = false;
      setWaiting(door.queue().length);
      setFindings(door.findings());
    }
  }

  useEffect(() => {
    let live = true;
    void (async () => {
      let spki = door.key();
      try {
        spki = (await api.get<{ publicKey: string }>('/api/tickets/public-key')).publicKey;
        door.setKey(spki);
      } catch {
        // No connection: the copy kept from the last time there was one.
      }
      const imported = spki ? await importTicketKey(spki) : undefined;
      if (live) setKey(imported);
    })();
    const onOnline = () => void send();
    window.addEventListener('online', onOnline);
    const timer = setInterval(() => {
      if (door.queue().length > 0) void send();
    }, 10_000);
    void send();
    return () => {
      live = false;
      window.removeEventListener('online', onOnline);
      clearInterval(timer);
    };
  }, []);

  /** A ticket checked here, without the server: its signature, its event, this device's own scans. */
  async function checkOffline(eventId: string, code: string, tried: { at: string; uncertain: boolean }): Promise<Result> {
    if (!key) {
      return {
        ok: false,
        reason: door.key()
          ? 'No connection to TicketMax, and this browser cannot check ticket signatures by itself.'
          : 'No connection to TicketMax, and this device has no ticket key yet: open this page once while connected to check tickets offline.',
      };
    }
    const claims = await verifyTicketCode(key, code);
    if (!claims) return { ok: false, reason: plainText('INVALID_TICKET') };
    if (claims.e !== eventId) return { ok: false, reason: plainText('WRONG_EVENT') };
    const seen = door.seenAt(claims.t);
    if (seen) return { ok: false, reason: usedHere(seen) };
    door.add({ eventId, code, ticketId: claims.t, seat: seatOfClaims(claims), scannedAt: tried.at, uncertain: tried.uncertain });
    setWaiting(door.queue().length);
    return { ok: true, seat: seatOfClaims(claims), offline: true };
  }

  function clearFindings() {
    door.clearFindings();
    setFindings([]);
  }

  return { ready: !!key, waiting, findings, send, checkOffline, clearFindings };
}

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
  const [events] = useLoad(() => api.get<{ events: EventSummary[] }>('/api/events'), []);
  const [eventId, setEventId] = useState('');
  const [code, setCode] = useState('');
  const [result, setResult] = useState<Result | null>(null);
  const [camera, setCamera] = useState(false);
  const offline = useOfflineDoor();
  const canScan = typeof window.BarcodeDetector === 'function' && !!navigator.mediaDevices;
  const chosen = eventId || events?.events[0]?.id || '';

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
      const checked = await offline.checkOffline(chosen, ticketCode, { at: triedAt, uncertain: mayHaveReached(err) });
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
            {events?.events.map((e) => (
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
            device and sent when the connection is back. Keep this page open.{' '}
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
      </p>
    </section>
  );
}

export const CheckinPage: FunctionComponent = () => (
  <RequireUser roles={['staff', 'organizer', 'admin']}>
    <Desk />
  </RequireUser>
);
