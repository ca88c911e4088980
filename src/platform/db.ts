import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import pg from 'pg';

/** Something SQL can be sent to: the database itself, or one open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** postgres:// URL; without it the embedded PGlite is used. */
  url?: string | undefined;
  /** Directory for the embedded database files; 'memory://' keeps it in memory. */
  dataDir?: string | undefined;
  /** Pool size for PostgreSQL. */
  poolSize?: number;
}

const INT8_OID = 20;
/** Distinct SQL texts prepared by name; any beyond run unnamed (parsed each time). */
const MAX_PREPARED = 500;

/** Opens PostgreSQL when a URL is given, else PGlite. Both return bigint columns as JS numbers. */
export async function openDb(options: DbOptions): Promise<Db> {
  return options.url ? openPostgres(options.url, options.poolSize ?? 10) : openPglite(options.dataDir ?? 'memory://');
}

async function openPglite(dataDir: string): Promise<Db> {
  let location = dataDir;
  if (!dataDir.startsWith('memory://')) {
    location = path.resolve(dataDir, 'pgdata');
    await mkdir(location, { recursive: true });
  }
  const db = await PGlite.create(location, {
    parsers: { [pgliteTypes.INT8]: (value: string) => Number(value) },
  });
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const result = await q.query<T>(sql, params as unknown[]);
      return result.rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  const root = wrap(db);
  return {
    kind: 'pglite',
    ...root,
    tx: (fn) => db.transaction((t) => fn(wrap(t))),
    async ping() {
      await db.query('SELECT 1');
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}

// bigint columns (counts, money in minor units) as JS numbers, as PGlite returns them.
const int8AsNumber = ((oid: number, format?: 'text' | 'binary'): unknown =>
  oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;

async function openPostgres(url: string, poolSize: number): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5000,
    types: { getTypeParser: int8AsNumber },
  });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  // Statements are prepared once per connection under a name (PostgreSQL then skips parsing and
  // planning them again); our SQL text is fixed, with values always passed as parameters.
  const names = new Map<string, string>();
  const nameOf = (sql: string): string | undefined => {
    let name = names.get(sql);
    if (name === undefined && names.size < MAX_PREPARED) {
      name = `tm${names.size}`;
      names.set(sql, name);
    }
    return name;
  };
  const wrap = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const name = nameOf(sql);
      const result = await client.query<T & pg.QueryResultRow>(
        name === undefined ? { text: sql, values: params as unknown[] } : { name, text: sql, values: params as unknown[] },
      );
      return result.rows as T[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  });
  const root = wrap(pool);
  await root.query('SELECT 1');
  return {
    kind: 'postgres',
    ...root,
    async tx(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}

/** The PostgreSQL error code of a driver error, if it has one (both drivers set `code`). */
export function pgErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** The constraint a unique/check violation names, if any. */
export function pgConstraint(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'constraint' in err && typeof err.constraint === 'string') {
    return err.constraint;
  }
  return undefined;
}

export const PG_UNIQUE_VIOLATION = '23505';
export const PG_CHECK_VIOLATION = '23514';

/** SQL with its parameters, numbered from $1: run alone, or as part of a bigger statement. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * Puts several statements into one: each runs as a WITH query under its name (a data-modifying
 * one runs whether or not anything reads it), then `select` reads what it needs; every part's $n
 * is renumbered to follow the parts before it. One statement is one round trip, and outside a
 * transaction it commits or fails as a whole. No part may have a `$` in a literal.
 */
export function withQueries(parts: [name: string, statement: Statement][], select: string): Statement {
  const params: unknown[] = [];
  const queries = parts.map(([name, part]) => {
    const offset = params.length;
    params.push(...part.params);
    return `${name} AS (${part.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`;
  });
  return { sql: `WITH ${queries.join(',\n')}\n${select}`, params };
}
