import { createHash } from 'node:crypto';
import { type Db, type Queryable, type Statement, withQueries } from '../../platform/db.ts';
import { AppError } from '../../platform/errors.ts';
import { errorBody } from '../../platform/http-errors.ts';

/** A stored reply: what a retry with the same key and body gets back. */
export interface StoredReply {
  status: number;
  body: unknown;
}

/** A claim older than this belongs to a process that died mid-request; another may take it over. */
const STALE_CLAIM_SECONDS = 30;
const WAIT_STEP_MS = 25;
const WAIT_LIMIT_MS = 15_000;

export function requestHash(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/**
 * Stores the reply with the work, so the two commit together (one commit fewer, and no window in
 * which the work is done but its reply not yet kept): either inside the caller's transaction, or
 * as part of one statement of the caller's that does the work.
 */
export interface KeepReply {
  (q: Queryable, reply: StoredReply): Promise<void>;
  /**
   * The UPDATE that keeps the reply, for the caller to run inside a statement of its own; it keeps
   * it only where `guard` (SQL) holds. Once that statement has committed having kept it, call `stored`.
   */
  statement(reply: StoredReply, guard?: string): Statement;
  stored(): void;
}

export const keyReused = () =>
  new AppError('IDEMPOTENCY_KEY_REUSED', 409, 'This Idempotency-Key was already used for a different request');

/**
 * Runs `work` once per (user, scope, key). The first request claims the key with an INSERT;
 * concurrent and later requests with the same key and body wait for and replay the stored
 * reply (errors below 500 included); with another body they get IDEMPOTENCY_KEY_REUSED.
 * A failure that is not the client's fault releases the claim so a retry can run again.
 * `work` may keep its reply itself, in its own transaction, through the `keep` it is given; it
 * must then let a failure of that transaction propagate (a rollback un-keeps the reply).
 *
 * `read`, a SELECT the work needs first, runs in the claim's own statement (one round trip for
 * both) and `work` gets its rows; they are as of the claim, the moment before `work` starts.
 *
 * `first`, a write the work would make first (with `read`), runs in that statement too, only where
 * the claim was taken there (it is given that SQL condition; a claim taken over from a stale one
 * does not run it): `work` gets the first row it returned, or undefined when it did not run or
 * wrote nothing — the work then makes that write itself. With `first`, the claim's statement
 * commits as every other does, waiting for its flush: what it writes must outlive a crash.
 */
export async function idempotent<R extends object = Record<string, unknown>, F extends object = Record<string, unknown>>(
  /** The database itself, never an open transaction: the claim commits on its own (see below). */
  db: Db,
  claim: { userId: string; scope: string; key: string; hash: string },
  work: (keep: KeepReply, read: R[], first: F | undefined) => Promise<StoredReply>,
  read?: Statement,
  first?: (guard: string) => Statement,
): Promise<StoredReply> {
  const { userId, scope, key, hash } = claim;
  const started = Date.now();
  const replyStatement = (reply: StoredReply, guard = 'true'): Statement => ({
    sql: `UPDATE idempotency_keys SET status_code = $4, response = $5 WHERE user_id = $1 AND scope = $2 AND key = $3 AND ${guard}`,
    params: [userId, scope, key, reply.status, JSON.stringify(reply.body)],
  });
  const saveReply = async (q: Queryable, reply: StoredReply) => {
    const { sql, params } = replyStatement(reply);
    await q.query(sql, params);
  };
  for (;;) {
    // The claim commits without waiting for its WAL to reach the disk (synchronous_commit off for
    // this one statement's transaction): a crash can lose it only if nothing was flushed after it,
    // and the WAL is flushed in order, so any work done under the claim (every other commit here is
    // synchronous) makes the claim durable first. A claim lost with nothing done under it is a retry
    // that runs again — what a released claim means: a flush wait saved (the order's claim). Not
    // with `first` (the payment's claim): that write is work done under the claim, and must be
    // durable itself.
    const insert: Statement = {
      sql: `INSERT INTO idempotency_keys (user_id, scope, key, request_hash)
       SELECT $1, $2, $3, $4 ${first ? '' : "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS without_flush_wait"}
       ON CONFLICT (user_id, scope, key) DO NOTHING RETURNING key`,
      params: [userId, scope, key, hash],
    };
    let owned: boolean;
    let rows: R[] | undefined;
    let wrote: F | undefined;
    if (read) {
      const both = claimAndRead(insert, read, first);
      const result = await db.query<R & { tm_claimed: string | null; tm_read: boolean | null; tm_first: F | null }>(
        both.sql,
        both.params,
      );
      owned = result[0]?.tm_claimed != null;
      wrote = result[0]?.tm_first ?? undefined;
      rows = result
        .filter((r) => r.tm_read)
        .map(({ tm_claimed: _claimed, tm_read: _read, tm_first: _first, ...row }) => row as unknown as R);
    } else {
      owned = (await db.query(insert.sql, insert.params)).length > 0;
    }
    if (!owned) {
      const existing = await db.query<{ request_hash: string; status_code: number | null; response: unknown; stale: boolean }>(
        `SELECT request_hash, status_code, response, created_at < now() - make_interval(secs => $4) AS stale
           FROM idempotency_keys WHERE user_id = $1 AND scope = $2 AND key = $3`,
        [userId, scope, key, STALE_CLAIM_SECONDS],
      );
      const row = existing[0];
      if (!row) continue; // released between our INSERT and SELECT: claim again
      if (row.request_hash !== hash) throw keyReused();
      if (row.status_code !== null) return { status: row.status_code, body: row.response };
      if (row.stale) {
        const taken = await db.query(
          `UPDATE idempotency_keys SET created_at = now() WHERE user_id = $1 AND scope = $2 AND key = $3
             AND status_code IS NULL AND created_at < now() - make_interval(secs => $4) RETURNING key`,
          [userId, scope, key, STALE_CLAIM_SECONDS],
        );
        owned = taken.length > 0;
        rows = undefined; // read again below, now that the claim is ours
      }
      if (!owned) {
        if (Date.now() - started > WAIT_LIMIT_MS) {
          throw new AppError(
            'IDEMPOTENCY_KEY_IN_USE',
            409,
            'A request with this Idempotency-Key is still being processed; retry shortly',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
        continue;
      }
    }
    let reply: StoredReply;
    let kept = false;
    const keep: KeepReply = Object.assign(
      async (q: Queryable, r: StoredReply) => {
        await saveReply(q, r);
        kept = true;
      },
      {
        statement: replyStatement,
        stored: () => {
          kept = true;
        },
      },
    );
    try {
      // A claim taken over from a stale one: read as it starts.
      if (read && !rows) rows = await db.query<R>(read.sql, read.params);
      reply = await work(keep, rows ?? [], wrote);
      // Kept in a transaction that then rolled back would have thrown out of work: kept means stored.
      if (kept) return reply;
    } catch (err) {
      // The reply was kept and its transaction committed before something later failed: it stands.
      if (kept && (await storedReply(db, claim))) throw err;
      if (err instanceof AppError && err.status < 500) {
        reply = {
          status: err.status,
          body: errorBody(err.code, err.message, err.details),
        };
      } else {
        await db.query('DELETE FROM idempotency_keys WHERE user_id = $1 AND scope = $2 AND key = $3 AND status_code IS NULL', [
          userId,
          scope,
          key,
        ]);
        throw err;
      }
    }
    await saveReply(db, reply);
    return reply;
  }
}

/**
 * The reply stored for this key and the same request, or null (none yet, or another request's):
 * for a route that checks something before `idempotent` runs (an admission that has since ended)
 * to answer a retry as the first request was answered.
 */
export async function replayOf(
  db: Queryable,
  claim: { userId: string; scope: string; key: string; hash: string },
): Promise<StoredReply | null> {
  const [row] = await db.query<{ status_code: number; response: unknown }>(
    `SELECT status_code, response FROM idempotency_keys
      WHERE user_id = $1 AND scope = $2 AND key = $3 AND request_hash = $4 AND status_code IS NOT NULL`,
    [claim.userId, claim.scope, claim.key, claim.hash],
  );
  return row ? { status: row.status_code, body: row.response } : null;
}

async function storedReply(db: Queryable, claim: { userId: string; scope: string; key: string }): Promise<boolean> {
  const rows = await db.query(
    'SELECT 1 FROM idempotency_keys WHERE user_id = $1 AND scope = $2 AND key = $3 AND status_code IS NOT NULL',
    [claim.userId, claim.scope, claim.key],
  );
  return rows.length > 0;
}

/**
 * The claim's INSERT and the work's SELECT (and its first write, only where the INSERT claimed the
 * key) in one statement: one row per row read (or one row of nulls when it reads none), each with
 * `tm_claimed` (the key when the INSERT claimed it), `tm_read` (true on a row read) and `tm_first`
 * (the write's first returned row as JSON, or null).
 */
function claimAndRead(insert: Statement, read: Statement, first?: (guard: string) => Statement): Statement {
  return withQueries(
    [
      ['claim', insert],
      ['wanted', { sql: `SELECT true AS tm_read, r.* FROM (${read.sql}) AS r`, params: read.params }],
      ...(first ? [['first_write', first('EXISTS (SELECT 1 FROM claim)')] as [string, Statement]] : []),
    ],
    `SELECT claim.key AS tm_claimed, ${first ? '(SELECT row_to_json(f) FROM first_write f LIMIT 1)' : 'NULL::json'} AS tm_first, wanted.*
       FROM (SELECT 1) AS one LEFT JOIN claim ON true LEFT JOIN wanted ON true`,
  );
}
