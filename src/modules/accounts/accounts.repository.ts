import type { Queryable } from '../../platform/db.ts';
import type { Role } from './accounts.schemas.ts';

/**
 * Writes one line of the audit log through `q` (inside the caller's transaction when it is one):
 * who did it, what, to which account (`targetId`) and about which event (`eventId`) or venue (`venueId`).
 */
export async function insertAuditLine(
  q: Queryable,
  line: { actorId: string; action: string; targetId?: string; eventId?: string; venueId?: string; details: object },
): Promise<void> {
  await q.query(
    'INSERT INTO audit_log (actor_id, action, target_id, event_id, venue_id, details) VALUES ($1, $2, $3, $4, $5, $6)',
    [line.actorId, line.action, line.targetId ?? null, line.eventId ?? null, line.venueId ?? null, JSON.stringify(line.details)],
  );
}

/**
 * Which part of the audit log to read: the lines about accounts (about one, with `targetId`), or
 * those about one event or one venue. Each line belongs to exactly one of these logs.
 */
export interface AuditScope {
  targetId?: string;
  eventId?: string;
  venueId?: string;
}

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  password_hash: string;
  suspended_at: Date | null;
}

export interface AuditRow {
  id: string;
  at: Date;
  action: string;
  details: Record<string, unknown>;
  actor_id: string | null;
  actor_email: string | null;
  actor_name: string | null;
  target_id: string | null;
  target_email: string | null;
  target_name: string | null;
}

const USER_COLUMNS = 'id, email, name, role, password_hash, suspended_at';

export function createAccountsRepository(db: Queryable) {
  return {
    async insertUser(user: { id: string; email: string; name: string; passwordHash: string; role: Role }) {
      const rows = await db.query<UserRow>(
        `INSERT INTO users (id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (lower(email)) DO NOTHING
         RETURNING ${USER_COLUMNS}`,
        [user.id, user.email, user.name, user.passwordHash, user.role],
      );
      return rows[0];
    },

    async findByEmail(email: string) {
      const rows = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
      return rows[0];
    },

    async findById(id: string) {
      const rows = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
      return rows[0];
    },

    /** Accounts whose e-mail or name contains `q` (any case), or whose id it is; newest first. */
    async search(q: string | undefined, limit: number) {
      return db.query<UserRow>(
        `SELECT ${USER_COLUMNS} FROM users
          WHERE $1::text IS NULL OR id = $1 OR strpos(lower(email), lower($1)) > 0 OR strpos(lower(name), lower($1)) > 0
          ORDER BY created_at DESC, id DESC LIMIT $2`,
        [q ?? null, limit],
      );
    },

    /** Sets the role; a change (not a same-role write) goes into the audit log, by `actorId`. */
    async setRole(id: string, role: Role, actorId: string | null) {
      const rows = await db.query<UserRow>(
        `WITH old AS (SELECT role FROM users WHERE id = $1),
              u AS (UPDATE users SET role = $2, role_changed_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS}),
              logged AS (INSERT INTO audit_log (actor_id, action, target_id, details)
                         SELECT $3, 'role.changed', u.id, jsonb_build_object('from', old.role, 'to', u.role)
                           FROM u, old WHERE old.role <> u.role)
         SELECT * FROM u`,
        [id, role, actorId],
      );
      return rows[0];
    },

    async setPasswordAndRole(id: string, passwordHash: string, role: Role) {
      await db.query('UPDATE users SET password_hash = $2, role = $3, role_changed_at = now() WHERE id = $1', [
        id,
        passwordHash,
        role,
      ]);
    },

    /**
     * Sets a new password hash, if the stored one is still `oldHash`, and ends every live session
     * of the user but `keep`, in one statement. `changed` is false when the password was changed
     * meanwhile (then nothing is).
     */
    async changePassword(
      id: string,
      oldHash: string,
      newHash: string,
      keep: string,
      action: 'password.changed' | 'password.reset' = 'password.changed',
    ) {
      const rows = await db.query<{ changed: boolean; ended: string[] }>(
        `WITH pw AS (UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2 RETURNING id),
              ended AS (UPDATE sessions SET revoked_at = now()
                         WHERE user_id IN (SELECT id FROM pw) AND id <> $4 AND revoked_at IS NULL AND expires_at > now()
                        RETURNING id),
              logged AS (INSERT INTO audit_log (actor_id, action, target_id, details)
                         SELECT id, $5, id, jsonb_build_object('sessionsEnded', (SELECT count(*) FROM ended))
                           FROM pw)
         SELECT EXISTS (SELECT 1 FROM pw) AS changed, array(SELECT id FROM ended) AS ended`,
        [id, oldHash, newHash, keep, action],
      );
      return rows[0]!;
    },

    /**
     * Suspends the account and then ends every live session of it, or restores it. Returns the
     * account and the sessions ended, or undefined when there is no such account. Two statements,
     * so the second sees a session that a sign-in racing the first committed (see insertSession).
     */
    async setSuspended(id: string, suspended: boolean, actorId: string) {
      const rows = await db.query<UserRow>(
        `WITH old AS (SELECT suspended_at FROM users WHERE id = $1),
              u AS (UPDATE users SET suspended_at = CASE WHEN $2 THEN coalesce(suspended_at, now()) END
                     WHERE id = $1 RETURNING ${USER_COLUMNS}),
              logged AS (INSERT INTO audit_log (actor_id, action, target_id)
                         SELECT $3, CASE WHEN $2 THEN 'account.suspended' ELSE 'account.restored' END, u.id
                           FROM u, old WHERE (old.suspended_at IS NULL) = $2)
         SELECT * FROM u`,
        [id, suspended, actorId],
      );
      const user = rows[0];
      if (!user) return undefined;
      const ended = suspended
        ? await db.query<{ id: string }>(
            `UPDATE sessions SET revoked_at = now()
              WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() RETURNING id`,
            [id],
          )
        : [];
      return { user, ended: ended.map((r) => r.id) };
    },

    /** A line in the audit log for something that changes nothing else (a reset link handed out). */
    async logAudit(actorId: string, action: string, targetId: string, details: object) {
      await insertAuditLine(db, { actorId, action, targetId, details });
    },

    /**
     * The audit log, newest first, keyset pages before `before`: the part `scope` names.
     */
    async audit({ targetId, eventId, venueId }: AuditScope, before: string | undefined, limit: number) {
      return db.query<AuditRow>(
        `SELECT a.id::text AS id, a.at, a.action, a.details,
                a.actor_id, actor.email AS actor_email, actor.name AS actor_name,
                a.target_id, target.email AS target_email, target.name AS target_name
           FROM audit_log a
           LEFT JOIN users actor ON actor.id = a.actor_id
           LEFT JOIN users target ON target.id = a.target_id
          WHERE ($1::text IS NULL OR a.target_id = $1) AND ($2::bigint IS NULL OR a.id < $2)
            AND a.event_id IS NOT DISTINCT FROM $4 AND a.venue_id IS NOT DISTINCT FROM $5
          ORDER BY a.id DESC LIMIT $3`,
        [targetId ?? null, before ?? null, limit, eventId ?? null, venueId ?? null],
      );
    },

    /**
     * Opens a session unless the account is suspended (false then). The account's row is locked
     * for share: a suspension either waits for this session and then ends it, or was committed
     * first and this finds it.
     */
    async insertSession(session: { id: string; userId: string; expiresAt: Date; device?: string }): Promise<boolean> {
      const rows = await db.query(
        `INSERT INTO sessions (id, user_id, expires_at, device)
         SELECT $1, id, $3, $4 FROM users WHERE id = $2 AND suspended_at IS NULL FOR SHARE
         RETURNING id`,
        [session.id, session.userId, session.expiresAt, session.device?.slice(0, 200) || null],
      );
      return rows.length > 0;
    },

    async liveSessions(userId: string) {
      return db.query<{ id: string; created_at: Date; expires_at: Date; device: string | null }>(
        `SELECT id, created_at, expires_at, device FROM sessions
          WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
          ORDER BY created_at DESC, id DESC LIMIT 100`,
        [userId],
      );
    },

    /** Ends one live session of this user; false when it is not theirs, not live or not there. */
    async revokeOwnSession(userId: string, id: string): Promise<boolean> {
      const rows = await db.query(
        `UPDATE sessions SET revoked_at = now()
          WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now() RETURNING id`,
        [id, userId],
      );
      return rows.length > 0;
    },

    async revokeSession(id: string) {
      await db.query('UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
    },

    /** Sessions revoked after `since` (or all live revoked sessions when since is null), and the database's clock. */
    async revokedSince(since: Date | null) {
      return db.query<{ id: string; revoked_at: Date; expires_at: Date }>(
        `SELECT id, revoked_at, expires_at FROM sessions
          WHERE revoked_at IS NOT NULL AND expires_at > now() AND ($1::timestamptz IS NULL OR revoked_at > $1)`,
        [since],
      );
    },

    async rolesChangedSince(since: Date | null) {
      return db.query<{ id: string; role: Role; role_changed_at: Date }>(
        `SELECT id, role, role_changed_at FROM users
          WHERE role_changed_at IS NOT NULL AND ($1::timestamptz IS NULL OR role_changed_at > $1)`,
        [since],
      );
    },

    async dbNow() {
      const rows = await db.query<{ now: Date }>('SELECT now() AS now');
      return rows[0]!.now;
    },
  };
}
export type AccountsRepository = ReturnType<typeof createAccountsRepository>;
