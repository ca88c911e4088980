import { Type } from 'typebox';
import { Id, KeysetCursor, Money, PageLimit } from '../../platform/http-schemas.ts';

export const OrderItem = Type.Object({
  seatId: Type.Union([Type.String(), Type.Null()]),
  label: Type.Union([Type.String(), Type.Null()]),
  row: Type.Union([Type.String(), Type.Null()]),
  section: Type.String(),
  sectionId: Type.String(),
  quantity: Type.Integer({ description: '1 for a seat; the number of places for a GA item' }),
  price: Money,
});

export const Order = Type.Object({
  id: Type.String(),
  eventId: Type.String(),
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('paid'),
    Type.Literal('expired'),
    Type.Literal('canceled'),
    Type.Literal('refunded'),
  ]),
  items: Type.Array(OrderItem),
  total: Money,
  createdAt: Type.String(),
  expiresAt: Type.String(),
  paidAt: Type.Union([Type.String(), Type.Null()]),
});

export const Ticket = Type.Object({
  id: Type.String(),
  orderId: Type.String(),
  eventId: Type.String(),
  seat: Type.Object({
    label: Type.Union([Type.String(), Type.Null()]),
    row: Type.Union([Type.String(), Type.Null()]),
    section: Type.String(),
  }),
  status: Type.Union([Type.Literal('valid'), Type.Literal('used'), Type.Literal('void')]),
  code: Type.String(),
  checkedInAt: Type.Union([Type.String(), Type.Null()]),
});

export const CreateOrderBody = Type.Object({ eventId: Id }, { additionalProperties: false });

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.String({ minLength: 1, maxLength: 255, description: 'Same key and body → the same stored response' }),
  'x-admission-token': Type.Optional(Type.String()),
});

export const PayBody = Type.Object(
  {
    card: Type.Object(
      {
        number: Type.String({ pattern: '^[0-9]{12,19}$', description: 'Digits only' }),
        expMonth: Type.Integer({ minimum: 1, maximum: 12 }),
        expYear: Type.Integer({ minimum: 2000, maximum: 2100 }),
        cvc: Type.String({ pattern: '^[0-9]{3,4}$' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const EventOrder = Type.Object({
  ...Order.properties,
  buyer: Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() }),
  closedAt: Type.Union([Type.String(), Type.Null()], { description: 'When it was canceled, refunded or expired' }),
  closedBy: Type.Union([Type.Object({ id: Type.String(), email: Type.String() }), Type.Null()], {
    description: 'Who canceled or refunded it (null while open and when it expired)',
  }),
});

const eventOrdersFilter = {
  status: Type.Optional(Order.properties.status),
  q: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: "An order id, or part of the buyer's e-mail or name" }),
  ),
};

export const EventOrdersQuery = Type.Object(
  {
    ...eventOrdersFilter,
    limit: Type.Optional(PageLimit),
    after: Type.Optional(KeysetCursor('The `next` of the previous page')),
  },
  { additionalProperties: false },
);

export const EventOrdersExportQuery = Type.Object(eventOrdersFilter, { additionalProperties: false });
