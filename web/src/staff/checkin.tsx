import type { FunctionComponent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type EventSummary, plainMessage, type Ticket } from '../api.ts';
import { RequireUser, Title, useLoad } from '../components.tsx';
import { dateTime } from '../format.ts';

interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}
declare global {
  interface Window {
    BarcodeDetector?: new (options: { formats: string[] }) => Detector;
  }
}

type Result = { ok: true; ticket: Ticket } | { ok: false; reason: string };

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
  const canScan = typeof window.BarcodeDetector === 'function' && !!navigator.mediaDevices;
  const chosen = eventId || events?.events[0]?.id || '';

  async function check(value: string) {
    setResult(null);
    try {
      const { ticket } = await api.send<{ ticket: Ticket }>('POST', '/api/checkin', { eventId: chosen, code: value.trim() });
      setResult({ ok: true, ticket });
      setCode('');
    } catch (err) {
      setResult({ ok: false, reason: plainMessage(err) });
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
            <p>
              {result.ticket.seat.section}
              {result.ticket.seat.label && ` · row ${result.ticket.seat.row} · seat ${result.ticket.seat.label}`}
            </p>
          </div>
        )}
        {result && !result.ok && (
          <div class="rounded-lg border-4 border-red-700 bg-red-50 p-4 text-red-950" data-testid="checkin-refused">
            <p class="text-2xl font-bold">✗ Not admitted</p>
            <p>{result.reason}</p>
          </div>
        )}
      </div>
    </section>
  );
}

export const CheckinPage: FunctionComponent = () => (
  <RequireUser roles={['staff', 'organizer', 'admin']}>
    <Desk />
  </RequireUser>
);
