import { Type, type Static } from 'typebox';
import { errors, Id, IdParams, PageLimit, SingleLine } from '../../platform/http-schemas.ts';

export const ROLES = ['buyer', 'organizer', 'staff', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = Type.Union([
  Type.Literal('buyer'),
  Type.Literal('organizer'),
  Type.Literal('staff'),
  Type.Literal('admin'),
]);

export const User = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: RoleSchema,
});
export type User = Static<typeof User>;
/** An account as an admin sees it. */
export const AdminUser = Type.Object({
  ...User.properties,
  suspended: Type.Boolean({ description: 'Suspended by an admin: cannot sign in, its sessions ended' }),
});
export type AdminUser = Static<typeof AdminUser>;
export const SuspensionBody = Type.Object({ suspended: Type.Boolean() }, { additionalProperties: false });
/** What a suspension cleared in the sales going on. */
export const SuspensionSweep = Type.Object({
  queuesLeft: Type.Integer({ minimum: 0, description: 'Waiting rooms the account left' }),
  holdsReleased: Type.Integer({ minimum: 0, description: 'Events of which its held seats (if any) went back on sale' }),
  ordersCanceled: Type.Integer({ minimum: 0, description: 'Its pending orders canceled (paid ones stay)' }),
});
export type SuspensionSweep = Static<typeof SuspensionSweep>;
export const SuspensionResult = Type.Object({
  user: AdminUser,
  sessionsEnded: Type.Integer({ minimum: 0, description: 'Sessions of the account ended by this suspension' }),
  cleared: SuspensionSweep,
});

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });

export const SignupBody = Type.Object(
  {
    email: Email,
    password: Type.String({ minLength: 8, maxLength: 256 }),
    name: SingleLine({ maxLength: 100 }),
  },
  { additionalProperties: false },
);
export const LoginBody = Type.Object(
  {
    // Not checked as an e-mail format (an unknown address answers like a wrong password), but
    // free of control characters: a NUL would otherwise reach PostgreSQL and fail there.
    email: SingleLine({ maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);
export const PasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 256 }),
    newPassword: Type.String({ minLength: 8, maxLength: 256 }),
  },
  { additionalProperties: false },
);
export const ResetBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 1024, description: 'From the link an admin handed out' }),
    newPassword: Type.String({ minLength: 8, maxLength: 256 }),
  },
  { additionalProperties: false },
);
export const ResetLink = Type.Object({
  token: Type.String({ description: 'For the page /reset-password#<token>; works once' }),
  expiresAt: Type.String({ format: 'date-time' }),
});
export const PasswordResult = Type.Object({
  sessionsEnded: Type.Integer({ minimum: 0, description: 'How many other sessions of the account were signed out' }),
});
export const AuthResult = Type.Object({ user: User, token: Type.String() });
export const MeResult = Type.Object({ user: User });
export const RoleBody = Type.Object({ role: RoleSchema }, { additionalProperties: false });
export const UsersQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'A piece of the e-mail or name, or an id' })),
    limit: Type.Optional(PageLimit),
  },
  { additionalProperties: false },
);

export const authErrors = errors(400, 401, 403, 409, 413, 429);

const AuditParty = Type.Union([Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() }), Type.Null()]);
export const AuditEntry = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  action: Type.String({
    description:
      'Accounts: `role.changed` ({from, to}), `account.suspended`, `account.restored`, `password.changed` ({sessionsEnded}), `password.reset_issued` ({expiresAt}), `password.reset` ({sessionsEnded}). Events: `event.created` ({name, venue: {id, name}, startsAt, onSaleAt, offSaleAt}), `queue.changed` ({from, to}: paused, admitPerMinute, maxActive), `event.changed` ({fields, from, to}: the PATCH fields that changed, with `prices` when the prices changed), `order.refunded` ({orderId, amount, currency}: a paid order refunded by an organizer or admin; the target is its buyer). Venues: `venue.created` ({name, seatCount, gaCapacity, sections}), `venue.renamed` ({from, to})',
  }),
  actor: AuditParty,
  target: AuditParty,
  details: Type.Record(Type.String(), Type.Unknown()),
});
const AuditBefore = Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'The previous page’s `next`' });
export const AuditQuery = Type.Object(
  { target: Type.Optional(Id), before: Type.Optional(AuditBefore), limit: Type.Optional(PageLimit) },
  { additionalProperties: false },
);
/** An event's audit log: a page at a time. */
export const AuditPageQuery = Type.Object(
  { before: Type.Optional(AuditBefore), limit: Type.Optional(PageLimit) },
  { additionalProperties: false },
);
export const AuditResult = Type.Object({ entries: Type.Array(AuditEntry), next: Type.Union([Type.String(), Type.Null()]) });
/** The route schema of one thing's audit log (an event's, a venue's): its id, a page, the lines. */
export const auditPageRoute = (tags: string[], summary: string) => ({
  tags,
  summary,
  params: IdParams,
  querystring: AuditPageQuery,
  response: { 200: AuditResult, ...errors(400, 401, 403, 404) },
});

export const SessionsResult = Type.Object({
  sessions: Type.Array(
    Type.Object({
      id: Type.String(),
      createdAt: Type.String({ format: 'date-time' }),
      expiresAt: Type.String({ format: 'date-time' }),
      device: Type.Union([Type.String(), Type.Null()], { description: 'The User-Agent it signed in with' }),
      current: Type.Boolean({ description: 'The session of this request' }),
    }),
  ),
});
