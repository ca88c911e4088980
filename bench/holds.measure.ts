// Measuring helpers of the hold benchmark (bench/holds.ts): processes, autocannon, wrk, timed loops.
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { median, startProcess as launch } from './lib.ts';

export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);

export interface CannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
// autocannon ships no types; this is the part of its API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as (options: Record<string, unknown>) => Promise<CannonResult>;

export interface Measure {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Non-2xx answers by status, with one body each, so a failing run says why. */
  failures?: Record<string, string>;
}
export { median };
export function summarize(runs: Measure[]) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    failures: Object.assign({}, ...runs.map((r) => r.failures ?? {})) as Record<string, string>,
    runs,
  };
}

/** lib.ts's startProcess, keeping what the server logs (warnings and errors) next to the results. */
export async function startProcess(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ url: string; child: ChildProcess }> {
  const started = await launch(args, env, ready);
  const log: string[] = [];
  started.child.stdout?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  started.child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  started.child.once('exit', () => {
    if (log.length > 0)
      void writeFile(new URL(`./results/server-${Date.now()}.log`, import.meta.url), log.join('')).catch(() => undefined);
  });
  return started;
}
export { stopProcess as stop } from './lib.ts';

export interface Req {
  method: 'GET' | 'PUT' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  body?: string;
}
/**
 * Runs requests over CONNECTIONS connections: `next(i)` builds the i-th request. Either a fixed
 * `amount`, or for `duration` seconds. Latency in ms; rate = completed requests / wall time.
 */
export async function cannon(
  url: string,
  next: (i: number) => Req,
  options: { amount?: number; duration?: number; connections?: number },
): Promise<Measure> {
  let i = 0;
  const failures: Record<string, string> = {};
  const started = process.hrtime.bigint();
  const result = await autocannon({
    url,
    connections: options.connections ?? CONNECTIONS,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.duration ?? 5 }),
    requests: [
      {
        setupRequest: () => {
          const r = next(i++);
          // Fresh objects: autocannon writes Content-Length into the headers it is given, which
          // would then ride along on a later DELETE of the same buyer.
          const headers = { ...r.headers };
          return r.body === undefined
            ? { method: r.method, path: r.path, headers }
            : { method: r.method, path: r.path, headers, body: r.body };
        },
        onResponse: (status: number, body: string) => {
          if (status >= 300) failures[status] ??= body.slice(0, 200);
        },
      },
    ],
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    rps: Math.round(result.requests.total / seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    ...(Object.keys(failures).length > 0 ? { failures } : {}),
  };
}
export const constant = (r: Req) => () => r;

/** wrk's latency figure ("850.00us", "1.20ms", "1.01s") in ms. */
export function wrkMs(text: string, label: string): number {
  const match = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)\\b`).exec(text);
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** Debian's wrk (C, one thread): less of the two cores goes to generating load than with autocannon. */
export async function wrk(url: string, seconds: number, env: Record<string, string> = {}, script?: string): Promise<Measure> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', ...(script ? ['-s', script] : []), url];
  const { stdout } = await promisify(execFile)('wrk', args, { env: { ...process.env, ...env } });
  const total = Number(/(\d+) requests in ([\d.]+)(ms|s)/.exec(stdout)?.[1]);
  const elapsed = /(\d+) requests in ([\d.]+)(ms|s)/.exec(stdout);
  const secondsTaken = elapsed ? Number(elapsed[2]) / (elapsed[3] === 'ms' ? 1000 : 1) : seconds;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = socketErrors ? socketErrors.slice(1).reduce((n, v) => n + Number(v), 0) : 0;
  return { rps: Math.round(total / secondsTaken), p50: wrkMs(stdout, '50%'), p99: wrkMs(stdout, '99%'), errors: non2xx + errors };
}

/**
 * `count` GETs one after another over one keep-alive connection, each timed from request to the
 * last byte of the response with hrtime: the time to serve, with no queueing behind other requests.
 */
export async function sequential(url: string, count: number): Promise<Measure> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const started = process.hrtime.bigint();
  for (let n = 0; n < count; n++) {
    const t0 = process.hrtime.bigint();
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject);
    });
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (status !== 200) errors += 1;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    rps: Math.round(count / seconds),
    p50: latencies[Math.floor(count * 0.5)]!,
    p99: latencies[Math.floor(count * 0.99)]!,
    errors,
  };
}

export const WRK_SCRIPT = 'bench/holds.wrk.lua';
/** The buyers and seat ids files bench/holds.wrk.lua reads. */
export async function wrkFiles(buyers: [string, string][], seatIds: string[]) {
  const dir = path.join(os.tmpdir(), `tm-bench-holds-${process.pid}`);
  await mkdir(dir, { recursive: true });
  const WRK_BUYERS = path.join(dir, 'buyers.tsv');
  const WRK_SEATS = path.join(dir, 'seats.txt');
  await writeFile(WRK_BUYERS, buyers.map(([auth, admission]) => `${auth}\t${admission}`).join('\n'));
  await writeFile(WRK_SEATS, seatIds.join('\n'));
  return { WRK_BUYERS, WRK_SEATS };
}
