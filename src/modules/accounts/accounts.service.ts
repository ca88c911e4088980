import { createHash } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, newId, type Signer, verifyPassword } from '../../platform/crypto.ts';
import { forbidden, notFound, validationFailed } from '../../platform/errors.ts';
import { accountSuspended, emailTaken, invalidCredentials, wrongPassword } from './accounts.errors.ts';
import type { AccountsRepository, AuditScope, UserRow } from './accounts.repository.ts';
import type { AdminUser, Role, SuspensionSweep, User } from './accounts.schemas.ts';
import type { Principal, SessionGuard } from './session-guard.ts';

export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;
/** How long a password-reset link an admin hands out stays good (it works once either way). */
export const RESET_TTL_MS = 24 * 3600 * 1000;

/** What a reset link is bound to: the password it replaces, so that it works once. */
const passwordFingerprint = (hash: string) => createHash('sha256').update(hash).digest('base64url').slice(0, 22);

const resetLinkInvalid = () =>
  validationFailed('This reset link is not valid any more: it was used, has expired or was not whole', [
    { field: 'token', message: 'is used, expired or not a reset link' },
  ]);

export interface AccountsLog {
  info(obj: object, msg: string): void;
}

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, role: row.role };
}

export function toAdminUser(row: UserRow): AdminUser {
  return { ...toUser(row), suspended: row.suspended_at !== null };
}

export function createAccountsService({
  repo,
  guard,
  clock,
  log,
  resetSigner,
  onSuspended,
}: {
  repo: AccountsRepository;
  guard: SessionGuard;
  clock: Clock;
  log: AccountsLog;
  /** Signs the password-reset links admins hand out (a purpose of its own). */
  resetSigner: Signer;
  /** What else suspending an account clears (its queue places, holds and pending orders). */
  onSuspended?: (userId: string, actor: Principal) => Promise<SuspensionSweep>;
}) {
  async function startSession(user: UserRow, device?: string) {
    const sessionId = newId('ses');
    const expiresAt = clock.now() + SESSION_TTL_MS;
    if (!(await repo.insertSession({ id: sessionId, userId: user.id, expiresAt: new Date(expiresAt), device })))
      throw accountSuspended();
    const token = guard.issue({ s: sessionId, u: user.id, r: user.role, e: Math.floor(expiresAt / 1000) });
    return { user: toUser(user), token, expiresAt };
  }

  async function changeRole(userId: string, role: Role, actorId: string | null = null) {
    const row = await repo.setRole(userId, role, actorId);
    if (!row) throw notFound('User');
    guard.noteRole(userId, role);
    log.info({ userId, role }, 'role changed');
    return toUser(row);
  }

  return {
    async signup(input: { email: string; password: string; name: string }, role: Role = 'buyer', device?: string) {
      const passwordHash = await hashPassword(input.password);
      const row = await repo.insertUser({
        id: newId('usr'),
        email: input.email.trim(),
        name: input.name.trim(),
        passwordHash,
        role,
      });
      if (!row) throw emailTaken();
      log.info({ userId: row.id }, 'account created');
      return startSession(row, device);
    },

    async login(input: { email: string; password: string }, device?: string) {
      const row = await repo.findByEmail(input.email.trim());
      // Unknown e-mail and wrong password cost the same and answer the same.
      const ok = await verifyPassword(input.password, row?.password_hash ?? DUMMY_PASSWORD_HASH);
      if (!row || !ok) throw invalidCredentials();
      // Told only to whoever knows the password.
      if (row.suspended_at) throw accountSuspended();
      return startSession(row, device);
    },

    async logout(principal: Principal) {
      await repo.revokeSession(principal.sessionId);
      guard.noteRevoked(principal.sessionId, clock.now() + SESSION_TTL_MS);
    },

    /**
     * POST /api/me/password: the current password, then the new one; every other session of the
     * account ends (a device signed in by someone who knew the old password is signed out), this
     * one goes on. Returns how many sessions ended.
     */
    async changePassword(principal: Principal, input: { currentPassword: string; newPassword: string }) {
      const row = await repo.findById(principal.userId);
      if (!row) throw notFound('User');
      if (!(await verifyPassword(input.currentPassword, row.password_hash))) throw wrongPassword();
      if (input.newPassword === input.currentPassword) {
        throw validationFailed('The new password is the current one', [
          { field: 'newPassword', message: 'must differ from the current password' },
        ]);
      }
      const { changed, ended } = await repo.changePassword(
        row.id,
        row.password_hash,
        await hashPassword(input.newPassword),
        principal.sessionId,
      );
      // Changed by another request between the check and now: that one wins, this one is refused.
      if (!changed) throw wrongPassword();
      const until = clock.now() + SESSION_TTL_MS;
      for (const id of ended) guard.noteRevoked(id, until);
      log.info({ userId: row.id, sessionsEnded: ended.length }, 'password changed');
      return { sessionsEnded: ended.length };
    },

    /**
     * POST /api/admin/users/:id/password-reset: a link for a user who cannot sign in, for the admin
     * to hand over (there is no e-mail): good for RESET_TTL_MS and for one change of the password.
     */
    async issuePasswordReset(actor: Principal, userId: string) {
      const row = await repo.findById(userId);
      if (!row) throw notFound('User');
      const expiresAt = clock.now() + RESET_TTL_MS;
      const token = resetSigner.sign({ u: row.id, f: passwordFingerprint(row.password_hash), e: Math.floor(expiresAt / 1000) });
      const expires = new Date(expiresAt).toISOString();
      await repo.logAudit(actor.userId, 'password.reset_issued', row.id, { expiresAt: expires });
      log.info({ userId: row.id, by: actor.userId }, 'password reset link issued');
      return { token, expiresAt: expires };
    },

    /** POST /api/auth/password-reset: a new password through a reset link; every session of the account ends. */
    async resetPassword(input: { token: string; newPassword: string }) {
      const claims = resetSigner.verify<{ u?: unknown; f?: unknown; e?: unknown }>(input.token);
      const live =
        claims && typeof claims.u === 'string' && typeof claims.f === 'string' && typeof claims.e === 'number'
          ? claims.e * 1000 > clock.now()
          : false;
      const row = live ? await repo.findById(claims!.u as string) : undefined;
      if (!row || passwordFingerprint(row.password_hash) !== claims!.f) throw resetLinkInvalid();
      const { changed, ended } = await repo.changePassword(
        row.id,
        row.password_hash,
        await hashPassword(input.newPassword),
        '',
        'password.reset',
      );
      // The link was used by another request between the check and now.
      if (!changed) throw resetLinkInvalid();
      const until = clock.now() + SESSION_TTL_MS;
      for (const id of ended) guard.noteRevoked(id, until);
      log.info({ userId: row.id, sessionsEnded: ended.length }, 'password reset');
      return { sessionsEnded: ended.length };
    },

    /** GET /api/me/sessions: the account's live sessions (signed-in devices), newest first. */
    async sessions(principal: Principal) {
      const rows = await repo.liveSessions(principal.userId);
      return rows.map((r) => ({
        id: r.id,
        createdAt: r.created_at.toISOString(),
        expiresAt: r.expires_at.toISOString(),
        device: r.device,
        current: r.id === principal.sessionId,
      }));
    },

    /** DELETE /api/me/sessions/:id: signs one of the account's devices out (this one too, if asked). */
    async endSession(principal: Principal, sessionId: string) {
      if (!(await repo.revokeOwnSession(principal.userId, sessionId))) throw notFound('Session');
      guard.noteRevoked(sessionId, clock.now() + SESSION_TTL_MS);
    },

    async me(principal: Principal) {
      const row = await repo.findById(principal.userId);
      if (!row) throw notFound('User');
      return toUser(row);
    },

    /** GET /api/admin/users: accounts found by a piece of their e-mail or name, or their id (newest first). */
    async findUsers(q: string | undefined, limit: number): Promise<AdminUser[]> {
      return (await repo.search(q?.trim() || undefined, limit)).map(toAdminUser);
    },

    /**
     * GET /api/admin/audit: what was done to accounts, newest first (an account's own with
     * `targetId`); with `eventId` or `venueId`, that event's or venue's log instead.
     */
    async audit(scope: AuditScope, before: string | undefined, limit: number) {
      const rows = await repo.audit(scope, before, limit + 1);
      const page = rows.slice(0, limit);
      const who = (id: string | null, email: string | null, name: string | null) =>
        id ? { id, email: email ?? '', name: name ?? '' } : null;
      return {
        entries: page.map((r) => ({
          id: r.id,
          at: r.at.toISOString(),
          action: r.action,
          actor: who(r.actor_id, r.actor_email, r.actor_name),
          target: who(r.target_id, r.target_email, r.target_name),
          details: r.details,
        })),
        next: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    /**
     * POST /api/admin/users/:id/suspension: a suspended account cannot sign in and every session
     * it had ends (here at once, in the other API processes within their next poll); restoring it
     * lets it sign in again. An admin cannot suspend their own account.
     */
    async setSuspendedAs(actor: Principal, userId: string, suspended: boolean) {
      if (actor.userId === userId && suspended) throw forbidden('Admins cannot suspend their own account');
      const result = await repo.setSuspended(userId, suspended, actor.userId);
      if (!result) throw notFound('User');
      const until = clock.now() + SESSION_TTL_MS;
      for (const id of result.ended) guard.noteRevoked(id, until);
      log.info(
        { userId, by: actor.userId, suspended, sessionsEnded: result.ended.length },
        suspended ? 'account suspended' : 'account restored',
      );
      const cleared =
        suspended && onSuspended ? await onSuspended(userId, actor) : { queuesLeft: 0, holdsReleased: 0, ordersCanceled: 0 };
      return { user: toAdminUser(result.user), sessionsEnded: result.ended.length, cleared };
    },

    /** PATCH /api/admin/users/:id, by an admin: never their own role, so an admin cannot lock everyone out by mistake. */
    async changeRoleAs(actor: Principal, userId: string, role: Role) {
      if (actor.userId === userId && role !== actor.role) throw forbidden('Admins cannot change their own role');
      return changeRole(userId, role, actor.userId);
    },

    changeRole,

    /** Makes sure an account with this e-mail exists with this role and password (admin bootstrap, demo data). */
    async ensureAccount(input: { email: string; password: string; name: string }, role: Role) {
      const existing = await repo.findByEmail(input.email);
      if (!existing) {
        await this.signup(input, role).catch(async (err: unknown) => {
          // Another process created it at the same moment; fall through to the update.
          if (!(await repo.findByEmail(input.email))) throw err;
        });
      }
      const row = await repo.findByEmail(input.email);
      if (!row) throw notFound('User');
      if (row.role !== role || !(await verifyPassword(input.password, row.password_hash))) {
        await repo.setPasswordAndRole(row.id, await hashPassword(input.password), role);
      }
      return row.id;
    },
  };
}
export type AccountsService = ReturnType<typeof createAccountsService>;
