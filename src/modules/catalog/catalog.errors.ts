import { AppError } from '../../platform/errors.ts';

export const invalidField = (field: string, message: string) =>
  new AppError('VALIDATION_FAILED', 400, `${field} ${message}`, { fields: [{ field, message }] });
