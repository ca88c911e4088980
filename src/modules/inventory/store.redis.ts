import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RESP_TYPES } from 'redis';
import type { LuaReply, Redis } from '../../platform/redis.ts';
import { bitmapBytes } from './bitmap.ts';
import {
  type CommitResult,
  type HoldRecord,
  type InventoryMessage,
  type InventorySeed,
  type InventoryStore,
  NOT_LOADED,
  type SetHoldInput,
  type SetHoldResult,
} from './inventory.store.ts';
import { EVENTS_WITH_HOLDS_KEY, eventKeys } from './keys.ts';

const SCRIPT_NAMES = [
  'set-hold',
  'get-hold',
  'list-holds',
  'commit-hold',
  'release-seats',
  'sweep-holds',
  'load-event',
  'read-availability',
] as const;
type ScriptName = (typeof SCRIPT_NAMES)[number];
const SCRIPT_FILES = Object.fromEntries(
  SCRIPT_NAMES.map((name) => [name, new URL(`./lua/${name}.lua`, import.meta.url)]),
) as Record<ScriptName, URL>;
// The snapshot script returns raw bitmap bytes, which need a Buffer reply; it is run by its sha
// (SCRIPT LOAD answers the SHA-1 of the source) with a type mapping the shared runner lacks.
const READ_AVAILABILITY_SHA = createHash('sha1').update(readFileSync(SCRIPT_FILES['read-availability'], 'utf8')).digest('hex');

/** Holds released per sweep call, so one call never blocks Redis for long. */
const SWEEP_BATCH = 500;
/** A process stops sweeping an event it touched after this long without holds or hold requests. */
const LOCAL_IDLE_MS = 60_000;

type Reply = LuaReply | Buffer | undefined;

function csv(values: readonly (string | number)[]): string {
  return values.join(',');
}
function gaArg(ga: Record<string, number>): string {
  return Object.entries(ga)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([section, quantity]) => `${section}=${quantity}`)
    .join(',');
}

/** Parses "expiresAt|i,j,k|section=qty,..." as written by set-hold.lua. */
export function parseHoldRecord(record: string): HoldRecord {
  const [x = '0', s = '', g = ''] = record.split('|');
  const ga: Record<string, number> = {};
  for (const pair of g.split(',')) {
    const [section, quantity] = pair.split('=');
    if (section && quantity) ga[section] = Number(quantity);
  }
  return { expiresAt: Number(x), seats: s === '' ? [] : s.split(',').map(Number), ga };
}

/** Parses a channel message: "reset", or "version|taken|freed|section=remaining,...". */
export function parseMessage(message: string): InventoryMessage {
  if (message === 'reset') return { kind: 'reset' };
  const [v = '0', t = '', f = '', g = ''] = message.split('|');
  const ga: Record<string, number> = {};
  for (const pair of g.split(',')) {
    const [section, remaining] = pair.split('=');
    if (section && remaining !== undefined) ga[section] = Number(remaining);
  }
  const list = (text: string) => (text === '' ? [] : text.split(',').map(Number));
  return { kind: 'delta', delta: { version: Number(v), taken: list(t), freed: list(f), ga } };
}

/**
 * The scale-out inventory: every mutation is one Lua script over the event's keys, so it is
 * atomic across every API process. Deltas are published by the scripts themselves, in the
 * same atomic step that changes the bitmap, on the event's channel.
 *
 * If Redis is flushed or restarted, holds not yet ordered are lost (accepted: a buyer picks
 * again); availability is rebuilt from the database, where ordered seats live, the first time
 * a script reports the event NOT_LOADED.
 */
export async function createRedisInventoryStore(redis: Redis): Promise<InventoryStore> {
  const { client } = redis;
  const runner = await redis.loadScripts(SCRIPT_FILES);
  const run = async (name: ScriptName, keys: string[], args: (string | number)[]) => (await runner(name, keys, args)) as Reply[];
  const bufferReplies = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

  async function readAvailability(keys: string[]): Promise<Reply[]> {
    const command = ['EVALSHA', READ_AVAILABILITY_SHA, String(keys.length), ...keys];
    try {
      return await client.sendCommand<Reply[]>(command, bufferReplies);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      // The shared runner loads it again (a restart or SCRIPT FLUSH forgot it); then read as bytes.
      await runner('read-availability', keys, []);
      return client.sendCommand<Reply[]>(command, bufferReplies);
    }
  }

  // One subscriber connection per process; every local listener of an event shares its channel.
  let subscriber: Redis['client'] | undefined;
  const listeners = new Map<string, Set<(message: InventoryMessage) => void>>();
  const onChannel = (message: string, channel: string) => {
    const eventId = channelEvents.get(channel);
    if (eventId === undefined) return;
    const parsed = parseMessage(message);
    for (const listener of listeners.get(eventId) ?? []) {
      try {
        listener(parsed);
      } catch {
        // One broken listener must not starve the others.
      }
    }
  };
  const channelEvents = new Map<string, string>();

  // Events this process saw holds on, with when; plus the shared set, for processes that restart.
  const touched = new Map<string, number>();
  const announced = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  /** The sweep in flight, if any: one at a time, and close() waits for it. */
  let sweeping: Promise<void> | undefined;

  const store: InventoryStore = {
    kind: 'redis',

    async load(eventId: string, seed: InventorySeed, mode: 'missing' | 'replace') {
      const k = eventKeys(eventId);
      const ga = Object.entries(seed.ga)
        .map(([section, g]) => `${section}=${g.capacity}=${Math.max(0, g.remaining)}`)
        .join(',');
      const reply = (await run(
        'load-event',
        [k.meta, k.bits, k.ga, k.holds],
        [mode, seed.seatCount, csv(seed.taken), ga, k.channel],
      )) as unknown as number;
      return reply === 1;
    },

    async setHold(eventId: string, input: SetHoldInput): Promise<SetHoldResult> {
      const k = eventKeys(eventId);
      const holding = input.seats.length > 0 || Object.keys(input.ga).length > 0;
      // The shared set is refreshed at most once a second per process; in between, this
      // process's own sweeper covers the event (it is in `touched`).
      const announce = holding && input.now - (announced.get(eventId) ?? 0) > 1000;
      if (holding) touched.set(eventId, input.now);
      if (announce) announced.set(eventId, input.now);
      const [reply] = await Promise.all([
        run(
          'set-hold',
          [k.meta, k.bits, k.ga, k.holds, k.expiries],
          [input.userId, input.now, input.holdMs, csv(input.seats), gaArg(input.ga), k.channel],
        ),
        // Sent in the same write as the script (node-redis pipelines one tick's commands).
        announce ? client.sendCommand(['SADD', EVENTS_WITH_HOLDS_KEY, eventId]) : undefined,
      ]);
      const code = Number(reply[0]);
      if (code === -1) return NOT_LOADED;
      if (code === -2) return { ok: false, code: 'SEATS_TAKEN', seats: reply.slice(1).map(Number) };
      if (code === -3) return { ok: false, code: 'GA_SHORT', section: String(reply[1]), remaining: Number(reply[2]) };
      if (code === -4) throw new Error(`set-hold: seat index ${String(reply[1])} beyond the event's seats`);
      const expiresAt = Number(reply[1]);
      const hold = expiresAt === 0 ? null : { seats: [...input.seats], ga: { ...input.ga }, expiresAt };
      return { ok: true, hold, version: Number(reply[2]) };
    },

    async getHold(eventId: string, userId: string, now: number) {
      const k = eventKeys(eventId);
      const reply = await run('get-hold', [k.meta, k.holds], [userId]);
      const code = Number(reply[0]);
      if (code === -1) return NOT_LOADED;
      if (code === 0) return null;
      const hold = parseHoldRecord(String(reply[1]));
      return hold.expiresAt > now ? hold : null;
    },

    async listHolds(eventId: string) {
      const k = eventKeys(eventId);
      const reply = await run('list-holds', [k.meta, k.holds], []);
      if (Number(reply[0]) === -1) return NOT_LOADED;
      const out = new Map<string, HoldRecord>();
      for (let n = 1; n + 1 < reply.length; n += 2) out.set(String(reply[n]), parseHoldRecord(String(reply[n + 1])));
      return out;
    },

    async commitHold(eventId: string, userId: string, now: number): Promise<CommitResult> {
      const k = eventKeys(eventId);
      const reply = await run('commit-hold', [k.meta, k.holds, k.expiries], [userId, now]);
      const code = Number(reply[0]);
      if (code === -1) return NOT_LOADED;
      if (code === -5) return { ok: false, code: 'NO_HOLD' };
      if (code === -6) return { ok: false, code: 'HOLD_EXPIRED' };
      return { ok: true, hold: parseHoldRecord(String(reply[1])) };
    },

    async releaseSeats(eventId: string, seats: number[], ga: Record<string, number>) {
      const k = eventKeys(eventId);
      const reply = await run('release-seats', [k.meta, k.bits, k.ga], [csv(seats), gaArg(ga), k.channel]);
      if (Number(reply[0]) === -1) return NOT_LOADED;
      return { ok: true as const, version: Number(reply[1]) };
    },

    async snapshot(eventId: string) {
      const k = eventKeys(eventId);
      const reply = await readAvailability([k.meta, k.bits, k.ga]);
      const version = Number(reply[0]);
      if (version === -1) return NOT_LOADED;
      const seatCount = Number(reply[1]);
      const raw = reply[2] as Buffer | string;
      const bitmap = new Uint8Array(bitmapBytes(seatCount));
      bitmap.set(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw.subarray(0, bitmap.length));
      const ga: Record<string, number> = {};
      for (let n = 3; n + 1 < reply.length; n += 2) ga[String(reply[n])] = Number(String(reply[n + 1]));
      return { version, seatCount, bitmap, ga };
    },

    async sweep(eventId: string, now: number) {
      const k = eventKeys(eventId);
      let released = 0;
      for (;;) {
        const reply = await run('sweep-holds', [k.meta, k.bits, k.ga, k.holds, k.expiries], [now, SWEEP_BATCH, k.channel]);
        const count = Number(reply[0]);
        if (count === -1) {
          touched.delete(eventId);
          return released;
        }
        released += count;
        const left = Number(reply[1]);
        if (count < SWEEP_BATCH) {
          if (left === 0) await forgetIfIdle(eventId, now);
          return released;
        }
      }
    },

    async subscribe(eventId: string, listener: (message: InventoryMessage) => void) {
      if (!subscriber) {
        subscriber = client.duplicate();
        subscriber.on('error', () => undefined);
        await subscriber.connect();
      }
      const channel = eventKeys(eventId).channel;
      let set = listeners.get(eventId);
      if (!set) {
        listeners.set(eventId, (set = new Set()));
        channelEvents.set(channel, eventId);
        await subscriber.subscribe(channel, onChannel);
      }
      set.add(listener);
      return async () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(eventId) === set) {
          listeners.delete(eventId);
          channelEvents.delete(channel);
          await subscriber?.unsubscribe(channel, onChannel).catch(() => undefined);
        }
      };
    },

    async drop(eventId: string) {
      const k = eventKeys(eventId);
      await client.sendCommand(['DEL', k.meta, k.bits, k.ga, k.holds, k.expiries]);
    },

    async expire(eventId: string, afterMs: number) {
      const k = eventKeys(eventId);
      const ms = String(Math.max(1, Math.round(afterMs)));
      await Promise.all([k.meta, k.bits, k.ga, k.holds, k.expiries].map((key) => client.sendCommand(['PEXPIRE', key, ms])));
    },

    async holdCounts() {
      const shared = await client.sendCommand<string[]>(['SMEMBERS', EVENTS_WITH_HOLDS_KEY]);
      const ids = [...new Set([...touched.keys(), ...shared])];
      const counts = await Promise.all(ids.map((id) => client.sendCommand<number>(['ZCARD', eventKeys(id).expiries])));
      const out: Record<string, number> = {};
      ids.forEach((id, n) => {
        if (Number(counts[n]) > 0) out[id] = Number(counts[n]);
      });
      return out;
    },

    startSweeper(intervalMs: number, now: () => number, onError: (err: unknown) => void) {
      clearInterval(timer);
      timer = setInterval(() => {
        if (sweeping) return;
        sweeping = sweepAll(now())
          .catch(onError)
          .finally(() => {
            sweeping = undefined;
          });
      }, intervalMs);
      timer.unref();
    },

    async close() {
      clearInterval(timer);
      // A sweep still running would meet a closed client.
      await sweeping;
      listeners.clear();
      channelEvents.clear();
      if (subscriber) await subscriber.close().catch(() => undefined);
    },
  };

  /**
   * Drops an event with no holds left from the shared set. A hold written between the SREM and
   * the ZCARD re-check puts it back; one written after the re-check SADDs it again itself.
   */
  async function forgetIfIdle(eventId: string, now: number) {
    const last = touched.get(eventId);
    if (last !== undefined && now - last < LOCAL_IDLE_MS) return;
    touched.delete(eventId);
    announced.delete(eventId);
    await client.sendCommand(['SREM', EVENTS_WITH_HOLDS_KEY, eventId]);
    const left = Number(await client.sendCommand(['ZCARD', eventKeys(eventId).expiries]));
    if (left > 0) await client.sendCommand(['SADD', EVENTS_WITH_HOLDS_KEY, eventId]);
  }

  async function sweepAll(now: number) {
    const shared = await client.sendCommand<string[]>(['SMEMBERS', EVENTS_WITH_HOLDS_KEY]);
    const ids = new Set([...touched.keys(), ...shared]);
    await Promise.all([...ids].map((id) => store.sweep(id, now)));
  }

  return store;
}
