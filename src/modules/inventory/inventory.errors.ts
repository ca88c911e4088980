import { AppError } from '../../platform/errors.ts';

/** The inventory's error codes (API.md, "Holds"). */
export const seatsUnavailable = (seats: string[], extra: Record<string, unknown> = {}) =>
  new AppError(
    'SEATS_UNAVAILABLE',
    409,
    seats.length > 0 ? 'Some of these seats were just taken' : 'Not enough seats are free together',
    {
      seats,
      ...extra,
    },
  );
export const soldOut = () => new AppError('SOLD_OUT', 409, 'Nothing is left in what you asked for', { seats: [] });
export const saleNotOpen = (opensAt: Date, closesAt: Date) =>
  new AppError('SALE_NOT_OPEN', 409, 'The sale for this event is not open', {
    onSaleAt: opensAt.toISOString(),
    offSaleAt: closesAt.toISOString(),
  });
export const tooManySeats = (max: number) =>
  new AppError('TOO_MANY_SEATS', 400, `At most ${max} seats per order`, { maxSeatsPerOrder: max });
export const noHold = () => new AppError('NO_HOLD', 409, 'You hold no seats for this event');
export const holdExpired = () => new AppError('HOLD_EXPIRED', 410, 'Your hold has expired');
export const unknownSeats = (field: string, ids: string[]) =>
  new AppError('VALIDATION_FAILED', 400, `${field} names seats this event does not have`, {
    fields: [{ field, message: `unknown seats: ${ids.slice(0, 20).join(', ')}` }],
    seats: ids,
  });
export const unknownSection = (field: string, section: string, kind: string) =>
  new AppError('VALIDATION_FAILED', 400, `${field} names no ${kind} section of this event ("${section}")`, {
    fields: [{ field, message: `names no ${kind} section of this event` }],
  });
