import pg from 'pg';

/** One connection of the run's database as pg_stat_activity showed it at one sample. */
export interface ActivityRow {
  state: string;
  wait_event_type: string | null;
  wait_event: string | null;
  query: string;
}

export interface ActivityShare {
  /** `active` or `idle in transaction` (waiting for the client between a transaction's statements). */
  state: string;
  /** What it waited for (`LWLock:WALWrite`, `IO:WALSync`, `Lock:transactionid`, …) or `CPU` (active, no wait). */
  wait: string;
  /** The statement, its whitespace collapsed, cut to 100 characters. */
  statement: string;
  /** Of all busy connections seen over all samples, the share in this state, wait and statement (%). */
  share: number;
}

export interface TableScans {
  table: string;
  seqScans: number;
  rowsReadBySeqScans: number;
  indexScans: number;
}

export interface PgActivity {
  samples: number;
  /** Busy connections per sample, on average. */
  meanBusy: number;
  top: ActivityShare[];
  /** Tables by rows read in sequential scans during the window, most first. */
  seqScans: TableScans[];
}

/** The busiest states, waits and statements over all samples, most first. */
export function summarizeActivity(samples: ActivityRow[][], top = 12): Omit<PgActivity, 'seqScans'> {
  const counts = new Map<string, { state: string; wait: string; statement: string; n: number }>();
  let busy = 0;
  for (const sample of samples) {
    for (const row of sample) {
      busy += 1;
      const wait = row.wait_event_type ? `${row.wait_event_type}:${row.wait_event}` : 'CPU';
      const statement = row.query.replace(/\s+/g, ' ').trim().slice(0, 100);
      const key = `${row.state}\0${wait}\0${statement}`;
      const entry = counts.get(key) ?? { state: row.state, wait, statement, n: 0 };
      entry.n += 1;
      counts.set(key, entry);
    }
  }
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return {
    samples: samples.length,
    meanBusy: samples.length === 0 ? 0 : round1(busy / samples.length),
    top: [...counts.values()]
      .sort((a, b) => b.n - a.n)
      .slice(0, top)
      .map(({ state, wait, statement, n }) => ({ state, wait, statement, share: round1((100 * n) / busy) })),
  };
}

const TABLES = `SELECT relname AS table, seq_scan::float8 AS seq_scans, seq_tup_read::float8 AS rows, coalesce(idx_scan, 0)::float8 AS index_scans
                  FROM pg_stat_user_tables`;

/**
 * Samples what the run's database connections are doing (pg_stat_activity) every `intervalMs`
 * from a connection of its own, and counts each table's scans over the window: where
 * PostgreSQL's time went — a statement waiting for the WAL flush, for a row lock, for its client
 * inside a transaction, or on the CPU — and which tables were read whole.
 */
export async function startPgActivitySampler(url: string, intervalMs = 50) {
  const client = new pg.Client({ connectionString: url });
  // A lost connection shows as a failed query below, not as an error event that ends the run.
  client.on('error', () => undefined);
  await client.connect();
  type Scans = { table: string; seq_scans: number; rows: number; index_scans: number };
  const before = (await client.query<Scans>(TABLES)).rows;
  const samples: ActivityRow[][] = [];
  let running = true;
  // A failed sample (the database restarting, say) ends the sampling; the run goes on without it.
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<ActivityRow>(
        `SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
            AND state IN ('active', 'idle in transaction')`,
      );
      samples.push(rows);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })().catch((err: unknown) => {
    running = false;
    console.warn(`  PostgreSQL activity sampling stopped: ${String(err)}`);
  });
  return {
    async stop(): Promise<PgActivity> {
      running = false;
      await loop;
      const after = await client.query<Scans>(TABLES).then(
        (r) => r.rows,
        () => before,
      );
      await client.end().catch(() => undefined);
      const was = new Map(before.map((t) => [t.table, t]));
      const seqScans = after
        .map((t) => ({
          table: t.table,
          seqScans: t.seq_scans - (was.get(t.table)?.seq_scans ?? 0),
          rowsReadBySeqScans: t.rows - (was.get(t.table)?.rows ?? 0),
          indexScans: t.index_scans - (was.get(t.table)?.index_scans ?? 0),
        }))
        .filter((t) => t.rowsReadBySeqScans > 0)
        .sort((a, b) => b.rowsReadBySeqScans - a.rowsReadBySeqScans);
      return { ...summarizeActivity(samples), seqScans };
    },
  };
}
