/**
 * One load generator: a share of the run's buyers, each started at its arrival offset, over one
 * undici pool. The run uses one in its own process, or forks several (`--generators N`) when one
 * event loop cannot send the whole load: then each runs this file as a child process and sends its
 * measurements back over IPC.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { runBuyer, type BuyerRecord, type Venue } from './buyer.ts';
import { createClient, WindowClosed } from './http.ts';
import type { Scenario } from './scenarios.ts';
import { createStats, round, type Stats, type StatsDump } from './stats.ts';

export interface Share {
  url: string;
  /**
   * Where a load balancer in front sends the waiting room's paths (`/api/events/:id/queue…`): the
   * scale shape's waiting-room tier, when it has one (else they go to `url` with the rest).
   */
  queueUrl?: string;
  /** Connections of the admitted buyers' checkout pool. */
  connections: number;
  /** Connections of the waiting room's pool (joins, leaves): browsers each have their own, so more than 128 is closer to them. */
  waitingConnections: number;
  /** The public status polls pass through a shared HTTP cache with its own connections, as behind a CDN (see createClient). */
  sharedCache: boolean;
  scenario: Scenario;
  /** `deadline` is ignored: the window closes at `deadlineEpochMs`. */
  venue: Venue;
  buyers: { userId: string; token: string; index: number; offsetMs: number }[];
  /** The window's start and end on the wall clock (each process has its own performance clock). */
  t0EpochMs: number;
  deadlineEpochMs: number;
}

export interface ShareResult {
  records: BuyerRecord[];
  /** Milliseconds into the window at which each paid buyer's order was paid. */
  paidAt: number[];
  cpuSeconds: number;
  loopDelay: { p50Ms: number; p99Ms: number; maxMs: number };
}

/** Connections from the shared cache (the CDN) to the server. */
const CDN_CONNECTIONS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fromEpoch = (epochMs: number) => epochMs - performance.timeOrigin;

/** Runs the share's buyers to the end of the window; `stats` gets every request and event. */
export async function runShare(share: Share, stats: Stats): Promise<ShareResult> {
  const t0 = fromEpoch(share.t0EpochMs);
  const venue = { ...share.venue, deadline: fromEpoch(share.deadlineEpochMs) };
  const deadline = () => venue.deadline;
  const queueUrl = share.queueUrl ?? share.url;
  const waiting = createClient(queueUrl, stats, deadline, share.waitingConnections);
  const checkout = createClient(share.url, stats, deadline, share.connections);
  const clients = {
    waiting,
    checkout,
    // An admitted buyer's own waiting-room requests: the checkout pool's connections, to where the
    // waiting room's paths go.
    turn: share.queueUrl ? createClient(share.queueUrl, stats, deadline, share.connections) : checkout,
    // A CDN's few connections to the server carry its misses: one a second per cacheable answer.
    status: share.sharedCache
      ? createClient(queueUrl, stats, deadline, CDN_CONNECTIONS, undefined, { sharedCache: true })
      : waiting,
  };
  // Each pool once (`status` may be the waiting pool itself).
  const pools = [...new Set(Object.values(clients))];
  const cpu0 = process.cpuUsage();
  // The generator's own share of the latencies: its event loop's delays, and requests queued for
  // one of its connections (sampled every 50 ms) — neither is time the server took.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const queueSampler = setInterval(() => {
    const s = stats.at();
    s.clientQueued = Math.max(
      s.clientQueued,
      pools.reduce((n, c) => n + c.queued(), 0),
    );
  }, 50);
  const paidAt: number[] = [];
  const running: Promise<BuyerRecord>[] = [];
  try {
    for (const buyer of share.buyers) {
      const wait = t0 + buyer.offsetMs - performance.now();
      if (wait > 2) await sleep(wait);
      const record: BuyerRecord = {
        userId: buyer.userId,
        number: null,
        admitted: false,
        couldNotAct: false,
        outcome: 'failed',
        seats: 0,
        rejoined: 0,
      };
      running.push(
        runBuyer(clients, stats, share.scenario, venue, buyer, buyer.index, record).then(
          (r) => {
            if (r.outcome === 'paid') paidAt.push(performance.now() - t0);
            return r;
          },
          (err: unknown) => {
            if (err instanceof WindowClosed) return { ...record, outcome: 'timeout' as const };
            throw err;
          },
        ),
      );
    }
    const records = await Promise.all(running);
    const used = process.cpuUsage(cpu0);
    return {
      records,
      paidAt,
      cpuSeconds: (used.user + used.system) / 1e6,
      loopDelay: {
        p50Ms: round(loopDelay.percentile(50) / 1e6),
        p99Ms: round(loopDelay.percentile(99) / 1e6),
        maxMs: round(loopDelay.max / 1e6),
      },
    };
  } finally {
    clearInterval(queueSampler);
    loopDelay.disable();
    await Promise.all(pools.map((c) => c.close()));
  }
}

// As a forked child: shares in, one at a time (the warm-up's, then the window's), each one's result
// and measurements out; it exits after the share sent with `exitAfter`.
if (process.send && process.argv[1]?.endsWith('generator.ts')) {
  process.on('message', ({ share, exitAfter }: { share: Share; exitAfter: boolean }) => {
    const stats = createStats(fromEpoch(share.t0EpochMs));
    runShare(share, stats).then(
      (result) =>
        process.send!({ result, stats: stats.dump() } satisfies { result: ShareResult; stats: StatsDump }, () => {
          if (exitAfter) process.exit(0);
        }),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
  process.send({ ready: true });
}
