import { hostname } from 'node:os';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per app instance, so tests can build several apps in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status class',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Which process answered this scrape: API processes may share one port (start:scale), and a
  // scraper or a test tells them apart by this.
  new Gauge({
    name: 'ticketmax_process_info',
    help: 'Always 1; its labels name the process that answered',
    labelNames: ['instance'] as const,
    registers: [registry],
  }).set({ instance: `${hostname()}:${process.pid}` }, 1);
  return {
    registry,
    httpDuration,
    counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
      return new Counter<L>({ name, help, labelNames, registers: [registry] });
    },
    gauge<L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[] = [],
      collect?: (this: Gauge<L>) => Promise<void> | void,
    ) {
      return new Gauge<L>({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
