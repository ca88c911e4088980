import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import type { WaitingRoomService } from './waiting-room.service.ts';
import type { AdmissionRecorder } from './waiting-room.recorder.ts';
import type { WaitingRoomStore } from './waiting-room.store.ts';
import { type AdmissionGovernor, highestLoad } from './backoff.ts';

export interface TickerDeps {
  service: WaitingRoomService;
  store: WaitingRoomStore;
  clock: Clock;
  log: { warn(obj: object, msg: string): void };
  /** Time between steps: short, so admission runs evenly (about admitPerMinute / 60 a second). */
  intervalMs?: number;
  /** The lease outlives a few missed steps, so a crashed ticker's events move to another within seconds. */
  leaseMs?: number;
  /** Copies each event's admission log to the database after every step it runs (absent: not kept). */
  recorder?: Pick<AdmissionRecorder, 'record'>;
  /** How long an event's queue data stays in the store once the event is over and its log copied. */
  retainMs?: number;
  /** Called once an event is over and its queue retired (the inventory lets its hot state go too). */
  onFinished?: (eventId: string, retainMs: number) => Promise<void>;
  /** Admission back-off (backoff.ts): each step scales an event's maxActive by the factor it gives for the API processes' load and the event's buyers in checkout. */
  governor?: AdmissionGovernor;
}

/**
 * The admission ticker (role 'ticker'): every intervalMs, for each event with a queue, it takes
 * or renews the event's lease and runs one step. With several processes the lease leaves one
 * ticker per event; even two at once could not admit faster, since the rate bucket lives in the store.
 */
export function createTicker({
  service,
  store,
  clock,
  log,
  recorder,
  onFinished,
  governor,
  intervalMs = 200,
  leaseMs = 2000,
  retainMs = 3_600_000,
}: TickerDeps) {
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  /** Events whose lease this ticker held on its last step: their log is flushed once more on stop. */
  const led = new Set<string>();

  /** The share of the event's maxActive in checkout (admitted, not yet done). */
  async function activeShare(eventId: string): Promise<number> {
    const [s, counters] = await Promise.all([service.settingsOf(eventId), store.counters(eventId)]);
    return s.rules.maxActive > 0 ? Math.min(1, counters.active / s.rules.maxActive) : 0;
  }

  async function tickAll(now = clock.now()) {
    const events = await store.queues();
    // One reading of the load board a step, for every event this ticker leads; a failed read is no report.
    if (governor && events.length > 0) {
      governor.step(
        await highestLoad(store, now).catch((err: unknown) => {
          log.warn({ err }, 'admission back-off: load board read failed');
          return null;
        }),
      );
    }
    for (const eventId of events) {
      try {
        const finished = await service.finishedLongAgo(eventId, now);
        if (finished) {
          // Over: the log reaches the database, the ticker lets go, and the hot state expires later.
          // Gone from the database: nothing to record (and no row for the log to refer to).
          if (finished === 'over') await recorder?.record(eventId);
          await store.removeQueue(eventId);
          await store.expireQueue(eventId, retainMs);
          await onFinished?.(eventId, retainMs);
          led.delete(eventId);
          governor?.forget(eventId);
          continue;
        }
        if (!(await store.lease(eventId, owner, leaseMs))) {
          led.delete(eventId);
          governor?.forget(eventId);
          continue;
        }
        led.add(eventId);
        let factor = 1;
        if (governor) {
          // The event's own factor, from its own buyers in checkout; on the board for the organizer's view.
          factor = governor.factorFor(eventId, await activeShare(eventId));
          await store
            .report('factor', eventId, factor, now)
            .catch((err: unknown) => log.warn({ err, eventId }, 'admission back-off: factor report failed'));
        }
        await service.tickEvent(eventId, now, factor);
        await recorder?.record(eventId);
      } catch (err) {
        log.warn({ err, eventId }, 'queue tick failed');
      }
    }
  }

  function step() {
    running ??= tickAll()
      .catch((err: unknown) => log.warn({ err }, 'queue ticker failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    owner,
    start() {
      timer ??= setInterval(() => void step(), intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
      // Admissions made at once by joins since the last step reach the database before the store closes.
      for (const eventId of led) {
        await recorder?.record(eventId).catch((err: unknown) => log.warn({ err, eventId }, 'admission log flush failed'));
      }
    },
    /** Runs one step for every event now (tests; a deterministic tick at the clock's time). */
    tick: (now?: number) => tickAll(now),
  };
}
export type Ticker = ReturnType<typeof createTicker>;
