/** The self-contained HTML report: inline SVG charts drawn here, no scripts, no external files. */
import type { ServerLatency } from './server-latency.ts';
import type { SeriesPoint } from './stats.ts';
import type { PgActivity } from './pg-activity.ts';

interface Line {
  label: string;
  color: string;
  values: (number | undefined)[];
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function niceMax(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= x)!;
}

/** One line chart over time (x = seconds since the window opened). */
export function chart(title: string, unit: string, lines: Line[], width = 720, height = 220): string {
  const pad = { l: 56, r: 12, t: 28, b: 30 };
  const n = Math.max(1, ...lines.map((l) => l.values.length));
  const max = niceMax(Math.max(0, ...lines.flatMap((l) => l.values.filter((v): v is number => v !== undefined))));
  const x = (i: number) => pad.l + ((width - pad.l - pad.r) * i) / Math.max(1, n - 1);
  const y = (v: number) => height - pad.b - ((height - pad.t - pad.b) * v) / max;
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (f) =>
        `<line x1="${pad.l}" x2="${width - pad.r}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#e5e7eb"/><text x="${pad.l - 6}" y="${y(max * f) + 4}" text-anchor="end">${+(max * f).toPrecision(3)}</text>`,
    )
    .join('');
  const step = Math.max(1, Math.ceil(n / 10 / 5) * 5);
  const ticks = Array.from({ length: Math.ceil(n / step) }, (_, k) => k * step)
    .map((i) => `<text x="${x(i)}" y="${height - pad.b + 16}" text-anchor="middle">${i}s</text>`)
    .join('');
  const paths = lines
    .map((l) => {
      let d = '';
      l.values.forEach((v, i) => {
        if (v === undefined) return;
        d += `${d === '' || l.values[i - 1] === undefined ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      });
      return `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.6"/>`;
    })
    .join('');
  const legend = lines
    .map(
      (l, i) =>
        `<rect x="${pad.l + i * 190}" y="8" width="10" height="10" fill="${l.color}"/><text x="${pad.l + 14 + i * 190}" y="17">${esc(l.label)}</text>`,
    )
    .join('');
  return `<figure><figcaption>${esc(title)} <small>(${esc(unit)})</small></figcaption><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-size="11" font-family="sans-serif">${grid}${ticks}${paths}${legend}</svg></figure>`;
}

function table(rows: (string | number)[][], head: string[]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export interface ReportInput {
  title: string;
  summary: Record<string, string | number>;
  verification: Record<string, number>;
  endpoints: Record<string, { count: number; errors: number; p50: number; p99: number; max: number }>;
  /** The API processes' own answer times per endpoint (their request histograms). */
  serverLatency: Record<string, ServerLatency>;
  /** The buyers' view after the arrival spike (see the summary), or null when it never settled. */
  afterSpike: {
    fromSeconds: number;
    toSeconds: number;
    endpoints: Record<string, { count: number; p50: number; p99: number }>;
  } | null;
  processes: { role: string; pid: number; peakRssMb: number; cpuSeconds: number }[];
  /** What PostgreSQL's connections were doing during the window (the scale shape only). */
  pgActivity?: PgActivity;
  series: SeriesPoint[];
}

export function renderReport(r: ReportInput): string {
  const s = r.series;
  const ok = Object.values(r.verification).every((n) => n === 0);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111827;max-width:1500px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #d1d5db;padding:3px 8px;text-align:right}th{background:#f3f4f6}
td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:8px 16px 8px 0}figcaption{font-weight:600}
.ok{color:#047857}.bad{color:#b91c1c}</style></head><body>
<h1>${esc(r.title)}</h1>
<h2 class="${ok ? 'ok' : 'bad'}">Verification: ${ok ? 'every count is 0' : 'FAILED'}</h2>
${table(Object.entries(r.verification), ['check', 'count'])}
<h2>Summary</h2>${table(Object.entries(r.summary), ['figure', 'value'])}
<h2>Over time</h2>
${chart('Arrivals and admissions', 'buyers per second', [
  { label: 'arrivals', color: '#2563eb', values: s.map((p) => p.arrivals) },
  { label: 'admitted (seen by buyers)', color: '#16a34a', values: s.map((p) => p.admitted) },
  {
    label: 'serving counter advance',
    color: '#ca8a04',
    values: s.map((p, i) => (i > 0 && p.serving !== undefined ? p.serving - (s[i - 1]!.serving ?? 0) : undefined)),
  },
])}
${chart('Orders', 'per second', [
  { label: 'holds', color: '#9333ea', values: s.map((p) => p.holds) },
  { label: 'orders', color: '#ea580c', values: s.map((p) => p.orders) },
  { label: 'paid', color: '#16a34a', values: s.map((p) => p.paid) },
])}
${chart('Queue length', 'buyers waiting (server status)', [{ label: 'waiting', color: '#2563eb', values: s.map((p) => p.waiting) }])}
${chart('Buyers in checkout', 'buyers (organizer view)', [
  { label: 'in checkout', color: '#16a34a', values: s.map((p) => p.active) },
  { label: 'limit (maxActive × back-off factor)', color: '#dc2626', values: s.map((p) => p.activeLimit) },
])}
${
  s.some((p) => p.backoffLoadMs !== undefined)
    ? chart('Admission back-off', "the slowest API process's load, ms", [
        { label: 'load', color: '#ea580c', values: s.map((p) => p.backoffLoadMs) },
      ])
    : ''
}
${chart('Latency of all requests', 'ms', [
  { label: 'p50', color: '#16a34a', values: s.map((p) => p.p50) },
  { label: 'p99', color: '#dc2626', values: s.map((p) => p.p99) },
  { label: 'p99 on the wire', color: '#ea580c', values: s.map((p) => p.wireP99) },
  { label: 'status probe (own connection)', color: '#2563eb', values: s.map((p) => p.probeMs) },
])}
${chart('Waiting in the load generator', 'requests queued for a connection (peak)', [
  { label: 'queued', color: '#9333ea', values: s.map((p) => p.clientQueued) },
])}
${chart('Requests', 'per second', [
  { label: 'requests', color: '#2563eb', values: s.map((p) => p.requests) },
  { label: 'errors (5xx, network)', color: '#dc2626', values: s.map((p) => p.errors) },
])}
<h2>Endpoints</h2>
<p>As the buyers saw them (from wanting to send a request to its answer, waiting for a connection
in the load generator included), and as the API processes answered them (their request histograms;
quantiles estimated within the histogram's buckets).</p>${table(
    [...new Set([...Object.keys(r.endpoints), ...Object.keys(r.serverLatency)])].sort().map((name) => {
      const e = r.endpoints[name];
      const own = r.serverLatency[name];
      return [
        name,
        e?.count ?? '',
        e?.errors ?? '',
        e?.p50 ?? '',
        e?.p99 ?? '',
        e?.max ?? '',
        own?.count ?? '',
        own?.p50Ms ?? '',
        own?.p99Ms ?? '',
      ];
    }),
    ['endpoint', 'requests', 'errors', 'p50 ms', 'p99 ms', 'max ms', 'server: requests', 'server p50 ms', 'server p99 ms'],
  )}
<h2>After the arrival spike</h2>${
    r.afterSpike
      ? `<p>As the buyers saw them, from ${r.afterSpike.fromSeconds} s (the first second after the arrivals in which no
request waited in the load generator for a connection) to ${r.afterSpike.toSeconds} s (the sell-out, or the window's end).</p>${table(
          Object.entries(r.afterSpike.endpoints).map(([name, e]) => [name, e.count, e.p50, e.p99]),
          ['endpoint', 'requests', 'p50 ms', 'p99 ms'],
        )}`
      : '<p>Never settled before the sell-out: requests waited in the load generator for a connection every second from the arrivals on.</p>'
  }
<h2>Processes</h2>${table(
    r.processes.map((p) => [p.role, p.pid, p.peakRssMb, p.cpuSeconds]),
    ['process', 'pid', 'peak RSS MB', 'CPU s (window)'],
  )}
${r.pgActivity ? pgSection(r.pgActivity) : ''}
</body></html>`;
}

function pgSection(a: PgActivity): string {
  return `<h2>PostgreSQL</h2><p>Sampled from pg_stat_activity ${a.samples} times: ${a.meanBusy} connections busy on
average. Each row is a share of all busy connections seen: in a statement (active) or inside a transaction
waiting for its client (idle in transaction), and what it waited for (CPU: nothing).</p>${table(
    a.top.map((t) => [t.share, t.state, t.wait, t.statement]),
    ['% of busy', 'state', 'wait', 'statement'],
  )}<p>Tables read by sequential scans during the window:</p>${table(
    a.seqScans.map((t) => [t.table, t.seqScans, t.rowsReadBySeqScans, t.indexScans]),
    ['table', 'sequential scans', 'rows read by them', 'index scans'],
  )}`;
}
