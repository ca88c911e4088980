/**
 * The on-sale load test: virtual buyers through the waiting room to their tickets, against the real
 * server started as child processes, then the invariants read from the database.
 *
 *   npm run loadtest -- --scenario seed-spike|spike-10x|stadium [--shape embedded|scale] [--buyers N]
 *                       [--api N] [--max-seconds S] [--connections C] [--waiting-connections C]
 *                       [--profile ramp|spike|steady] [--arrival-seconds S] [--admission-backoff-ms MS]
 *                       [--queue-api M [--queue-nice N]] (scale shape: M more API processes serve the
 *                                            waiting room's paths on a port of their own, at nice N,
 *                                            default 10: start:scale's waiting-room tier)
 *                       [--kill-api-at S]   (scale shape: SIGKILL one API process S seconds into the window)
 *                       [--flush-redis-at S] (scale shape: FLUSHDB the servers' Redis database S seconds into
 *                                            the window, as a Redis restart without persistence would)
 *                       [--think-seconds S] (a buyer's pause at each checkout decision; 0: back to back)
 *                       [--shared-cache on|off] (the waiting room's public status through a shared HTTP
 *                                            cache, as behind a CDN; default on)
 *                       [--warmup-seconds S] (a warm-up sale of its own before the window, S × 1,000
 *                                            buyers; default 5, 0: the servers meet the window cold)
 *
 * Accounts and session tokens are seeded straight into the database before the measured window
 * (see loadtest/setup.ts). The server runs with TICKETMAX_RATE_LIMIT_ALLOW=127.0.0.1: every buyer
 * comes from this one address. Loopback only. Writes bench/results/<scenario>-<timestamp>.json and
 * .html; exits 1 when any verification count is not 0 (or nobody was served).
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { RunOptions } from './loadtest/run.ts';
import { type Profile, SCENARIOS } from './loadtest/scenarios.ts';
import { embedded, scale } from './loadtest/shapes.ts';
import { buildSummary, printSummary, writeResults } from './loadtest/summary.ts';

const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'seed-spike' },
    shape: { type: 'string', default: 'embedded' },
    buyers: { type: 'string' },
    api: { type: 'string', default: '2' },
    'queue-api': { type: 'string', default: '0' },
    'queue-nice': { type: 'string', default: '10' },
    'max-seconds': { type: 'string' },
    connections: { type: 'string', default: '128' },
    // The waiting room's pool (joins and leaves); by default as many as --connections.
    'waiting-connections': { type: 'string' },
    'admission-backoff-ms': { type: 'string' },
    generators: { type: 'string', default: '1' },
    profile: { type: 'string' },
    'arrival-seconds': { type: 'string' },
    'kill-api-at': { type: 'string' },
    'flush-redis-at': { type: 'string' },
    'think-seconds': { type: 'string' },
    'max-active': { type: 'string' },
    'admit-per-minute': { type: 'string' },
    'shared-cache': { type: 'string', default: 'on' },
    'warmup-seconds': { type: 'string', default: '5' },
  },
});
const base = SCENARIOS[args.scenario];
if (!base || !['embedded', 'scale'].includes(args.shape)) {
  console.error(
    `usage: npm run loadtest -- --scenario ${Object.keys(SCENARIOS).join('|')} [--shape embedded|scale] [--buyers N] [--think-seconds S] [--max-active N] [--admit-per-minute N] [--connections C] [--waiting-connections C] [--admission-backoff-ms MS]`,
  );
  process.exit(2);
}
const shape = args.shape as 'embedded' | 'scale';
const scenario = {
  ...base,
  buyers: args.buyers ? Number(args.buyers) : base.buyers,
  maxSeconds: args['max-seconds'] ? Number(args['max-seconds']) : base.maxSeconds,
  profile: (args.profile ?? base.profile) as Profile,
  arrivalSeconds: args['arrival-seconds'] ? Number(args['arrival-seconds']) : base.arrivalSeconds,
  thinkSeconds: args['think-seconds'] !== undefined ? Number(args['think-seconds']) : base.thinkSeconds,
  // The organizer's two admission controls, for runs that ask what other settings would do.
  queue: {
    ...base.queue,
    ...(args['max-active'] !== undefined ? { maxActive: Number(args['max-active']) } : {}),
    ...(args['admit-per-minute'] !== undefined ? { admitPerMinute: Number(args['admit-per-minute']) } : {}),
  },
};
if (!(Number.isInteger(scenario.queue.maxActive) && scenario.queue.maxActive > 0)) {
  console.error('--max-active is a whole number above 0');
  process.exit(2);
}
if (!(Number.isInteger(scenario.queue.admitPerMinute) && scenario.queue.admitPerMinute > 0)) {
  console.error('--admit-per-minute is a whole number above 0');
  process.exit(2);
}
const connections = { checkout: Number(args.connections), waiting: Number(args['waiting-connections'] ?? args.connections) };
if (args['admission-backoff-ms'] !== undefined && !/^\d+$/.test(args['admission-backoff-ms'])) {
  console.error('--admission-backoff-ms is a whole number of milliseconds');
  process.exit(2);
}
if (!Object.values(connections).every((n) => Number.isInteger(n) && n > 0)) {
  console.error('--connections and --waiting-connections are whole numbers above 0');
  process.exit(2);
}
// A shorter or longer window moves the sale's opening with it (the stadium's pre-queue stays a pre-queue).
scenario.saleOpensAfter = (base.saleOpensAfter * scenario.arrivalSeconds) / base.arrivalSeconds;
if (!['ramp', 'spike', 'steady'].includes(scenario.profile)) {
  console.error('--profile is one of ramp, spike, steady');
  process.exit(2);
}
const warmupSeconds = Number(args['warmup-seconds']);
if (!(Number.isInteger(warmupSeconds) && warmupSeconds >= 0 && warmupSeconds <= 60)) {
  console.error('--warmup-seconds is a whole number from 0 to 60');
  process.exit(2);
}
if (!['on', 'off'].includes(args['shared-cache'])) {
  console.error('--shared-cache is on or off');
  process.exit(2);
}
// The public queue status is cacheable for a second (ARCHITECTURE.md: a million waiting buyers cost
// almost nothing); in production a CDN or caching proxy answers most of those polls.
const sharedCache = args['shared-cache'] === 'on';
const killApiAt = args['kill-api-at'] === undefined ? undefined : Number(args['kill-api-at']);
if (killApiAt !== undefined && (shape !== 'scale' || !(killApiAt >= 0))) {
  console.error('--kill-api-at <seconds into the window> needs --shape scale');
  process.exit(2);
}
const flushRedisAt = args['flush-redis-at'] === undefined ? undefined : Number(args['flush-redis-at']);
if (flushRedisAt !== undefined && (shape !== 'scale' || !(flushRedisAt >= 0))) {
  console.error('--flush-redis-at <seconds into the window> needs --shape scale');
  process.exit(2);
}
const queueApi = Number(args['queue-api']);
const queueNice = Number(args['queue-nice']);
if (!(Number.isInteger(queueApi) && queueApi >= 0) || !(Number.isInteger(queueNice) && queueNice >= 0 && queueNice <= 19)) {
  console.error('--queue-api is a whole number from 0, --queue-nice one from 0 to 19');
  process.exit(2);
}
if (queueApi > 0 && shape !== 'scale') {
  console.error('--queue-api needs --shape scale');
  process.exit(2);
}
const SECRET = `loadtest-${randomBytes(16).toString('hex')}`;
const serverEnv = {
  TICKETMAX_SECRET: SECRET,
  PAYMENT_WEBHOOK_SECRET: SECRET,
  TICKETMAX_DEMO: 'false',
  TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1',
  LOG_LEVEL: 'warn',
  PORT: '0',
  // Admission back-off (src/modules/waiting-room/backoff.ts): off unless asked for.
  ...(args['admission-backoff-ms'] !== undefined ? { TICKETMAX_ADMISSION_BACKOFF_MS: args['admission-backoff-ms'] } : {}),
};

await mkdir('bench/results', { recursive: true });
const file = `bench/results/${scenario.name}-${new Date().toISOString().replaceAll(':', '-')}`;
const options: RunOptions = {
  scenario,
  shape,
  api: args.api,
  queueApi: args['queue-api'],
  queueNice: args['queue-nice'],
  generators: args.generators,
  connections,
  sharedCache,
  secret: SECRET,
  serverEnv,
  file,
  killApiAt,
  flushRedisAt,
  warmupSeconds,
};

console.log(
  `${scenario.name} on the ${shape} shape: ${scenario.buyers} buyers (${scenario.profile} over ${scenario.arrivalSeconds} s), queue ${JSON.stringify(scenario.queue)}`,
);
const r = shape === 'embedded' ? await embedded(options) : await scale(options);

const summaryOptions = { ...options, admissionBackoffMs: args['admission-backoff-ms'] };
const summary = buildSummary(r, summaryOptions);
printSummary(r, summary);
await writeResults(file, r, summaryOptions, summary);
console.log(`written to ${file}.json and ${file}.html (server log: ${file}.server.log)`);
const failed =
  Object.values(r.verification).some((n) => n !== 0) ||
  Object.values(r.warmUpVerification ?? {}).some((n) => n !== 0) ||
  r.sold.paidOrders === 0;
process.exit(failed ? 1 : 0);
