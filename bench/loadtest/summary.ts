/** What a run found, as the summary printed at its end and the results written beside it (.json, .html). */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { CACHED } from './http.ts';
import { renderReport } from './report.ts';
import type { RunOptions } from './run.ts';
import type { ShapeResult } from './shapes.ts';
import { percentile } from '../lib.ts';
import { round } from './stats.ts';
import { verificationLine } from './verify.ts';

export interface SummaryOptions extends Pick<
  RunOptions,
  'scenario' | 'shape' | 'api' | 'queueApi' | 'queueNice' | 'sharedCache' | 'connections'
> {
  /** --admission-backoff-ms as given (absent: off). */
  admissionBackoffMs: string | undefined;
}

/**
 * Buyers in checkout as the organizer's view showed them once a second, and, with admission
 * back-off on, what it did: the factor on maxActive (its lowest and median second, and how many
 * seconds it held checkout under a quarter of maxActive) and the load it saw.
 */
export function checkoutLines(series: { active?: number; backoffFactor?: number; backoffLoadMs?: number }[]) {
  const active = series.flatMap((p) => (p.active === undefined ? [] : [p.active]));
  if (active.length === 0) return {};
  const lines: Record<string, string | number> = { 'buyers in checkout (organizer view, peak)': Math.max(...active) };
  const factors = series.flatMap((p) => (p.backoffFactor === undefined ? [] : [p.backoffFactor])).sort((a, b) => a - b);
  const loads = series.flatMap((p) => (p.backoffLoadMs === undefined ? [] : [p.backoffLoadMs])).sort((a, b) => a - b);
  if (factors.length > 0) {
    lines['admission back-off, once a second (factor lowest / median; seconds under 0.25; load p50 / max ms)'] =
      `${factors[0]} / ${percentile(factors, 50)}; ${factors.filter((f) => f < 0.25).length} of ${factors.length}; ` +
      (loads.length > 0 ? `${round(percentile(loads, 50))} / ${round(loads.at(-1)!)}` : 'none reported');
  }
  return lines;
}

/** The summary's lines and the figures behind them. */
export function buildSummary(r: ShapeResult, o: SummaryOptions) {
  const { scenario, shape, sharedCache, connections } = o;
  const outcomes: Record<string, number> = {};
  for (const b of r.records) outcomes[b.outcome] = (outcomes[b.outcome] ?? 0) + 1;
  const soldUnits = r.sold.seats + r.sold.gaPlaces;
  const sortedPaid = [...r.paidAt].sort((a, b) => a - b);
  const soldOut = soldUnits >= r.venue.capacity;
  const series = r.stats.series();
  const peakOrders = Math.max(0, ...series.map((s) => s.orders));
  const firstOrder = series.findIndex((s) => s.orders > 0);
  const lastOrder = series.length - 1 - [...series].reverse().findIndex((s) => s.orders > 0);
  const ordersTotal = series.reduce((sum, s) => sum + s.orders, 0);
  // After the arrival spike: from the first second after the last arrival in which no request waited
  // in the generator for a connection, to the sell-out (else the window's end). While a spike's joins
  // arrive they queue and slow everything; this is the sale once they are through.
  const settledAt = series.findIndex((s) => s.t >= Math.ceil(scenario.arrivalSeconds) && s.clientQueued === 0);
  const settledUntilMs = r.stats.soldOutAt ?? r.windowSeconds * 1000;
  const afterSpike =
    settledAt >= 0 && settledAt * 1000 < settledUntilMs ? r.stats.endpointsBetween(settledAt * 1000, settledUntilMs) : null;
  const afterSpikeReport = afterSpike
    ? { fromSeconds: settledAt, toSeconds: round(settledUntilMs / 1000), endpoints: afterSpike }
    : null;
  const slowestAfterSpike = afterSpike ? Object.entries(afterSpike).sort(([, a], [, b]) => b.p99 - a.p99)[0] : undefined;
  // Inside the server, over the whole window: what the API processes' own histograms say.
  const slowestInServer = Object.entries(r.serverLatency).sort(([, a], [, b]) => b.p99Ms - a.p99Ms)[0];
  const endpoints = r.stats.endpoints();
  // On the wire, the arrivals' seconds apart from the rest of the sale: while tens of thousands join
  // at once, every request competes with the joins for the same cores.
  const arrivalsEndMs = Math.ceil(scenario.arrivalSeconds) * 1000;
  const wirePhases = {
    during: r.stats.endpointsBetween(0, arrivalsEndMs),
    after: arrivalsEndMs < settledUntilMs ? r.stats.endpointsBetween(arrivalsEndMs, settledUntilMs) : {},
  };
  /** The endpoint with the highest p99 on the wire, over the whole window or a part of it. */
  const slowestWire = (period: Record<string, { wireP99?: number }>) => {
    const [name, e] =
      Object.entries(period)
        .filter(([, x]) => x.wireP99 !== undefined)
        .sort(([, a], [, b]) => b.wireP99! - a.wireP99!)[0] ?? [];
    return name && e ? `${e.wireP99} ms (${name})` : 'none measured';
  };
  const summary = {
    scenario: scenario.name,
    shape:
      shape === 'scale'
        ? `scale (${o.api} API${Number(o.queueApi) > 0 ? ` + ${o.queueApi} waiting-room API at nice ${o.queueNice}` : ''} + 1 worker, PostgreSQL, Redis, RabbitMQ)`
        : 'embedded (PGlite, memory)',
    buyers: scenario.buyers,
    'buyers served (paid)': r.sold.paidOrders,
    'seats + GA places sold': `${soldUnits} of ${r.venue.capacity}`,
    'time to sell out (s, first SOLD_OUT answer)': r.stats.soldOutAt === undefined ? 'never' : round(r.stats.soldOutAt / 1000),
    'everything paid for at (s)': soldOut ? round((sortedPaid.at(-1) ?? 0) / 1000) : 'no (abandoned orders still held seats)',
    'last paid order at (s)': round((sortedPaid.at(-1) ?? 0) / 1000),
    'orders submitted': ordersTotal,
    'orders/s (mean while ordering)':
      lastOrder >= firstOrder && firstOrder >= 0 ? round(ordersTotal / (lastOrder - firstOrder + 1)) : 0,
    'orders/s (peak second)': peakOrders,
    'after the arrival spike (from the first second after the arrivals with no request waiting in the generator, to the sell-out)':
      afterSpike && slowestAfterSpike
        ? `${settledAt}-${round(settledUntilMs / 1000)} s: highest p99 ${slowestAfterSpike[1].p99} ms (${slowestAfterSpike[0]})`
        : 'never settled before the sell-out',
    "highest p99 inside the server (the API processes' histograms, the whole window)": slowestInServer
      ? `${slowestInServer[1].p99Ms} ms (${slowestInServer[0]})`
      : 'none measured',
    "highest p99 on the wire (from a request's first byte sent on a connection to its answer's last, k6's http_req_duration; the whole window)":
      slowestWire(endpoints),
    [`highest p99 on the wire during the arrivals (0-${arrivalsEndMs / 1000} s)`]: slowestWire(wirePhases.during),
    [`highest p99 on the wire after the arrivals (${arrivalsEndMs / 1000} s to the sell-out)`]: slowestWire(wirePhases.after),
    'admitted (seen by buyers)': r.records.filter((b) => b.admitted).length,
    'buyers whose place was lost and who joined again': r.records.filter((b) => b.rejoined > 0).length,
    'admissions logged': r.sold.admissionsLogged,
    outcomes: JSON.stringify(outcomes),
    'hold refusals, card declines': JSON.stringify(r.stats.counters),
    'orders by status': JSON.stringify(r.sold.ordersByStatus),
    'window (s)': round(r.windowSeconds),
    'restarts to settle cut-off payments': r.settleRestarts,
    ...('queueMb' in r ? { "waiting room in Redis (MB, the event's queue keys after the run)": Number(r.queueMb) } : {}),
    'API process killed (SIGKILL)': r.killed ? `pid ${r.killed.pid} at ${r.killed.atSeconds} s` : 'none',
    'Redis flushed (FLUSHDB)': r.flushed ? `at ${r.flushed.atSeconds} s` : 'none',
    'seeding (s, before the window)': round(r.seedSeconds),
    'warm-up sale (before the window, not counted; its own event)': r.warmedUp
      ? `${r.warmedUp.seconds} s, ${r.warmedUp.buyers} buyers, ${r.warmUpSold?.paidOrders ?? 0} paid orders`
      : 'none: the servers met the window cold',
    'load generators (processes)': r.generator.count,
    'load generator CPU (s, same machine)': round(r.generatorCpuSeconds),
    ...(r.services.length > 0
      ? {
          'services CPU (s, all their processes on this machine)': r.services
            .map((f) => `${f.service} ${f.cpuSeconds} (${f.processes} process${f.processes === 1 ? '' : 'es'})`)
            .join(', '),
        }
      : {}),
    ...(r.machine
      ? {
          'machine CPU busy (%, window and drain)': `${r.machine.busyPercent} of ${r.machine.cpus} CPUs (system ${r.machine.systemPercent}, soft interrupts ${r.machine.softirqPercent}, stolen by the hypervisor ${r.machine.stealPercent})`,
        }
      : {}),
    'load generator event-loop delay (ms, p50 / p99 / max)': `${r.generator.loopDelayP50Ms} / ${r.generator.loopDelayP99Ms} / ${r.generator.loopDelayMaxMs}`,
    'requests queued in the generator for a connection (peak)': r.generator.peakQueued,
    'status probe on its own connection, once a second (ms, p50 / p99)': `${r.generator.probeP50Ms} / ${r.generator.probeP99Ms}`,
    'public queue status through a shared HTTP cache (as a CDN)': sharedCache
      ? `on: kept as long as its Cache-Control allows, misses sent on the cache's own connections; answers from it count as "${CACHED.trim()}"`
      : 'off: every status poll reaches the server',
    'queue settings': JSON.stringify(scenario.queue),
    "admission back-off (threshold on the API processes' answer times, ms)": o.admissionBackoffMs ?? 'off',
    ...checkoutLines(series),
    'generator connections (checkout pool, waiting-room pool)': `${connections.checkout}, ${connections.waiting}`,
    'think time (s, at each of 3 checkout decisions)': `${scenario.thinkSeconds} (0.5-1.5 x)`,
    machine: `${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at the end`,
  };
  return { summary, outcomes, series, endpoints, afterSpike, afterSpikeReport, wirePhases };
}
export type Summary = ReturnType<typeof buildSummary>;

export function printSummary(r: ShapeResult, { summary, endpoints, afterSpike, wirePhases }: Summary) {
  console.log(
    Object.entries(summary)
      .map(([k, v]) => `  ${k}: ${v}`)
      .join('\n'),
  );
  // Three views of each endpoint: as the buyers saw it (from wanting to send to the answer, so with
  // any wait for a connection in the generator), on the wire (from its first byte sent on a
  // connection) and as the API processes answered it (their histograms).
  console.log(
    '  endpoint                 requests  errors   p50 ms   p99 ms   wire: p50 ms   p99 ms   server: requests   p50 ms   p99 ms',
  );
  for (const name of [...new Set([...Object.keys(endpoints), ...Object.keys(r.serverLatency)])].sort()) {
    const e = endpoints[name];
    const own = r.serverLatency[name];
    const cell = (x: number | undefined, width: number) => String(x ?? '').padStart(width);
    console.log(
      `  ${name.padEnd(24)} ${cell(e?.count, 8)} ${cell(e?.errors, 7)} ${cell(e?.p50, 8)} ${cell(e?.p99, 8)}   ${cell(e?.wireP50, 12)} ${cell(e?.wireP99, 8)}   ${cell(own?.count, 16)} ${cell(own?.p50Ms, 8)} ${cell(own?.p99Ms, 8)}`,
    );
  }
  if (afterSpike)
    console.log(
      `  after the arrival spike, p50 / p99 ms: ${Object.entries(afterSpike)
        .map(([name, e]) => `${name} ${e.p50} / ${e.p99}`)
        .join('; ')}`,
    );
  console.log(
    `  on the wire, p99 ms during the arrivals / after them: ${[
      ...new Set([...Object.keys(wirePhases.during), ...Object.keys(wirePhases.after)]),
    ]
      .sort()
      .filter((name) => wirePhases.during[name]?.wireP99 !== undefined || wirePhases.after[name]?.wireP99 !== undefined)
      .map((name) => `${name} ${wirePhases.during[name]?.wireP99 ?? '-'} / ${wirePhases.after[name]?.wireP99 ?? '-'}`)
      .join('; ')}`,
  );
  for (const p of r.processes) console.log(`  process ${p.role} (${p.pid}): peak RSS ${p.peakRssMb} MB, CPU ${p.cpuSeconds} s`);
  if (r.pgActivity) {
    const a = r.pgActivity;
    console.log(
      `  PostgreSQL during the window: ${a.meanBusy} connections busy on average (${a.samples} samples of pg_stat_activity); the busiest:`,
    );
    for (const t of a.top.slice(0, 8))
      console.log(`    ${String(t.share).padStart(5)} %  ${t.state}, ${t.wait}: ${t.statement.slice(0, 80)}`);
    const scanned = a.seqScans.slice(0, 3).map((t) => `${t.table} ${t.seqScans} scans / ${t.rowsReadBySeqScans} rows`);
    console.log(`  tables read by sequential scans: ${scanned.length > 0 ? scanned.join('; ') : 'none'}`);
  }
  if (r.warmUpVerification) console.log(`warm-up sale verification ${verificationLine(r.warmUpVerification)}`);
  console.log(`verification ${verificationLine(r.verification)}`);
}

/** Writes `${file}.json` (everything measured) and `${file}.html` (the report, with its charts). */
export async function writeResults(file: string, r: ShapeResult, o: SummaryOptions, s: Summary) {
  const { summary, endpoints, afterSpikeReport, series, outcomes, wirePhases } = s;
  const { patienceSeconds: _p, ...settings } = o.scenario;
  await writeFile(
    `${file}.json`,
    JSON.stringify(
      {
        summary,
        settings,
        verification: r.verification,
        warmUp: r.warmedUp
          ? { seconds: r.warmedUp.seconds, buyers: r.warmedUp.buyers, verification: r.warmUpVerification, sold: r.warmUpSold }
          : null,
        endpoints,
        afterSpike: afterSpikeReport,
        wireByPhase: wirePhases,
        serverLatency: r.serverLatency,
        processes: r.processes,
        services: r.services,
        machine: r.machine,
        pgActivity: r.pgActivity,
        series,
        outcomes,
      },
      null,
      2,
    ),
  );
  await writeFile(
    `${file}.html`,
    renderReport({
      title: `${o.scenario.name} — ${summary.shape}`,
      summary,
      verification: { ...r.verification },
      endpoints,
      serverLatency: r.serverLatency,
      afterSpike: afterSpikeReport,
      processes: r.processes,
      pgActivity: r.pgActivity,
      series,
    }),
  );
}
