/**
 * Prints the bench/README.md rows for load test results:
 *   npx tsx bench/loadtest/table.ts bench/results/seed-spike-<timestamp>.json ...
 */
import { readFile } from 'node:fs/promises';

interface Result {
  summary: Record<string, string | number>;
  verification: Record<string, number>;
  endpoints: Record<string, { p50: number; p99: number }>;
  processes: { role: string; peakRssMb: number; cpuSeconds: number }[];
  /** Since 2026-12-03: the services' CPU on the machine. */
  services?: { service: string; cpuSeconds: number }[];
}

const sellOut = (at: string | number | undefined) => (typeof at === 'number' ? `${at} s` : 'not sold out in the window');
const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);

for (const file of process.argv.slice(2)) {
  const r = JSON.parse(await readFile(file, 'utf8')) as Result;
  const s = r.summary;
  const failed = Object.entries(r.verification).filter(([, n]) => n !== 0);
  const processes = [
    ...r.processes
      .filter((p) => !p.role.startsWith('esbuild'))
      .map((p) => `${p.role.replace(/:\d+$/, '')} ${p.peakRssMb} MB / ${p.cpuSeconds} s`),
    ...(r.services ?? []).map((f) => `${f.service} ${f.cpuSeconds} s`),
  ].join('; ');
  const endpoints = Object.entries(r.endpoints)
    .map(([name, e]) => `${name} ${ms(e.p50)}/${ms(e.p99)}`)
    .join('; ');
  console.log(
    `| ${s.scenario} | ${String(s.shape).split(' ')[0]} | ${s.buyers} | ${s['buyers served (paid)']} | ${s['seats + GA places sold']} | ${sellOut(s['time to sell out (s, first SOLD_OUT answer)'])} | ${s['orders/s (mean while ordering)']} (peak ${s['orders/s (peak second)']}) | ${endpoints} | ${processes} | ${String(
      s.machine,
    )
      .replace(/.*load average /, '')
      .replace(' at the end', '')} | ${failed.length === 0 ? 'all 0' : failed.map(([k, n]) => `${k} ${n}`).join(', ')} |`,
  );
}
