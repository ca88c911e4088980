import { AppError } from '../../platform/errors.ts';

export const emailTaken = () => new AppError('EMAIL_TAKEN', 409, 'An account with this e-mail address already exists');
export const invalidCredentials = () => new AppError('INVALID_CREDENTIALS', 401, 'E-mail address or password is wrong');
export const wrongPassword = () => new AppError('INVALID_CREDENTIALS', 401, 'The current password is wrong');
export const accountSuspended = () =>
  new AppError('FORBIDDEN', 403, 'This account is suspended; contact the organizer or support');
