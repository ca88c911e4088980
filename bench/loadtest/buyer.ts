/** One virtual buyer: waiting room, seat map, hold, order, payment, tickets — as the web page does it. */
import { countSet, nthClear, testBit } from '../../src/modules/inventory/bitmap.ts';
import { followFromStatus, queuePollDelayMs, type StatusSample } from '../../src/modules/waiting-room/poll.ts';
import type { Client } from './http.ts';
import type { Scenario } from './scenarios.ts';
import type { Stats } from './stats.ts';

export interface SeatInfo {
  id: string;
  row: string;
  section: string;
  index: number;
}

/** What every buyer shares: the event, its seat map as parsed once by the generator, and the run's clock. */
export interface Venue {
  eventId: string;
  etag: string;
  /** Seat index -> seat. */
  seats: SeatInfo[];
  gaSections: string[];
  deadline: number;
}

export type Outcome = 'paid' | 'abandoned' | 'sold-out' | 'gave-up' | 'declined' | 'expired' | 'failed' | 'timeout';

export interface BuyerRecord {
  userId: string;
  number: number | null;
  admitted: boolean;
  /** Admitted, but every attempt to act was refused as not admitted or failed on the server. */
  couldNotAct: boolean;
  outcome: Outcome;
  seats: number;
  /** Times the buyer's place was gone (lost with the server's hot state before it was copied) and they joined again, as the page does. */
  rejoined: number;
}

const CARDS = { ok: '4242424242424242', declined: '4000000000000002', async: '4000000000000077' };
const card = (number: string) => ({ number, expMonth: 12, expYear: 2040, cvc: '123' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The buyer deciding: a pause of about `seconds` (see Scenario.thinkSeconds). */
const think = (seconds: number) => (seconds > 0 ? sleep(seconds * 1000 * (0.5 + Math.random())) : Promise.resolve());

interface QueueView {
  state: string;
  number: number | null;
  etaSeconds: number | null;
  admission: { token: string } | null;
}

/**
 * `quantity` free seats side by side in one row around a free seat chosen at random (not one of
 * `avoid`: seats a hold was just refused), else fewer; none when no free seat is left. Read straight
 * from the availability bitmap (bit i set: seat i is taken), as the seat map page does.
 */
function pick(venue: Venue, bitmap: Uint8Array, seatCount: number, quantity: number, avoid: Set<string>): string[] {
  const free = seatCount - countSet(bitmap, seatCount);
  if (free <= 0) return [];
  let start = -1;
  // `avoid` holds a handful of seats at most: a few random draws find one outside it.
  for (let draw = 0; draw < 8 && start < 0; draw++) {
    const candidate = nthClear(bitmap, seatCount, Math.floor(Math.random() * free));
    if (candidate >= 0 && !avoid.has(venue.seats[candidate]!.id)) start = candidate;
  }
  if (start < 0) return [];
  const row = venue.seats[start]!;
  const beside = (i: number) =>
    i >= 0 && i < seatCount && !testBit(bitmap, i) && venue.seats[i]?.row === row.row && venue.seats[i]?.section === row.section;
  const chosen = [start];
  for (let i = start + 1; chosen.length < quantity && beside(i); i++) chosen.push(i);
  for (let i = start - 1; chosen.length < quantity && beside(i); i--) chosen.push(i);
  return chosen.map((i) => venue.seats[i]!.id);
}

export async function runBuyer(
  /**
   * `waiting` carries the waiting room's requests, `checkout` an admitted buyer's: each browser has
   * connections of its own, so a buyer's checkout never queues in the generator behind thousands of
   * strangers' status polls (the server sees the same requests either way). `status` carries the
   * public status polls: the waiting pool, or a shared cache with connections of its own to the
   * server, as a CDN has (its misses do not queue behind the buyers' joins). `turn` carries the
   * waiting-room requests of a buyer whose turn has come (their own place, a leave after checkout):
   * connections like the checkout's, to wherever the waiting room's paths are served.
   */
  clients: { waiting: Client; checkout: Client; status: Client; turn: Client },
  stats: Stats,
  scenario: Scenario,
  venue: Venue,
  buyer: { userId: string; token: string },
  index: number,
  /** Filled in as the buyer goes, so a buyer stopped by the end of the window still counts what it saw. */
  record: BuyerRecord,
): Promise<BuyerRecord> {
  const auth = { authorization: `Bearer ${buyer.token}` };
  const e = venue.eventId;
  let client = clients.waiting;
  stats.mark('arrivals');
  // Deterministic shares: buyer i's role follows from i, so reruns compare like with like.
  const u = ((index * 2654435761) % 2 ** 32) / 2 ** 32;
  const intent =
    u < scenario.abandon
      ? 'abandon'
      : u < scenario.abandon + scenario.decline
        ? 'decline'
        : u < scenario.abandon + scenario.decline + scenario.asyncCard
          ? 'async'
          : 'pay';
  const wantsGa = venue.gaSections.length > 0 && Math.random() < scenario.gaShare;
  const quantity = 1 + Math.floor(Math.random() * scenario.maxQuantity);

  // 1. Join, then follow the queue like the waiting-room page's polling: the public status (the same
  // for everyone, cacheable) often near the front and rarely far back, the buyer's own place only once
  // the serving counter reaches their number (or, in the pre-queue, once the sale opens and numbers are dealt).
  let joined = await client.call<{ queue: QueueView }>('POST /queue', 'POST', `/api/events/${e}/queue`, auth);
  for (let attempt = 0; joined.status !== 200 && joined.status !== 201 && attempt < 3; attempt++) {
    await sleep(1000);
    joined = await client.call<{ queue: QueueView }>('POST /queue', 'POST', `/api/events/${e}/queue`, auth);
  }
  if (joined.status !== 200 && joined.status !== 201) return record;
  let view = joined.body.queue;
  let etaSeconds = view.etaSeconds;
  let previous: { serving: number; at: number } | null = null;
  const patience = performance.now() + scenario.patienceSeconds * 1000;
  const leave = async (outcome: Outcome) => {
    await client.call('DELETE /queue', 'DELETE', `/api/events/${e}/queue`, auth);
    return { ...record, number: view.number, outcome };
  };
  while (!view.admission) {
    // Admitted while following the queue, but the turn ran out before the buyer's next poll saw it:
    // the buyer kept polling (a fifth of the expected wait apart, at most 30 s, inside claimSeconds), so this is the system failing them, not a no-show.
    if (view.state === 'expired') return { ...record, number: view.number, couldNotAct: true, outcome: 'expired' };
    if (view.state === 'left') return { ...record, outcome: 'gave-up' };
    if (performance.now() > patience) return leave('gave-up');
    await sleep(queuePollDelayMs({ etaSeconds }));
    record.number = view.number;
    const status = await clients.status.call<StatusSample>('GET /queue/status', 'GET', `/api/events/${e}/queue/status`);
    if (status.status !== 200) continue;
    if (status.body.state === 'sold_out' || status.body.state === 'closed') return leave('sold-out');
    if (view.number === null) {
      // Pre-queued: the number is dealt by the shuffle when the sale opens.
      if (status.body.state === 'prequeue') continue;
    } else {
      const now = performance.now();
      const place = followFromStatus(view.number, status.body, now, previous);
      if (!previous || now - previous.at >= 1000) previous = { serving: status.body.serving, at: now };
      etaSeconds = place.etaSeconds;
      if (!place.turn) continue;
    }
    // The turn has come (or may have): the buyer's own read, on the pool of those who are checking
    // out, as the first request of an admitted buyer — not behind tens of thousands of strangers'
    // polls in the generator, which no browser waits behind, while the claimSeconds run.
    let res = await clients.turn.call<{ queue: QueueView }>('GET /queue', 'GET', `/api/events/${e}/queue`, auth);
    if (res.status === 404) {
      // The place is gone (lost with the server's hot state before it was copied): join again, as the page does.
      record.rejoined += 1;
      res = await clients.turn.call<{ queue: QueueView }>('POST /queue', 'POST', `/api/events/${e}/queue`, auth);
    }
    if (res.status === 200 || res.status === 201) {
      view = res.body.queue;
      etaSeconds = view.etaSeconds;
    }
  }
  record.number = view.number;
  record.admitted = true;
  stats.mark('admitted');
  client = clients.checkout;
  const admitted = { ...auth, 'x-admission-token': view.admission.token };

  // 2. The seat map (once; a returning browser revalidates its copy) and live availability.
  const cached = Math.random() < scenario.seatmapCached;
  await client.call(
    'GET /seatmap',
    'GET',
    `/api/events/${e}/seatmap`,
    { 'accept-encoding': 'gzip', ...(cached ? { 'if-none-match': venue.etag } : {}) },
    undefined,
    { raw: true },
  );

  // 3. Hold (after choosing): seats from the bitmap (retrying with others on 409), best-available, or GA.
  await think(scenario.thinkSeconds);
  let held = false;
  let refusals = 0;
  let serverFailures = 0;
  const avoid = new Set<string>();
  for (let attempt = 0; attempt < 4 && !held; attempt++) {
    let body: unknown;
    if (wantsGa) {
      body = { ga: { section: venue.gaSections[0], quantity } };
    } else if (Math.random() < scenario.pickFromMap && attempt < 3) {
      const availability = await client.call<{ unavailable: string; seatCount: number }>(
        'GET /availability',
        'GET',
        `/api/events/${e}/availability`,
      );
      if (availability.status !== 200) {
        serverFailures += 1;
        continue;
      }
      const bitmap = Buffer.from(availability.body.unavailable, 'base64');
      const seats = pick(venue, bitmap, availability.body.seatCount, quantity, avoid);
      if (seats.length === 0) body = { bestAvailable: { quantity } };
      else body = { seats };
    } else {
      body = { bestAvailable: { quantity } };
    }
    const res = await client.call<{ error?: { code: string; details?: { seats?: string[] } } }>(
      'PUT /hold',
      'PUT',
      `/api/events/${e}/hold`,
      admitted,
      body,
    );
    if (res.status === 200) {
      held = true;
      stats.mark('holds');
      break;
    }
    const code = res.body.error?.code;
    stats.count(`hold ${Object.keys(body as object)[0]} ${res.status} ${code ?? ''}`.trim());
    if (code === 'NOT_ADMITTED') refusals += 1;
    else if (res.status === 0 || res.status >= 500) serverFailures += 1;
    if (code === 'SOLD_OUT') {
      stats.soldOut();
      break;
    }
    for (const id of res.body.error?.details?.seats ?? []) avoid.add(id);
  }
  if (!held) {
    record.couldNotAct = refusals + serverFailures > 0 && refusals + serverFailures === 4;
    await clients.turn.call('DELETE /queue', 'DELETE', `/api/events/${e}/queue`, auth);
    return { ...record, outcome: record.couldNotAct ? 'failed' : 'sold-out' };
  }

  // 4. Order (after looking over the hold), then pay (after typing the card), or walk away.
  await think(scenario.thinkSeconds);
  const ordered = await client.call<{ order: { id: string; items: unknown[] } }>(
    'POST /orders',
    'POST',
    '/api/orders',
    { ...admitted, 'idempotency-key': `o-${buyer.userId}` },
    { eventId: e },
  );
  if (ordered.status !== 201) return { ...record, outcome: ordered.status === 0 || ordered.status >= 500 ? 'failed' : 'expired' };
  stats.mark('orders');
  const orderId = ordered.body.order.id;
  if (intent === 'abandon') return { ...record, outcome: 'abandoned' };
  await think(scenario.thinkSeconds);
  const pay = (number: string, key: string) =>
    client.call<{ order: { status: string } }>(
      'POST /pay',
      'POST',
      `/api/orders/${orderId}/pay`,
      { ...auth, 'idempotency-key': key },
      { card: card(number) },
    );
  let paid = await pay(intent === 'decline' ? CARDS.declined : intent === 'async' ? CARDS.async : CARDS.ok, `p1-${buyer.userId}`);
  if (paid.status === 402) {
    stats.count('declined');
    await sleep(1000); // types another card
    paid = await pay(CARDS.ok, `p2-${buyer.userId}`);
  }
  if (paid.status === 202) {
    // The asynchronous card: the page polls the order until the webhook has settled it.
    for (let i = 0; i < 30 && paid.body.order.status !== 'paid'; i++) {
      await sleep(1000);
      const res = await client.call<{ order: { status: string } }>('GET /orders/:id', 'GET', `/api/orders/${orderId}`, auth);
      if (res.status === 200) paid = { ...paid, body: res.body };
    }
  }
  if (paid.body.order?.status !== 'paid') return { ...record, outcome: paid.status === 402 ? 'declined' : 'failed' };
  stats.mark('paid');

  // 5. Tickets.
  const tickets = await client.call<{ tickets: unknown[] }>('GET /tickets', 'GET', '/api/tickets', auth);
  return { ...record, outcome: 'paid', seats: tickets.body.tickets?.length ?? 0 };
}
