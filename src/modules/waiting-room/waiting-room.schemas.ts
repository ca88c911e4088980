import { Type } from 'typebox';

const NullableInt = Type.Union([Type.Integer(), Type.Null()]);

export const QueueView = Type.Object(
  {
    state: Type.Union([
      Type.Literal('prequeue'),
      Type.Literal('waiting'),
      Type.Literal('admitted'),
      Type.Literal('expired'),
      Type.Literal('left'),
    ]),
    number: NullableInt,
    position: NullableInt,
    etaSeconds: NullableInt,
    admission: Type.Union([Type.Object({ token: Type.String(), expiresAt: Type.String() }), Type.Null()]),
  },
  { description: 'My place: number and position are null in the pre-queue; admission is set once admitted' },
);
export const QueueResult = Type.Object({ queue: QueueView });

const RoomState = Type.Union([
  Type.Literal('prequeue'),
  Type.Literal('open'),
  Type.Literal('paused'),
  Type.Literal('sold_out'),
  Type.Literal('closed'),
]);

export const RoomStatus = Type.Object(
  {
    state: RoomState,
    serving: Type.Integer(),
    waiting: Type.Integer(),
    admitPerMinute: Type.Integer(),
    onSaleAt: Type.String(),
  },
  { description: 'The same for everyone; cacheable for a second' },
);

export const AdminQueue = Type.Object({
  state: RoomState,
  joined: Type.Integer(),
  waiting: Type.Integer(),
  active: Type.Integer(),
  admitted: Type.Integer(),
  noShows: Type.Integer(),
  admitPerMinute: Type.Integer(),
  maxActive: Type.Integer(),
  paused: Type.Boolean(),
  observedPerMinute: Type.Union([Type.Number(), Type.Null()]),
  serving: Type.Integer(),
});

export const QueueControls = Type.Object(
  {
    paused: Type.Optional(Type.Boolean()),
    admitPerMinute: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    maxActive: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
  },
  { additionalProperties: false },
);
