import { Type, type Static } from 'typebox';
import { DateTime, FreeText, Id, Money, SingleLine } from '../../platform/http-schemas.ts';

export const MAX_VENUE_SEATS = 200_000;
const Label = SingleLine({ maxLength: 12 });
const Coordinate = Type.Number({ minimum: -1_000_000, maximum: 1_000_000 });
const Name = SingleLine({ maxLength: 100 });

export const SectionInput = Type.Object(
  {
    name: Name,
    kind: Type.Union([Type.Literal('seated'), Type.Literal('ga')]),
    rows: Type.Optional(
      Type.Array(
        Type.Object(
          {
            label: Label,
            seats: Type.Array(Type.Object({ label: Label, x: Coordinate, y: Coordinate }, { additionalProperties: false }), {
              maxItems: 2000,
            }),
          },
          { additionalProperties: false },
        ),
        { maxItems: 2000 },
      ),
    ),
    grid: Type.Optional(
      Type.Object(
        {
          rows: Type.Integer({ minimum: 1, maximum: 2000 }),
          seatsPerRow: Type.Integer({ minimum: 1, maximum: 2000 }),
          origin: Type.Optional(Type.Object({ x: Coordinate, y: Coordinate }, { additionalProperties: false })),
        },
        { additionalProperties: false },
      ),
    ),
    capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
);
export type SectionInput = Static<typeof SectionInput>;

export const VenueBody = Type.Object(
  { name: SingleLine({ maxLength: 200 }), sections: Type.Array(SectionInput, { minItems: 1, maxItems: 200 }) },
  { additionalProperties: false },
);
export type VenueBody = Static<typeof VenueBody>;
/** A venue's layout is fixed once created (seat maps, orders and tickets name its seats); only its name changes. */
export const VenuePatch = Type.Object({ name: SingleLine({ maxLength: 200 }) }, { additionalProperties: false });

const SeatOut = Type.Object({
  id: Type.String(),
  label: Type.String(),
  x: Type.Number(),
  y: Type.Number(),
  index: Type.Integer(),
});
const RowOut = Type.Object({ label: Type.String(), seats: Type.Array(SeatOut) });

export const VenueSection = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  capacity: Type.Optional(Type.Integer()),
  rows: Type.Optional(Type.Array(RowOut)),
});
const VenueOwner = Type.String({ description: 'The organizer who created the venue: they (or an admin) may rename it' });
export const Venue = Type.Object({
  id: Type.String(),
  name: Type.String(),
  ownerId: VenueOwner,
  seatCount: Type.Integer(),
  gaCapacity: Type.Integer(),
  sections: Type.Array(VenueSection),
});
export const VenueSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  ownerId: VenueOwner,
  seatCount: Type.Integer(),
  gaCapacity: Type.Integer(),
  sections: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), kind: Type.String(), capacity: Type.Integer() })),
});

export const PriceInput = Type.Object(
  {
    section: Type.String({ minLength: 1, maxLength: 100 }),
    amount: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  },
  { additionalProperties: false },
);

export const QueueSettingsInput = Type.Object(
  {
    admitPerMinute: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    maxActive: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
    claimSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    preQueueMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_080 })),
    admissionMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_440 })),
  },
  { additionalProperties: false },
);

const eventFields = {
  name: SingleLine({ maxLength: 200 }),
  description: Type.Optional(FreeText({ maxLength: 5000 })),
  startsAt: DateTime,
  onSaleAt: DateTime,
  offSaleAt: Type.Optional(Type.Union([DateTime, Type.Null()])),
  prices: Type.Array(PriceInput, { minItems: 1, maxItems: 200 }),
  maxSeatsPerOrder: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  holdSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  queue: Type.Optional(QueueSettingsInput),
};

export const EventBody = Type.Object({ venueId: Id, ...eventFields }, { additionalProperties: false });
export type EventBody = Static<typeof EventBody>;

export const EventPatch = Type.Object(
  {
    name: Type.Optional(eventFields.name),
    description: eventFields.description,
    startsAt: Type.Optional(DateTime),
    onSaleAt: Type.Optional(DateTime),
    offSaleAt: eventFields.offSaleAt,
    prices: Type.Optional(eventFields.prices),
    maxSeatsPerOrder: eventFields.maxSeatsPerOrder,
    holdSeconds: eventFields.holdSeconds,
    queue: eventFields.queue,
  },
  { additionalProperties: false, minProperties: 1 },
);
export type EventPatch = Static<typeof EventPatch>;

export const EVENT_STATUSES = ['scheduled', 'on_sale', 'sold_out', 'ended'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export const EventSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  venue: Type.Object({ id: Type.String(), name: Type.String() }),
  startsAt: Type.String(),
  onSaleAt: Type.String(),
  offSaleAt: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('scheduled'), Type.Literal('on_sale'), Type.Literal('sold_out'), Type.Literal('ended')]),
  priceRange: Type.Union([Type.Object({ min: Money, max: Money }), Type.Null()]),
  available: Type.Integer(),
  capacity: Type.Integer(),
});
export type EventSummary = Static<typeof EventSummary>;

export const QueueSettings = Type.Object({
  admitPerMinute: Type.Integer(),
  maxActive: Type.Integer(),
  claimSeconds: Type.Integer(),
  preQueueMinutes: Type.Integer(),
  admissionMinutes: Type.Integer(),
  paused: Type.Boolean(),
});
export type QueueSettings = Static<typeof QueueSettings>;

export const EventDetail = Type.Object({
  ...EventSummary.properties,
  description: Type.String(),
  organizerId: Type.String(),
  prices: Type.Array(
    Type.Object({
      sectionId: Type.String(),
      section: Type.String(),
      kind: Type.String(),
      amount: Type.Integer(),
      currency: Type.String(),
    }),
  ),
  maxSeatsPerOrder: Type.Integer(),
  holdSeconds: Type.Integer(),
  queue: QueueSettings,
  seatmapVersion: Type.Integer(),
});
export type EventDetail = Static<typeof EventDetail>;

export const Seatmap = Type.Object({
  eventId: Type.String(),
  version: Type.Integer(),
  sections: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      kind: Type.String(),
      price: Money,
      rows: Type.Optional(Type.Array(RowOut)),
      capacity: Type.Optional(Type.Integer()),
    }),
  ),
});
