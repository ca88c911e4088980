import { Type, type Static } from 'typebox';

/** The API's error body, shared by every route's response schema. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Record(Type.String(), Type.Unknown()),
    }),
  },
  { $id: 'ErrorBody', description: 'Every error: a machine code, a sentence for people, and details.' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Opaque ids as they appear in paths: short, URL-safe. Anything else is a 400 before any lookup. */
export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

/** `?limit=` of a list: 1–200 as a query string (query values are not coerced), 50 when absent. */
export const PageLimit = Type.String({ pattern: '^([1-9][0-9]?|1[0-9]{2}|200)$', description: 'At most this many, 1–200 (50)' });
export const pageLimit = (limit: string | undefined): number => (limit === undefined ? 50 : Number(limit));
/** A keyset position, `<microseconds since the epoch>.<id>`: where the previous page ended. */
export const KeysetCursor = (description: string) => Type.String({ pattern: '^[0-9]{1,16}[.][A-Za-z0-9_-]{1,64}$', description });

export const Money = Type.Object({
  amount: Type.Integer({ minimum: 0 }),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
});
export type Money = Static<typeof Money>;

const SINGLE_LINE_PATTERN = '^(?!\\s*$)[^\\u0000-\\u001F\\u007F]*$';
const FREE_TEXT_PATTERN = '^[^\\u0000]*$';

/**
 * Text people type on one line: names and labels. No control characters (PostgreSQL text cannot
 * hold NUL, and a tab or newline in a name is never meant), and not blank: names are stored trimmed,
 * so "   " would reach the database as an empty string.
 */
export function SingleLine(options: { maxLength: number; minLength?: number }) {
  return Type.String({ minLength: 1, ...options, pattern: SINGLE_LINE_PATTERN });
}

/** Free text (descriptions): line breaks allowed, NUL not (PostgreSQL text cannot store it). */
export function FreeText(options: { maxLength: number }) {
  return Type.String({ ...options, pattern: FREE_TEXT_PATTERN });
}

/** What a failed pattern means, in words, for the patterns above (a regex is no message for people). */
export const PATTERN_MESSAGES: Readonly<Record<string, string>> = {
  [SINGLE_LINE_PATTERN]: 'must contain visible text and no control characters',
  [FREE_TEXT_PATTERN]: 'must not contain NUL characters',
};

/** A date-time string; ajv-formats' date-time check keeps nonsense like "2026-13-45" out. */
export const DateTime = Type.String({ format: 'date-time', maxLength: 40 });

/** Shortcut: the usual error responses a route can give, by status. */
export function errors(...statuses: number[]): Record<number, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody]));
}
