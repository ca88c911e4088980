import type { Money } from './orders.view.ts';

/** What the orders module needs of the seat inventory. */
export interface InventoryPort {
  commitHold(
    eventId: string,
    userId: string,
  ): Promise<
    | { ok: false; code: 'NO_HOLD' | 'HOLD_EXPIRED' }
    | {
        ok: true;
        seats: { id: string; index: number; label: string; row: string; section: string; sectionId: string; price: Money }[];
        hold: { ga: { sectionId: string; section: string; quantity: number; price: Money }[] };
        expiresAt: number;
      }
  >;
  releaseSeats(eventId: string, seatIndexes: number[], ga?: Record<string, number>): Promise<void>;
  rebuild(eventId: string): Promise<void>;
}

export interface OrdersLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}
