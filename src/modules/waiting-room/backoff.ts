/**
 * Admission back-off: the ticker admits fewer buyers while the API processes answer slowly, so a
 * `maxActive` set higher than the servers can serve briskly does not turn into seconds of waiting
 * for every buyer in checkout, and a crowd arriving at once gets its places before the admitted
 * buyers' checkouts take the CPU (bench/README.md, spike-10x on the eighth machine).
 *
 * Each API process measures how slowly it answers (`createLoadSensor`: over each half second, the
 * 99th percentile of its answer times, less any time spent waiting on a payment provider, or of
 * how late its event loop ran, whichever is higher — a request waiting to be read is late before
 * it is timed) and reports it to the store's load board; the ticker reads the highest recent
 * report every step and `createAdmissionGovernor` turns it into a factor on each event's
 * `maxActive`, each event its own. While the load stays above the threshold, at most once in two
 * seconds, each factor becomes three quarters of the event's share of `maxActive` in checkout at
 * that moment (never below a twentieth): buyers are then let in only as others finish, at most as
 * many as the servers answered briskly, so the limit clocks itself by the buyers' own pace. A cut needs the load over the threshold for four steps in a row (two
 * readings), not one slow reading among calm ones. While the load is under half the threshold
 * the factors gain 1/250 a step (a fiftieth of `maxActive` a second at 200 ms a step), feeling for
 * what the servers can take; while it is under a quarter of it — the servers plainly idle — they
 * grow by 3 % a step instead when that is more (doubling in under five seconds), so a cut made in
 * a slow spell is not followed by a minute of admitting a trickle to idle servers; between half
 * and the whole threshold they stay. The admission rate is left alone: the number in checkout is
 * what loads the servers. The ticker reports each event's factor on a second board, for the
 * organizer's view (`backoffView`). Off unless TICKETMAX_ADMISSION_BACKOFF_MS is set; `maxActive`
 * and `admitPerMinute` stay the limits — the back-off only ever admits fewer.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { WaitingRoomStore } from './waiting-room.store.ts';

/** Reports on the back-off's boards older than this are from a process that stopped reporting. */
export const REPORT_MAX_AGE_MS = 2000;

/** The highest recent load on the board (ms), or null when no API process reported lately. */
export async function highestLoad(store: Pick<WaitingRoomStore, 'readings'>, now: number): Promise<number | null> {
  const loads = await store.readings('load', now, REPORT_MAX_AGE_MS);
  return loads.length > 0 ? Math.max(...loads) : null;
}

/** What admission back-off sees and does, for the organizer's dashboard. */
export interface BackoffView {
  /** TICKETMAX_ADMISSION_BACKOFF_MS. */
  thresholdMs: number;
  /** The slowest API process's recent answers (ms), or null when none reported lately. */
  loadMs: number | null;
  /** The factor on the event's maxActive (1: none) its ticker applied lately; null when none stepped it. */
  factor: number | null;
}

export async function backoffView(
  store: Pick<WaitingRoomStore, 'readings' | 'reading'>,
  thresholdMs: number,
  eventId: string,
  now: number,
): Promise<BackoffView> {
  const [loadMs, factor] = await Promise.all([highestLoad(store, now), store.reading('factor', eventId, now, REPORT_MAX_AGE_MS)]);
  return {
    thresholdMs,
    loadMs: loadMs === null ? null : Math.round(loadMs * 10) / 10,
    factor: factor === null ? null : Math.round(factor * 1000) / 1000,
  };
}

export interface AdmissionGovernor {
  /** Once a step, before the events: the highest recent load (ms; null: no process reported). */
  step(loadMs: number | null): void;
  /** This step's factor on the event's maxActive, given the share of it in checkout now (0–1). */
  factorFor(eventId: string, activeShare: number): number;
  /** Each event's latest factor, for the events this governor has stepped. */
  factors(): ReadonlyMap<string, number>;
  /** Forgets an event (no longer led by this ticker, or retired). */
  forget(eventId: string): void;
}

export function createAdmissionGovernor(
  thresholdMs: number,
  options: {
    floor?: number;
    decrease?: number;
    recovery?: number;
    growth?: number;
    holdSteps?: number;
    sustainSteps?: number;
  } = {},
): AdmissionGovernor {
  const floor = options.floor ?? 0.05;
  const decrease = options.decrease ?? 0.75;
  const recovery = options.recovery ?? 0.004;
  // Measured (bench/README.md, sixteenth machine): after a cut to a twentieth in a slow spell,
  // 1/250 a step alone took 25 s to let in 140 buyers a second again while the servers idled.
  const growth = options.growth ?? 0.03;
  // Buyers let in now load the servers only seconds later (they choose seats, then pay), and a
  // reading spans half a second: a cut shows in the readings only after a while. So a cut is
  // followed by `holdSteps` steps without another (two seconds at 200 ms a step), or the factor
  // would fall to the floor on one slow spell.
  const holdSteps = options.holdSteps ?? 10;
  // A cut needs the load over the threshold for `sustainSteps` steps in a row (0.8 s at 200 ms a
  // step: two half-second readings). One slow reading among calm ones — a collection pause, a
  // slow disk flush — is not the buyers' load, and cutting on it emptied checkout for seconds at
  // a time on the sixteenth machine (bench/README.md) while the servers were mostly idle.
  const sustainSteps = options.sustainSteps ?? 4;
  let sinceCut = holdSteps;
  let slowSteps = 0;
  let steps = 0;
  let verdict: 'cut' | 'hold' | 'raise' | 'grow' = 'grow';
  const events = new Map<string, { factor: number; step: number }>();
  return {
    step(loadMs) {
      steps++;
      sinceCut++;
      slowSteps = loadMs !== null && loadMs > thresholdMs ? slowSteps + 1 : 0;
      if (slowSteps > 0) {
        verdict = sinceCut > holdSteps && slowSteps >= sustainSteps ? 'cut' : 'hold';
        if (verdict === 'cut') sinceCut = 0;
      } else {
        // Raised only with room to spare: the load of buyers let in now shows seconds later, so a
        // limit still rising as the load nears the threshold would overshoot it.
        verdict = loadMs === null || loadMs <= thresholdMs / 4 ? 'grow' : loadMs <= thresholdMs / 2 ? 'raise' : 'hold';
      }
    },
    factorFor(eventId, activeShare) {
      const state = events.get(eventId) ?? { factor: 1, step: 0 };
      if (state.step !== steps) {
        state.step = steps;
        // A cut from the buyers in checkout now, not from the setting: with maxActive far above
        // what is in checkout, a cut of the setting would let in as many as before.
        if (verdict === 'cut') state.factor = Math.max(floor, Math.min(state.factor, activeShare) * decrease);
        else if (verdict === 'raise') state.factor = Math.min(1, state.factor + recovery);
        else if (verdict === 'grow') state.factor = Math.min(1, state.factor + Math.max(recovery, state.factor * growth));
        events.set(eventId, state);
      }
      return state.factor;
    },
    factors: () => new Map([...events].map(([eventId, state]) => [eventId, state.factor])),
    forget(eventId) {
      events.delete(eventId);
    },
  };
}

/**
 * A request's time spent waiting on a service outside the system (a payment provider's network
 * and its processing): part of the buyer's wait, but not the servers' load. A real provider's
 * charge takes hundreds of milliseconds however idle the servers are; counted as load, every
 * payment would hold admission at its floor. The sensor is given answer times without it.
 */
const outside = new AsyncLocalStorage<{ ms: number }>();

/** Runs `next` — the rest of a request's handling — with `tally` counting its time spent outside. */
export function tallyOutside(tally: { ms: number }, next: () => void): void {
  outside.run(tally, next);
}

/** Runs `work`, a call to a service outside, counting its time in the current request's tally. */
export async function waitOutside<T>(work: () => Promise<T>): Promise<T> {
  const tally = outside.getStore();
  if (!tally) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    tally.ms += performance.now() - started;
  }
}

/** How slowly this process answers, per period: see the module's comment. */
export function createLoadSensor(periodMs = 500) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  /** Answer times in µs (a histogram records whole numbers of at least 1). */
  const answers = createHistogram();
  let latest = 0;
  let timer: NodeJS.Timeout | undefined;
  return {
    start(onReading: (loadMs: number) => void) {
      histogram.enable();
      timer ??= setInterval(() => {
        // The histogram counts the resolution's own sleep in every sample: what is over it is lateness.
        const late = Math.max(0, histogram.percentile(99) / 1e6 - 10);
        histogram.reset();
        latest = Math.max(late, answers.percentile(99) / 1000);
        answers.reset();
        onReading(latest);
      }, periodMs);
      timer.unref();
    },
    /** One answer's time (ms), from its arrival to its reply, less its time spent outside (`waitOutside`). */
    answered(ms: number) {
      if (timer) answers.record(Math.max(1, Math.round(ms * 1000)));
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      histogram.disable();
    },
    latest: () => latest,
  };
}
