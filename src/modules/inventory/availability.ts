import { countSet } from './bitmap.ts';
import type { AvailabilitySnapshot, InventoryMessage, InventoryStore } from './inventory.store.ts';

export interface SnapshotBody {
  version: number;
  seatCount: number;
  unavailable: string;
  ga: Record<string, number>;
}

/** A snapshot as served: the API body, and the same serialised once. */
export interface ServedSnapshot {
  version: number;
  seatCount: number;
  bitmap: Uint8Array;
  body: SnapshotBody;
  json: string;
  at: number;
}

export interface StreamClient {
  send(event: 'snapshot' | 'delta', data: unknown): void;
}

export interface AvailabilityOptions {
  store: InventoryStore;
  /** Reads the store, loading the event from the database first when the store does not have it. */
  read: (eventId: string) => Promise<AvailabilitySnapshot>;
  now?: () => number;
  /** A served snapshot is reused for this long (the route says max-age=1 anyway). */
  cacheMs?: number;
  /** Deltas of an event are merged and sent at most once per this interval. */
  batchMs?: number;
  onError?: (err: unknown) => void;
}

/** Seats free (neither held nor ordered) plus GA places left: 0 means nothing can be held now. */
export function remainingOf(snapshot: AvailabilitySnapshot): number {
  const seatsFree = snapshot.seatCount - countSet(snapshot.bitmap, snapshot.seatCount);
  return seatsFree + Object.values(snapshot.ga).reduce((sum, left) => sum + Math.max(0, left), 0);
}

export function serve(snapshot: AvailabilitySnapshot, at: number): ServedSnapshot {
  const body: SnapshotBody = {
    version: snapshot.version,
    seatCount: snapshot.seatCount,
    unavailable: Buffer.from(snapshot.bitmap.buffer, snapshot.bitmap.byteOffset, snapshot.bitmap.byteLength).toString('base64'),
    ga: snapshot.ga,
  };
  return {
    version: snapshot.version,
    seatCount: snapshot.seatCount,
    bitmap: snapshot.bitmap,
    body,
    json: JSON.stringify(body),
    at,
  };
}

interface Batch {
  /** The version before the first change in the batch. */
  base: number;
  version: number;
  seats: Map<number, boolean>;
  ga: Record<string, number>;
}

interface Feed {
  clients: Map<StreamClient, { version: number }>;
  batch: Batch | undefined;
  /** Last version seen on the channel; a jump past it means messages were lost. */
  lastVersion: number | undefined;
  resync: boolean;
  timer: NodeJS.Timeout | undefined;
  lastFlush: number;
  unsubscribe: Promise<() => Promise<void>>;
}

/**
 * Availability as served by one API process: a snapshot cache (a 50,000-seat event is one
 * ~8 KiB string, rebuilt at most every `cacheMs`), and one feed per event that listens to the
 * store's change channel — shared by every process, so each process's streams see every change —
 * and sends the merged changes to its streams at most every `batchMs`.
 */
export function createAvailability({ store, read, now = Date.now, cacheMs = 150, batchMs = 200, onError }: AvailabilityOptions) {
  const cache = new Map<string, ServedSnapshot>();
  const inflight = new Map<string, Promise<ServedSnapshot>>();
  const feeds = new Map<string, Feed>();

  function fresh(eventId: string): Promise<ServedSnapshot> {
    let pending = inflight.get(eventId);
    if (!pending) {
      pending = read(eventId)
        .then((snap) => {
          const served = serve(snap, now());
          const cached = cache.get(eventId);
          // A slower, older read must not replace a newer one.
          if (!cached || cached.version <= served.version || cached.at < served.at - 1000) cache.set(eventId, served);
          return served;
        })
        .finally(() => inflight.delete(eventId));
      inflight.set(eventId, pending);
    }
    return pending;
  }

  async function snapshot(eventId: string): Promise<ServedSnapshot> {
    const cached = cache.get(eventId);
    if (cached && now() - cached.at < cacheMs) return cached;
    return fresh(eventId);
  }

  function onMessage(eventId: string, feed: Feed, message: InventoryMessage) {
    if (message.kind === 'reset') {
      feed.resync = true;
      feed.lastVersion = undefined;
    } else {
      const { delta } = message;
      if (feed.lastVersion !== undefined && delta.version !== feed.lastVersion + 1) feed.resync = true;
      feed.lastVersion = delta.version;
      const batch = (feed.batch ??= { base: delta.version - 1, version: delta.version, seats: new Map(), ga: {} });
      batch.version = delta.version;
      // Later changes win: a seat taken then freed within one batch goes out as freed.
      for (const i of delta.taken) batch.seats.set(i, true);
      for (const i of delta.freed) batch.seats.set(i, false);
      Object.assign(batch.ga, delta.ga);
    }
    if (!feed.timer) {
      const wait = Math.max(0, feed.lastFlush + batchMs - now());
      feed.timer = setTimeout(() => void flush(eventId, feed).catch((err: unknown) => onError?.(err)), wait);
    }
  }

  async function flush(eventId: string, feed: Feed) {
    feed.timer = undefined;
    feed.lastFlush = now();
    const batch = feed.batch;
    feed.batch = undefined;
    const behind: StreamClient[] = [];
    if (feed.resync) {
      feed.resync = false;
      behind.push(...feed.clients.keys());
    } else if (batch) {
      const taken: number[] = [];
      const freed: number[] = [];
      for (const [i, on] of batch.seats) (on ? taken : freed).push(i);
      const body: Record<string, unknown> = { version: batch.version, taken, freed };
      if (Object.keys(batch.ga).length > 0) body.ga = batch.ga;
      for (const [client, state] of feed.clients) {
        if (state.version >= batch.version) continue;
        // The batch covers (base, version]: it brings any client at a version in that range up to date.
        if (state.version < batch.base) behind.push(client);
        else {
          client.send('delta', body);
          state.version = batch.version;
        }
      }
    }
    if (behind.length > 0) {
      const served = await fresh(eventId);
      for (const client of behind) {
        const state = feed.clients.get(client);
        if (!state) continue;
        client.send('snapshot', served.body);
        state.version = served.version;
      }
    }
  }

  return {
    snapshot,

    /** Sends a snapshot, then deltas, until the returned function is called. */
    async stream(eventId: string, client: StreamClient): Promise<() => Promise<void>> {
      let feed = feeds.get(eventId);
      if (!feed) {
        const created: Feed = {
          clients: new Map(),
          batch: undefined,
          lastVersion: undefined,
          resync: false,
          timer: undefined,
          lastFlush: 0,
          unsubscribe: store.subscribe(eventId, (m) => onMessage(eventId, created, m)),
        };
        feeds.set(eventId, (feed = created));
      }
      const mine = feed;
      // Listen first, then read: no change can fall between the snapshot and the first delta.
      await mine.unsubscribe;
      mine.clients.set(client, { version: Number.MAX_SAFE_INTEGER });
      let served = await snapshot(eventId);
      // The cached snapshot may predate changes the feed has already sent to others.
      if (mine.lastVersion !== undefined && served.version < mine.lastVersion) served = await fresh(eventId);
      const state = mine.clients.get(client);
      // A resync during the read may already have sent this client a newer snapshot.
      if (state && state.version === Number.MAX_SAFE_INTEGER) {
        client.send('snapshot', served.body);
        state.version = served.version;
      }
      return async () => {
        mine.clients.delete(client);
        if (mine.clients.size === 0 && feeds.get(eventId) === mine) {
          feeds.delete(eventId);
          clearTimeout(mine.timer);
          await (
            await mine.unsubscribe
          )();
        }
      };
    },

    async close() {
      for (const [eventId, feed] of feeds) {
        clearTimeout(feed.timer);
        feeds.delete(eventId);
        await (await feed.unsubscribe)().catch(() => undefined);
      }
    },
  };
}
