import { Type } from 'typebox';
import type { BuyerState, RoomState as RoomStateName } from './waiting-room.model.ts';

// Nullable fields are written as `type: [..., 'null']` and states as `enum` rather than anyOf:
// the response serializer then writes them directly instead of trying each branch in turn
// (joins and polls are the hot path). The OpenAPI document (3.1) reads them the same.
const NullableInt = Type.Unsafe<number | null>({ type: ['integer', 'null'] });
const stringEnum = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });

export const QueueView = Type.Object(
  {
    state: stringEnum<BuyerState>(['prequeue', 'waiting', 'admitted', 'expired', 'left']),
    number: NullableInt,
    position: NullableInt,
    etaSeconds: NullableInt,
    admission: Type.Unsafe<{ token: string; expiresAt: string } | null>({
      type: ['object', 'null'],
      properties: { token: { type: 'string' }, expiresAt: { type: 'string' } },
      required: ['token', 'expiresAt'],
    }),
  },
  { description: 'My place: number and position are null in the pre-queue; admission is set once admitted' },
);
export const QueueResult = Type.Object({ queue: QueueView });

const RoomState = stringEnum<RoomStateName>(['prequeue', 'open', 'paused', 'sold_out', 'closed']);

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
  observedPerMinute: Type.Unsafe<number | null>({ type: ['number', 'null'] }),
  serving: Type.Integer(),
  backoff: Type.Union(
    [
      Type.Object({
        thresholdMs: Type.Integer(),
        loadMs: Type.Unsafe<number | null>({ type: ['number', 'null'] }),
        factor: Type.Unsafe<number | null>({ type: ['number', 'null'] }),
      }),
      Type.Null(),
    ],
    {
      description:
        "Admission back-off, null when off: the threshold on the API processes' answer times (ms), the slowest one's recent p99 (ms), and the factor the ticker applies to maxActive (1: none)",
    },
  ),
});

export const QueueControls = Type.Object(
  {
    paused: Type.Optional(Type.Boolean()),
    admitPerMinute: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    maxActive: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
  },
  { additionalProperties: false },
);
