// Check-in when the venue's connection is down. A ticket code is an Ed25519-signed payload, and
// the server publishes the public key (GET /api/tickets/public-key), so the door can still tell a
// real ticket from a forged one without the server. What it cannot see offline is another door's
// scan or a refund; so every offline check-in is kept on this device and sent when the
// connection is back, and what the server then refuses is shown as a finding for the staff.

import { ApiError, plainMessage } from '../api.ts';
import { dateTime } from '../format.ts';

/** What a ticket's code carries (src/modules/tickets/ticket-codes.ts signs it). */
export interface TicketClaims {
  t: string; // ticket id
  e: string; // event id
  s: string; // seat: "Section · Row · Seat", or "Section · GA"
  i: number; // issued at, epoch seconds
}

const PREFIX = 'TM1';

function base64Bytes(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** A code's seat for people: "Stalls · row A · seat 3", or "Standing" for a GA place. */
export function seatOfClaims(claims: TicketClaims): string {
  const [section, row, seat] = claims.s.split(' · ');
  if (row === 'GA' || row === undefined) return section ?? '';
  return `${section} · row ${row} · seat ${seat}`;
}

/** The claims a code says it carries, unverified (for finding it among this device's scans), or undefined. */
export function readClaims(code: string): TicketClaims | undefined {
  const parts = code.trim().split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || code.length > 1024) return undefined;
  try {
    const claims = JSON.parse(new TextDecoder().decode(base64Bytes(parts[1]!))) as Partial<TicketClaims>;
    if (typeof claims.t !== 'string' || typeof claims.e !== 'string') return undefined;
    return { t: claims.t, e: claims.e, s: typeof claims.s === 'string' ? claims.s : '', i: Number(claims.i) || 0 };
  } catch {
    return undefined;
  }
}

/** The published key (SPKI DER, base64), ready to verify with; undefined where the browser has no Ed25519. */
export async function importTicketKey(spkiBase64: string): Promise<CryptoKey | undefined> {
  try {
    return await crypto.subtle.importKey('spki', base64Bytes(spkiBase64), { name: 'Ed25519' }, false, ['verify']);
  } catch {
    return undefined;
  }
}

/** The claims when the code is signed with this key, else undefined. Never throws on garbage. */
export async function verifyTicketCode(key: CryptoKey, code: string): Promise<TicketClaims | undefined> {
  const claims = readClaims(code);
  if (!claims) return undefined;
  const [prefix, payload, signature] = code.trim().split('.') as [string, string, string];
  try {
    const sig = base64Bytes(signature);
    if (sig.length !== 64) return undefined;
    const signed = new TextEncoder().encode(`${prefix}.${payload}`);
    return (await crypto.subtle.verify({ name: 'Ed25519' }, key, sig, signed)) ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** A check-in made offline, waiting to be sent. */
export interface OfflineScan {
  eventId: string;
  code: string;
  ticketId: string;
  seat: string;
  /** When the ticket was presented (the online try started then). */
  scannedAt: string;
  /** The online try may have reached the server (no answer in time, or a 5xx): a check-in the
   * server already has from about then is this device's own. */
  uncertain?: boolean;
}

/** What the server said of an offline check-in it could not accept. */
export interface Finding {
  ticketId: string;
  seat: string;
  scannedAt: string;
  problem: string;
}

/**
 * What the server knew of an event's tickets at the last read of its door list (GET
 * /api/events/:id/checkin/changes): the ones checked in or voided, with when, and where to go on
 * reading from.
 */
export interface DoorList {
  cursor: string | null;
  updatedAt: string | null;
  tickets: Record<string, ['used' | 'void', string]>;
}

const KEY = 'tm.checkin.key';
const QUEUE = 'tm.checkin.queue';
const FINDINGS = 'tm.checkin.findings';
const SEEN = 'tm.checkin.seen';
const LIST = 'tm.checkin.list.';
const EVENT = 'tm.checkin.event';

/** The event a door works, as the check-in page's event list shows it. */
export interface DoorEvent {
  id: string;
  name: string;
  startsAt: string;
}
/** Tickets this device let in that it remembers for offline checks (the newest, per browser). */
const SEEN_LIMIT = 20_000;

function read<T>(storage: Storage, name: string, fallback: T): T {
  try {
    const text = storage.getItem(name);
    return text ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
}

/**
 * This device's share of the door: the ticket key, the check-ins made offline, the findings of
 * sending them, and the tickets it let in (ticket id → when), kept in the browser's storage so a
 * reload does not lose them.
 */
export function doorStore(storage: Storage) {
  const write = (name: string, value: unknown) => storage.setItem(name, JSON.stringify(value));
  return {
    key: () => storage.getItem(KEY),
    setKey: (spki: string) => storage.setItem(KEY, spki),
    queue: () => read<OfflineScan[]>(storage, QUEUE, []),
    findings: () => read<Finding[]>(storage, FINDINGS, []),
    clearFindings: () => storage.removeItem(FINDINGS),
    /** When this device let the ticket in (online or off), or undefined. */
    seenAt(ticketId: string): string | undefined {
      const queued = this.queue().find((s) => s.ticketId === ticketId);
      return queued?.scannedAt ?? read<Record<string, string>>(storage, SEEN, {})[ticketId];
    },
    seen(ticketId: string, at: string) {
      const seen = read<Record<string, string>>(storage, SEEN, {});
      seen[ticketId] = at;
      const ids = Object.keys(seen);
      for (const id of ids.slice(0, Math.max(0, ids.length - SEEN_LIMIT))) delete seen[id];
      write(SEEN, seen);
    },
    /** The event this device last worked: the page lists it when the events cannot be read. */
    event: () => read<DoorEvent | null>(storage, EVENT, null),
    setEvent: ({ id, name, startsAt }: DoorEvent) => write(EVENT, { id, name, startsAt }),
    list(eventId: string): DoorList {
      return read<DoorList>(storage, `${LIST}${eventId}`, { cursor: null, updatedAt: null, tickets: {} });
    },
    /** Keeps this event's list, and only it: a door works one event, and storage is a few MB. */
    saveList(eventId: string, list: DoorList) {
      const name = `${LIST}${eventId}`;
      for (let i = storage.length - 1; i >= 0; i--) {
        const other = storage.key(i);
        if (other?.startsWith(LIST) && other !== name) storage.removeItem(other);
      }
      try {
        write(name, list);
      } catch {
        // The browser's storage is full: the list still serves from memory while the page is open.
      }
    },
    add(scan: OfflineScan) {
      write(QUEUE, [...this.queue(), scan]);
    },
    /** Takes a sent scan off the queue, with what the server found wrong with it, if anything. */
    settle(scan: OfflineScan, problem?: string) {
      write(
        QUEUE,
        this.queue().filter((s) => s.ticketId !== scan.ticketId),
      );
      if (problem) {
        const { ticketId, seat, scannedAt } = scan;
        write(FINDINGS, [...this.findings(), { ticketId, seat, scannedAt, problem }]);
      } else this.seen(scan.ticketId, scan.scannedAt);
    },
  };
}
export type DoorStore = ReturnType<typeof doorStore>;

/**
 * Where an answer says the server was not reached (no connection, a gateway's 502/503/504, no
 * answer in time) rather than that the ticket is good or bad.
 */
export function unreachable(err: unknown): boolean {
  if (err instanceof ApiError) return err.status >= 500;
  return err instanceof TypeError || (err instanceof DOMException && ['TimeoutError', 'AbortError'].includes(err.name));
}

/** How far this device's clock and the server's may differ, for telling its own lost try. */
const CLOCK_SKEW_MS = 5000;

/**
 * Where a failed try may still have checked the ticket in: the answer was lost, not the request
 * (no answer within the time allowed, or a 5xx), unlike a request the browser could not send.
 */
export function mayHaveReached(err: unknown): boolean {
  return (err instanceof ApiError && err.status >= 500) || (err instanceof DOMException && err.name === 'TimeoutError');
}

/**
 * Sends the check-ins made offline, oldest first, until the queue is empty, the server cannot
 * be reached, or it wants the staff to sign in again (the rest wait for the next try). What the server refuses becomes a finding:
 * another door let the ticket in too, or it was refunded meanwhile.
 */
export async function sendOfflineScans(
  store: DoorStore,
  send: (scan: OfflineScan) => Promise<unknown>,
  giveUpMs: number,
): Promise<'done' | 'unreachable' | 'signed-out'> {
  for (const scan of store.queue()) {
    try {
      await send(scan);
      store.settle(scan);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return 'signed-out';
      if (unreachable(err) || (err instanceof ApiError && err.status === 429)) return 'unreachable';
      const first = err instanceof ApiError && typeof err.details.checkedInAt === 'string' ? err.details.checkedInAt : '';
      if (first && scan.uncertain && err instanceof ApiError && err.code === 'ALREADY_CHECKED_IN') {
        // This device's own try, applied while its answer was lost: from the try's start to its give-up.
        const lag = Date.parse(first) - Date.parse(scan.scannedAt);
        if (lag >= -CLOCK_SKEW_MS && lag <= giveUpMs + CLOCK_SKEW_MS) {
          store.settle(scan);
          continue;
        }
      }
      store.settle(scan, findingOf(err, first));
    }
  }
  return 'done';
}

function findingOf(err: unknown, firstScan: string): string {
  if (err instanceof ApiError && err.code === 'ALREADY_CHECKED_IN') {
    const when = firstScan ? ` (${dateTime(firstScan)})` : '';
    return `Also let in at another door${when}: this ticket was let in twice.`;
  }
  if (err instanceof ApiError && err.code === 'TICKET_VOID')
    return 'The ticket had been canceled or refunded: it was let in while void.';
  return plainMessage(err);
}
