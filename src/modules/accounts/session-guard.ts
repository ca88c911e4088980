import type { Clock } from '../../platform/clock.ts';
import type { Signer } from '../../platform/crypto.ts';
import type { AccountsRepository } from './accounts.repository.ts';
import type { Role } from './accounts.schemas.ts';

/** What a session token carries. Short keys: it rides on every request. */
export interface SessionClaims {
  s: string; // session id
  u: string; // user id
  r: Role; // role when issued
  e: number; // expiry, epoch seconds
}

export interface Principal {
  userId: string;
  sessionId: string;
  role: Role;
}

export interface SessionGuardOptions {
  repo: AccountsRepository;
  signer: Signer;
  clock: Clock;
  /** How often to read revocations and role changes from the database. */
  pollMs?: number;
  onError?: (err: unknown) => void;
}

// Revocations are read with this much overlap, so a logout whose transaction committed just after
// the previous poll read its watermark is still seen.
const OVERLAP_MS = 5_000;

/**
 * Checks session tokens without a database round trip: the token is HMAC-signed, and the
 * guard keeps in memory the set of revoked sessions and the latest role of every user whose
 * role changed, refreshed from the database every `pollMs` (one indexed query per process,
 * however many requests arrive). A logout is therefore seen at once by the process that
 * served it and within about a poll interval by every other process.
 */
export function createSessionGuard({ repo, signer, clock, pollMs = 1000, onError }: SessionGuardOptions) {
  const revoked = new Map<string, number>(); // session id -> expiry (ms)
  const roles = new Map<string, Role>(); // user id -> current role, for users whose role changed
  let revokedWatermark: Date | null = null;
  let rolesWatermark: Date | null = null;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;

  async function refresh(): Promise<void> {
    const since = (w: Date | null) => (w === null ? null : new Date(w.getTime() - OVERLAP_MS));
    const [sessions, users] = await Promise.all([
      repo.revokedSince(since(revokedWatermark)),
      repo.rolesChangedSince(since(rolesWatermark)),
    ]);
    for (const row of sessions) {
      revoked.set(row.id, row.expires_at.getTime());
      if (revokedWatermark === null || row.revoked_at > revokedWatermark) revokedWatermark = row.revoked_at;
    }
    for (const row of users) {
      roles.set(row.id, row.role);
      if (rolesWatermark === null || row.role_changed_at > rolesWatermark) rolesWatermark = row.role_changed_at;
    }
    // A first read that found nothing still fixes the watermark, so later polls stay incremental.
    if (revokedWatermark === null || rolesWatermark === null) {
      const now = await repo.dbNow();
      revokedWatermark ??= now;
      rolesWatermark ??= now;
    }
    const nowMs = clock.now();
    for (const [id, expires] of revoked) if (expires <= nowMs) revoked.delete(id);
  }

  function poll() {
    polling ??= refresh()
      .catch((err: unknown) => onError?.(err))
      .finally(() => {
        polling = undefined;
      });
    return polling;
  }

  return {
    async start() {
      await refresh();
      timer = setInterval(() => void poll(), pollMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await polling;
    },
    /** Forces a read now (tests; and after this process changes something). */
    refresh: poll,
    issue(claims: SessionClaims): string {
      return signer.sign(claims);
    },
    /** The principal behind a token, or undefined when it is forged, expired or revoked. */
    verify(token: string): Principal | undefined {
      const claims = signer.verify<SessionClaims>(token);
      if (!claims || typeof claims.s !== 'string' || typeof claims.u !== 'string' || typeof claims.e !== 'number') {
        return undefined;
      }
      if (claims.e * 1000 <= clock.now() || revoked.has(claims.s)) return undefined;
      return { userId: claims.u, sessionId: claims.s, role: roles.get(claims.u) ?? claims.r };
    },
    noteRevoked(sessionId: string, expiresAtMs: number) {
      revoked.set(sessionId, expiresAtMs);
    },
    noteRole(userId: string, role: Role) {
      roles.set(userId, role);
    },
  };
}
export type SessionGuard = ReturnType<typeof createSessionGuard>;
