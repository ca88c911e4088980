/** The one error type the domain throws. The HTTP layer turns it into the API's error body. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what = 'Resource') => new AppError('NOT_FOUND', 404, `${what} not found`);
export const forbidden = (message = 'You are not allowed to do this') => new AppError('FORBIDDEN', 403, message);
export const unauthenticated = (message = 'Sign in first') => new AppError('UNAUTHENTICATED', 401, message);
export const validationFailed = (message: string, fields: { field: string; message: string }[]) =>
  new AppError('VALIDATION_FAILED', 400, message, { fields });
/** 429 with Retry-After, from a rate limiter (the plugin's own limits and the per-account ones). */
export const rateLimited = (retryAfterSeconds: number) =>
  new AppError(
    'RATE_LIMITED',
    429,
    `Too many requests; try again in ${retryAfterSeconds} s`,
    { retryAfterSeconds },
    { 'retry-after': String(retryAfterSeconds) },
  );
