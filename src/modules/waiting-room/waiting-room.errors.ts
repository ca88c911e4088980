import { AppError } from '../../platform/errors.ts';

/** Codes: NOT_ADMITTED (403), SALE_NOT_OPEN (409), NOT_FOUND (404). */
export const notAdmitted = (message = 'This needs a valid admission token for this event (X-Admission-Token)') =>
  new AppError('NOT_ADMITTED', 403, message);

export const saleNotOpen = (message: string, details: Record<string, unknown>) =>
  new AppError('SALE_NOT_OPEN', 409, message, details);

export const notInQueue = () => new AppError('NOT_FOUND', 404, 'You have not joined the waiting room of this event');
