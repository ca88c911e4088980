// The waiting room's views and time rules: pure, shared by the service and its tests.
import type { BackoffView } from './backoff.ts';
import type { QueueSettingsRow } from './waiting-room.repository.ts';
import type { QueueRules } from './waiting-room.store.ts';

/** Where an event's sale stands in time. */
export type SalePhase = 'early' | 'pre' | 'open' | 'closed';
export type BuyerState = 'prequeue' | 'waiting' | 'admitted' | 'expired' | 'left';
export type RoomState = 'prequeue' | 'open' | 'paused' | 'sold_out' | 'closed';

export interface QueueView {
  state: BuyerState;
  number: number | null;
  position: number | null;
  etaSeconds: number | null;
  admission: { token: string; expiresAt: string } | null;
}

export interface RoomStatus {
  state: RoomState;
  serving: number;
  waiting: number;
  admitPerMinute: number;
  onSaleAt: string;
}

export interface AdminQueueView {
  state: RoomState;
  joined: number;
  waiting: number;
  active: number;
  admitted: number;
  noShows: number;
  admitPerMinute: number;
  maxActive: number;
  paused: boolean;
  observedPerMinute: number | null;
  serving: number;
  /** Admission back-off (null: off, TICKETMAX_ADMISSION_BACKOFF_MS is 0). */
  backoff: BackoffView | null;
}

export interface Settings {
  row: QueueSettingsRow;
  rules: QueueRules;
  preQueueAt: number;
  onSaleAt: number;
  closeAt: number;
  loadedAt: number;
}

export function toSettings(row: QueueSettingsRow, loadedAt: number): Settings {
  const onSaleAt = row.on_sale_at.getTime();
  return {
    row,
    rules: {
      paused: row.queue_paused,
      admitPerMinute: row.admit_per_minute,
      maxActive: row.max_active,
      claimMs: row.claim_seconds * 1000,
      admissionMs: row.admission_minutes * 60_000,
    },
    preQueueAt: onSaleAt - row.pre_queue_minutes * 60_000,
    onSaleAt,
    closeAt: (row.off_sale_at ?? row.starts_at).getTime(),
    loadedAt,
  };
}

export function salePhase(s: Pick<Settings, 'preQueueAt' | 'onSaleAt' | 'closeAt'>, now: number): SalePhase {
  if (now >= s.closeAt) return 'closed';
  if (now >= s.onSaleAt) return 'open';
  return now >= s.preQueueAt ? 'pre' : 'early';
}

/** Admissions a minute as observed, over a sliding window of samples of the admitted counter. */
export function createRateMeter(windowMs = 60_000, minSpanMs = 10_000) {
  const samples = new Map<string, { t: number; admitted: number }[]>();
  return {
    /** Records the admitted counter at `now` (at most one sample per half second). */
    sample(eventId: string, now: number, admitted: number) {
      let list = samples.get(eventId);
      if (!list) samples.set(eventId, (list = []));
      const last = list[list.length - 1];
      if (last && now - last.t < 500) return;
      list.push({ t: now, admitted });
      while (list.length > 2 && now - list[0]!.t > windowMs) list.shift();
    },
    /** The observed rate, or null until the samples span minSpanMs. */
    perMinute(eventId: string): number | null {
      const list = samples.get(eventId);
      if (!list || list.length < 2) return null;
      const first = list[0]!;
      const last = list[list.length - 1]!;
      const span = last.t - first.t;
      return span >= minSpanMs ? ((last.admitted - first.admitted) * 60_000) / span : null;
    },
  };
}
