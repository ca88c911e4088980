// The check-in page's offline side: the ticket key and the event's door list, fetched while there
// is a connection and kept for when there is none; the check-ins made offline, sent when it is
// back; and the check of a ticket without the server.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type DoorChanges, plainText, request, type Ticket } from '../api.ts';
import { dateTime } from '../format.ts';
import { type DoorList, doorStore, importTicketKey, seatOfClaims, sendOfflineScans, verifyTicketCode } from './offline.ts';

export type Result = { ok: true; seat: string; offline: boolean } | { ok: false; reason: string };

/** Answers slower than this count as no connection: the door does not wait on a dead network. */
const ANSWER_WITHIN_MS = 8000;
/** How often the door list is read again while the page is open. */
const LIST_EVERY_MS = 30_000;

export const door = doorStore(localStorage);

/** Checks a code in on the server; `scannedAt` for a check-in this door made offline, sent now. */
export function checkInOnline(eventId: string, code: string, scannedAt?: string) {
  return request<{ ticket: Ticket }>('/api/checkin', {
    method: 'POST',
    body: scannedAt ? { eventId, code, scannedAt } : { eventId, code },
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
}

export const usedHere = (at: string) => `${plainText('ALREADY_CHECKED_IN')} It was let in at this door at ${dateTime(at)}.`;

/** The ticket key, fetched when there is a connection, else the copy kept from the last time. */
function useTicketKey() {
  const [key, setKey] = useState<CryptoKey | undefined>();
  useEffect(() => {
    let live = true;
    void (async () => {
      let spki = door.key();
      try {
        spki = (await api.get<{ publicKey: string }>('/api/tickets/public-key')).publicKey;
        door.setKey(spki);
      } catch {
        // No connection: the kept copy.
      }
      const imported = spki ? await importTicketKey(spki) : undefined;
      if (live) setKey(imported);
    })();
    return () => {
      live = false;
    };
  }, []);
  return key;
}

/** How many of the list's tickets were used at a door, and how many voided (refunded or canceled). */
function countsOf(list: DoorList) {
  const counts = { used: 0, void: 0 };
  for (const [status] of Object.values(list.tickets)) counts[status] += 1;
  return counts;
}

/** The event's door list, kept up to date while there is a connection. */
function useDoorList(eventId: string) {
  const list = useRef<DoorList>({ cursor: null, updatedAt: null, tickets: {} });
  const [updatedAt, setUpdatedAt] = useState<string | null>(null);
  const [counts, setCounts] = useState({ used: 0, void: 0 });
  useEffect(() => {
    if (!eventId) return;
    let live = true;
    let reading = false;
    const current = door.list(eventId);
    list.current = current;
    setUpdatedAt(current.updatedAt);
    setCounts(countsOf(current));
    async function follow() {
      if (reading) return;
      reading = true;
      try {
        for (;;) {
          const after = current.cursor ? `?after=${encodeURIComponent(current.cursor)}` : '';
          const page = await api.get<DoorChanges>(`/api/events/${eventId}/checkin/changes${after}`);
          if (!live) return;
          for (const t of page.tickets) current.tickets[t.id] = [t.status, t.at];
          current.cursor = page.cursor;
          if (!page.more) break;
        }
        current.updatedAt = new Date().toISOString();
        door.saveList(eventId, current);
        setUpdatedAt(current.updatedAt);
        setCounts(countsOf(current));
      } catch {
        // No connection: the list as it stands.
      } finally {
        reading = false;
      }
    }
    void follow();
    const timer = setInterval(() => void follow(), LIST_EVERY_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [eventId]);
  return { list, updatedAt, counts };
}

/** The door's offline side for the chosen event (see the file's head). */
export function useOfflineDoor(eventId: string) {
  const key = useTicketKey();
  const doorList = useDoorList(eventId);
  const [waiting, setWaiting] = useState(() => door.queue().length);
  const [findings, setFindings] = useState(() => door.findings());
  const [signedOut, setSignedOut] = useState(false);
  const sending = useRef(false);

  async function send() {
    if (sending.current) return;
    sending.current = true;
    try {
      const outcome = await sendOfflineScans(
        door,
        (scan) => checkInOnline(scan.eventId, scan.code, scan.scannedAt),
        ANSWER_WITHIN_MS,
      );
      setSignedOut(outcome === 'signed-out');
    } finally {
      sending.current = false;
      setWaiting(door.queue().length);
      setFindings(door.findings());
    }
  }

  useEffect(() => {
    const onOnline = () => void send();
    window.addEventListener('online', onOnline);
    const timer = setInterval(() => {
      if (door.queue().length > 0) void send();
    }, 10_000);
    void send();
    return () => {
      window.removeEventListener('online', onOnline);
      clearInterval(timer);
    };
  }, []);

  /**
   * A ticket checked here, without the server: its signature, its event, then what the door list
   * knew (used or refunded before the connection dropped), then this device's own scans.
   */
  async function checkOffline(code: string, tried: { at: string; uncertain: boolean }): Promise<Result> {
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
    const known = doorList.list.current.tickets[claims.t];
    if (known?.[0] === 'void') return { ok: false, reason: plainText('TICKET_VOID') };
    const seen = door.seenAt(claims.t);
    if (seen) return { ok: false, reason: usedHere(seen) };
    if (known) return { ok: false, reason: `${plainText('ALREADY_CHECKED_IN')} It was checked in at ${dateTime(known[1])}.` };
    const seat = seatOfClaims(claims);
    door.add({ eventId, code, ticketId: claims.t, seat, scannedAt: tried.at, uncertain: tried.uncertain });
    setWaiting(door.queue().length);
    return { ok: true, seat, offline: true };
  }

  function clearFindings() {
    door.clearFindings();
    setFindings([]);
  }

  return {
    ready: !!key,
    list: { updatedAt: doorList.updatedAt, ...doorList.counts },
    waiting,
    /** The server wants a staff sign-in before it takes the waiting check-ins. */
    signedOut,
    findings,
    send,
    checkOffline,
    clearFindings,
  };
}
