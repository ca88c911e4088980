/**
 * The server's own answer times per endpoint, from the API processes' `http_request_duration_seconds`
 * histograms (GET /metrics): what each request cost inside the server, from its arrival to its
 * reply, without the time it waited in the load generator for a connection or in the kernel's
 * socket queues. API processes sharing one port each answer a scrape in turn, so a scrape is
 * repeated until every process has answered (ticketmax_process_info names the one that did).
 */

/** Cumulative bucket counts by upper bound (seconds; Infinity last), per endpoint ("GET /queue/status"). */
export type Histograms = Map<string, Map<number, number>>;

export interface ServerLatency {
  count: number;
  /** Estimated like Prometheus' histogram_quantile: linear within the bucket; Infinity beyond the last bound. */
  p50Ms: number;
  p99Ms: number;
}

/** The load generator's name for a route: "POST /api/orders/:id/pay" → "POST /pay", "GET /api/events/:id/seatmap" → "GET /seatmap". */
export function endpointName(method: string, route: string): string {
  const path = route
    .replace(/^\/api\/events\/:id(?=\/)/, '')
    .replace(/^\/api\/orders\/:id\/pay$/, '/pay')
    .replace(/^\/api(?=\/)/, '');
  return `${method} ${path}`;
}

function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
  return labels;
}

/** Parses one /metrics answer: which process answered, and its request-duration buckets summed over status classes. */
export function parseMetrics(text: string): { instance: string | undefined; histograms: Histograms } {
  let instance: string | undefined;
  const histograms: Histograms = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('ticketmax_process_info{')) instance = labelsOf(line).instance;
    if (!line.startsWith('http_request_duration_seconds_bucket{')) continue;
    const close = line.lastIndexOf('}');
    const labels = labelsOf(line.slice(0, close));
    const count = Number(line.slice(close + 1).trim());
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    const name = endpointName(labels.method ?? '?', labels.route ?? '?');
    const buckets = histograms.get(name) ?? new Map<number, number>();
    buckets.set(le, (buckets.get(le) ?? 0) + count);
    histograms.set(name, buckets);
  }
  return { instance, histograms };
}

/** Adds (sign 1) or takes away (sign −1) b's counts to or from a. */
export function addHistograms(a: Histograms, b: Histograms, sign: 1 | -1 = 1): Histograms {
  const out: Histograms = new Map([...a].map(([name, buckets]) => [name, new Map(buckets)]));
  for (const [name, buckets] of b) {
    const target = out.get(name) ?? new Map<number, number>();
    for (const [le, n] of buckets) target.set(le, (target.get(le) ?? 0) + sign * n);
    out.set(name, target);
  }
  return out;
}

/** The q-quantile (0–1) of cumulative buckets, in ms. */
export function quantileMs(buckets: Map<number, number>, q: number): number {
  const bounds = [...buckets.keys()].sort((x, y) => x - y);
  const total = buckets.get(Infinity) ?? 0;
  if (total <= 0) return 0;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const cumulative = buckets.get(le)!;
    if (cumulative >= rank) {
      if (le === Infinity) return Infinity;
      const inBucket = cumulative - below;
      return (lower + (le - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1)) * 1000;
    }
    lower = le;
    below = cumulative;
  }
  return Infinity;
}

export function summarize(histograms: Histograms): Record<string, ServerLatency> {
  const out: Record<string, ServerLatency> = {};
  for (const [name, buckets] of [...histograms].sort(([a], [b]) => a.localeCompare(b))) {
    const count = buckets.get(Infinity) ?? 0;
    if (count <= 0) continue;
    out[name] = {
      count,
      p50Ms: Math.round(quantileMs(buckets, 0.5) * 10) / 10,
      p99Ms: Math.round(quantileMs(buckets, 0.99) * 10) / 10,
    };
  }
  return out;
}

/**
 * Scrapes `url`/metrics until `processes` different processes have answered (or `tries` scrapes
 * were made); returns each one's histograms by instance.
 */
export async function scrape(url: string, processes: number, tries = 60): Promise<Map<string, Histograms>> {
  const seen = new Map<string, Histograms>();
  const headers: Record<string, string> = process.env.METRICS_TOKEN
    ? { authorization: `Bearer ${process.env.METRICS_TOKEN}` }
    : {};
  for (let i = 0; i < tries && seen.size < processes; i++) {
    try {
      const res = await fetch(`${url}/metrics`, { headers });
      if (!res.ok) continue;
      const { instance, histograms } = parseMetrics(await res.text());
      if (instance !== undefined) seen.set(instance, histograms);
    } catch {
      // A process starting or going away: ask again.
    }
  }
  return seen;
}

/**
 * What the processes answered between two scrapes, merged: each process's counts after, less its
 * counts before (a process that appeared in between, such as a replacement, counts from zero; one
 * that went away, such as a killed one, is missing from `after` with what it had answered).
 */
export function between(before: Map<string, Histograms>, after: Map<string, Histograms>): Histograms {
  let total: Histograms = new Map();
  for (const [instance, histograms] of after) {
    total = addHistograms(total, histograms);
    const earlier = before.get(instance);
    if (earlier) total = addHistograms(total, earlier, -1);
  }
  return total;
}
