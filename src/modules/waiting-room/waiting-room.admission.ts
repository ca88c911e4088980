// An admitted buyer's turn: the token the waiting room signs for it, the check every hold and order
// call makes (requireAdmission), and its end (finish). Not the admission log: see waiting-room.recorder.ts.
import type { Clock } from '../../platform/clock.ts';
import type { Signer } from '../../platform/crypto.ts';
import { notAdmitted } from './waiting-room.errors.ts';
import type { Settings } from './waiting-room.model.ts';
import type { WaitingRoomStore } from './waiting-room.store.ts';

/** What an admission token carries. Short keys: it rides on every hold and order call. */
interface AdmissionClaims {
  u: string; // user id
  e: string; // event id
  n: number; // queue number
  x: number; // expiry, epoch ms
}

/** How long a claimed turn is trusted by this process before the store is asked again. */
const CLAIM_TRUST_MS = 1000;
/** Most claimed turns remembered at once (the map is emptied when full). */
const CLAIM_CACHE_LIMIT = 100_000;
/** Longest admission token looked at (ours are a few hundred characters). */
const MAX_TOKEN_LENGTH = 2048;

export interface AdmissionDeps {
  store: WaitingRoomStore;
  /** createSigner(secret, 'admission'): tokens that can never pass as session tokens. */
  signer: Signer;
  clock: Clock;
  settingsOf: (eventId: string) => Promise<Settings>;
}

export function createAdmission({ store, signer, clock, settingsOf }: AdmissionDeps) {
  /**
   * Turns this process saw claimed in the store: event|user -> until when the claim is trusted
   * without asking the store again. A leave or finish here forgets it at once; one in another
   * process is seen within CLAIM_TRUST_MS (as a revoked session is).
   */
  const claimedTurns = new Map<string, number>();
  const turnKey = (eventId: string, userId: string) => `${eventId}|${userId}`;

  /** The admission a buyer admitted at `admittedAt` is shown: the signed token and when it runs out. */
  function tokenOf(eventId: string, userId: string, number: number, admittedAt: number, s: Settings) {
    const expiresAt = admittedAt + s.rules.admissionMs;
    const claims: AdmissionClaims = { u: userId, e: eventId, n: number, x: expiresAt };
    return { token: signer.sign(claims), expiresAt: new Date(expiresAt).toISOString() };
  }

  /** The buyer left: their claim is no longer trusted here. */
  function forget(eventId: string, userId: string) {
    claimedTurns.delete(turnKey(eventId, userId));
  }

  /**
   * Throws NOT_ADMITTED unless `token` is a valid admission token of this user for this event
   * that has not run out, been left or finished. The signature and expiry are checked in
   * memory; one O(1) store call then checks the mark (revocation) and records the claim,
   * and a claim seen in the last second is trusted without asking again (see claimedTurns).
   */
  async function requireAdmission(request: { token: string | undefined; userId: string; eventId: string }): Promise<void> {
    const { token, userId, eventId } = request;
    if (!token) throw notAdmitted('Send your admission token in the X-Admission-Token header');
    // Tokens are a few hundred characters; a longer one is not one of ours (and is not hashed).
    const claims = token.length <= MAX_TOKEN_LENGTH ? signer.verify<AdmissionClaims>(token) : null;
    const now = clock.now();
    if (!claims || claims.u !== userId || claims.e !== eventId || typeof claims.x !== 'number') throw notAdmitted();
    if (claims.x <= now) throw notAdmitted('Your admission has expired');
    const key = turnKey(eventId, userId);
    const trusted = claimedTurns.get(key);
    if (trusted !== undefined && now < trusted) return;
    const s = await settingsOf(eventId).catch(() => {
      throw notAdmitted(); // the event is gone
    });
    const result = await store.claim(eventId, userId, now, s.rules);
    if (result === 'expired') throw notAdmitted('Your admission has expired');
    if (result !== 'ok') {
      claimedTurns.delete(key);
      throw notAdmitted('You are no longer admitted to this event');
    }
    if (claimedTurns.size >= CLAIM_CACHE_LIMIT) claimedTurns.clear();
    claimedTurns.set(key, Math.min(now + CLAIM_TRUST_MS, claims.x));
  }

  /** Ends the buyer's turn in the store; true when an active slot was freed (the room's counters moved). */
  async function finish(eventId: string, userId: string): Promise<boolean> {
    forget(eventId, userId);
    return store.finish(eventId, userId);
  }

  return { tokenOf, forget, requireAdmission, finish };
}
