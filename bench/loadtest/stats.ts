/** What a load test run measures: per-endpoint latencies and per-second time series. */
import { percentile } from '../lib.ts';

export interface Second {
  arrivals: number;
  admitted: number;
  holds: number;
  orders: number;
  paid: number;
  requests: number;
  errors: number;
  latencies: number[];
  /** The on-the-wire times of the second's requests that were sent on a connection (see `request`). */
  wire: number[];
  /** Server view from the status monitor: buyers waiting, and the serving counter. */
  waiting?: number;
  serving?: number;
  /** The most requests seen waiting in the generator for a connection this second (with several
   * generators, the sum of each one's most: an upper bound). */
  clientQueued: number;
  /** The status monitor's own request (its own connection, never queued behind the buyers'), ms. */
  probeMs?: number;
  /** From the organizer's view of the queue, read by the status monitor: buyers in checkout, and
   * the most the ticker lets in (maxActive, times admission back-off's factor when it is on). */
  active?: number;
  activeLimit?: number;
  /** Admission back-off, when on: the slowest API process's recent load (ms) and the factor on maxActive. */
  backoffLoadMs?: number;
  backoffFactor?: number;
}

export interface EndpointSummary {
  count: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
  /** On the wire (see `request`): absent when no request of the endpoint reached a connection. */
  wireP50?: number;
  wireP99?: number;
  statuses: Record<string, number>;
}

/**
 * An endpoint's requests, in step: each one's latency (ms), when it was answered (ms after t0), and
 * its time on the wire (NaN where it was not sent on a connection: answered by the shared cache).
 */
interface EndpointSamples {
  latencies: number[];
  at: number[];
  wire: number[];
  errors: number;
  statuses: Record<string, number>;
}

/** An endpoint over part of the window (see `endpointsBetween`). */
export interface PeriodSummary {
  count: number;
  p50: number;
  p99: number;
  /** On the wire; absent when none of its requests reached a connection. */
  wireP99?: number;
}

export interface StatsDump {
  seconds: Second[];
  endpoints: Record<string, EndpointSamples>;
  counters: Record<string, number>;
  soldOutAt: number | undefined;
}

/** The times on the wire of the requests sent on a connection (NaN marks one that was not), sorted. */
const sentOnTheWire = (wire: number[]): number[] => wire.filter((ms) => !Number.isNaN(ms)).sort((a, b) => a - b);

/** `wireP99` over sorted times on the wire; nothing when no request was sent. */
const wireP99 = (sorted: number[]): { wireP99?: number } => (sorted.length > 0 ? { wireP99: round(percentile(sorted, 99)) } : {});

const emptySecond = (): Second => ({
  arrivals: 0,
  admitted: 0,
  holds: 0,
  orders: 0,
  paid: 0,
  requests: 0,
  errors: 0,
  latencies: [],
  wire: [],
  clientQueued: 0,
});

export function createStats(t0: number) {
  const seconds: Second[] = [];
  const endpoints = new Map<string, EndpointSamples>();
  const newSamples = (): EndpointSamples => ({ latencies: [], at: [], wire: [], errors: 0, statuses: {} });
  const counters: Record<string, number> = {};
  let soldOutAt: number | undefined;

  function at(now = performance.now()): Second {
    const i = Math.max(0, Math.floor((now - t0) / 1000));
    while (seconds.length <= i) seconds.push(emptySecond());
    return seconds[i]!;
  }

  return {
    t0,
    at,
    /**
     * One request's outcome; `status` 0 is a network error or a timeout. `ms` runs from the buyer's
     * wish to send it, any wait for one of the generator's connections included; `wireMs`, when it
     * was sent, from its first byte written on a connection to its answer's last byte — what k6
     * reports as `http_req_duration` (its wait for a connection is `http_req_blocked`, apart).
     */
    request(endpoint: string, status: number, ms: number, wireMs?: number) {
      let e = endpoints.get(endpoint);
      if (!e) endpoints.set(endpoint, (e = newSamples()));
      const now = performance.now();
      e.latencies.push(ms);
      e.wire.push(wireMs ?? NaN);
      e.at.push(now - t0);
      e.statuses[status] = (e.statuses[status] ?? 0) + 1;
      const s = at(now);
      s.requests += 1;
      s.latencies.push(ms);
      if (wireMs !== undefined) s.wire.push(wireMs);
      if (status === 0 || status >= 500) {
        e.errors += 1;
        s.errors += 1;
      }
    },
    mark(kind: 'arrivals' | 'admitted' | 'holds' | 'orders' | 'paid') {
      at()[kind] += 1;
    },
    /** A buyer was told SOLD_OUT: nothing left to hold (the first time is the sell-out). */
    soldOut() {
      soldOutAt ??= performance.now() - t0;
    },
    get soldOutAt() {
      return soldOutAt;
    },
    count(name: string, by = 1) {
      counters[name] = (counters[name] ?? 0) + by;
    },
    counters,
    /** Everything measured, as plain data (a generator process sends it to the one that reports). */
    dump(): StatsDump {
      return { seconds, endpoints: Object.fromEntries(endpoints), counters, soldOutAt };
    },
    /** Adds another generator's measurements (same t0, on the wall clock) to these. */
    absorb(d: StatsDump) {
      for (const [name, theirs] of Object.entries(d.endpoints)) {
        let e = endpoints.get(name);
        if (!e) endpoints.set(name, (e = newSamples()));
        for (const ms of theirs.latencies) e.latencies.push(ms);
        for (const ms of theirs.at) e.at.push(ms);
        for (const ms of theirs.wire) e.wire.push(ms);
        e.errors += theirs.errors;
        for (const [status, n] of Object.entries(theirs.statuses)) e.statuses[status] = (e.statuses[status] ?? 0) + n;
      }
      d.seconds.forEach((theirs, i) => {
        while (seconds.length <= i) seconds.push(emptySecond());
        const s = seconds[i]!;
        for (const k of ['arrivals', 'admitted', 'holds', 'orders', 'paid', 'requests', 'errors'] as const) s[k] += theirs[k];
        for (const ms of theirs.latencies) s.latencies.push(ms);
        for (const ms of theirs.wire) s.wire.push(ms);
        s.clientQueued += theirs.clientQueued;
      });
      for (const [name, n] of Object.entries(d.counters)) counters[name] = (counters[name] ?? 0) + n;
      if (d.soldOutAt !== undefined && (soldOutAt === undefined || d.soldOutAt < soldOutAt)) soldOutAt = d.soldOutAt;
    },
    seconds,
    endpoints(): Record<string, EndpointSummary> {
      const out: Record<string, EndpointSummary> = {};
      for (const [name, e] of [...endpoints].sort(([a], [b]) => a.localeCompare(b))) {
        // A copy: `latencies` stays in step with `at`.
        const sorted = [...e.latencies].sort((a, b) => a - b);
        const wire = sentOnTheWire(e.wire);
        out[name] = {
          count: sorted.length,
          errors: e.errors,
          p50: round(percentile(sorted, 50)),
          p99: round(percentile(sorted, 99)),
          max: round(sorted.at(-1) ?? 0),
          ...(wire.length > 0 && { wireP50: round(percentile(wire, 50)), wireP99: round(percentile(wire, 99)) }),
          statuses: e.statuses,
        };
      }
      return out;
    },
    /**
     * Per endpoint, the requests answered from `fromMs` to before `toMs` (ms after t0), as the
     * buyers saw them and on the wire; endpoints with none are left out.
     */
    endpointsBetween(fromMs: number, toMs: number): Record<string, PeriodSummary> {
      const out: Record<string, PeriodSummary> = {};
      for (const [name, e] of [...endpoints].sort(([a], [b]) => a.localeCompare(b))) {
        const inside = (_: number, i: number) => e.at[i]! >= fromMs && e.at[i]! < toMs;
        const sorted = e.latencies.filter(inside).sort((a, b) => a - b);
        if (sorted.length > 0)
          out[name] = {
            count: sorted.length,
            p50: round(percentile(sorted, 50)),
            p99: round(percentile(sorted, 99)),
            ...wireP99(sentOnTheWire(e.wire.filter(inside))),
          };
      }
      return out;
    },
    /** The time series with latency percentiles instead of raw samples. */
    series() {
      // The status monitor can miss a second under load: carry its last reading forward.
      let last: Pick<Second, 'waiting' | 'serving'> = {};
      return seconds.map((s, i) => {
        if (s.waiting === undefined) Object.assign(s, last);
        else last = { waiting: s.waiting, serving: s.serving };
        const sorted = s.latencies.sort((a, b) => a - b);
        const { latencies: _dropped, wire, ...rest } = s;
        return {
          t: i,
          ...rest,
          p50: round(percentile(sorted, 50)),
          p99: round(percentile(sorted, 99)),
          ...wireP99(sentOnTheWire(wire)),
        };
      });
    },
  };
}
export type Stats = ReturnType<typeof createStats>;
export type SeriesPoint = ReturnType<Stats['series']>[number];

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
