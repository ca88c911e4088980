import { Type } from 'typebox';
import { Id, Money } from '../../platform/http-schemas.ts';

const SectionKey = Type.String({ minLength: 1, maxLength: 100, description: 'Section id or name' });

export const HoldBody = Type.Union(
  [
    Type.Object(
      {
        seats: Type.Array(Id, {
          minItems: 1,
          maxItems: 100,
          description: 'Exactly the seats to hold (DELETE releases the hold)',
        }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        bestAvailable: Type.Object(
          { quantity: Type.Integer({ minimum: 1, maximum: 100 }), section: Type.Optional(SectionKey) },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        ga: Type.Object(
          { section: SectionKey, quantity: Type.Integer({ minimum: 1, maximum: 100 }) },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'One of: {seats}, {bestAvailable}, {ga}' },
);

export const Hold = Type.Object({
  eventId: Type.String(),
  seats: Type.Array(
    Type.Object({
      id: Type.String(),
      label: Type.String(),
      row: Type.String(),
      section: Type.String(),
      sectionId: Type.String(),
      price: Money,
    }),
  ),
  ga: Type.Array(Type.Object({ sectionId: Type.String(), section: Type.String(), quantity: Type.Integer(), price: Money })),
  total: Money,
  expiresAt: Type.String({ format: 'date-time' }),
});

export const HoldResponse = Type.Object({ hold: Hold });

export const Availability = Type.Object({
  version: Type.Integer(),
  seatCount: Type.Integer(),
  unavailable: Type.String({ description: 'base64 bitmap: bit i (LSB of byte 0 first) is 1 when seat index i is taken' }),
  ga: Type.Record(Type.String(), Type.Integer(), { description: 'GA section id -> places remaining' }),
});

export const ADMISSION_HEADER = 'x-admission-token';
