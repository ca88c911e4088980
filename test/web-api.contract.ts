/**
 * The pages' own types for the API's answers (web/src/api.ts) held against the server's response
 * schemas, so that the two cannot drift apart unnoticed: every field a page reads is one the server
 * sends, with the type it sends (a page may read fewer fields than are sent). Checked when the
 * project is type-checked (`npm run check`, which CI runs): a page type that asks for a field the
 * server does not send, or types it otherwise, fails with both types in the message.
 */
import type { Static, TSchema } from 'typebox';
import type * as Web from '../web/src/api.ts';
import type * as Accounts from '../src/modules/accounts/accounts.schemas.ts';
import type * as Admin from '../src/modules/admin/admin.routes.ts';
import type * as Catalog from '../src/modules/catalog/catalog.schemas.ts';
import type * as Inventory from '../src/modules/inventory/inventory.schemas.ts';
import type * as Orders from '../src/modules/orders/orders.schemas.ts';
import type * as Room from '../src/modules/waiting-room/waiting-room.schemas.ts';
import type * as Door from '../src/modules/tickets/tickets.routes.ts';
import type * as Http from '../src/platform/http-schemas.ts';

/** `true` when every answer the schema allows is a value of the page's type; else both, to read in the error. */
type Reads<S extends TSchema, Page> = [Static<S>] extends [Page] ? true : { server: Static<S>; page: Page };

export const pagesReadWhatTheServerSends: {
  money: Reads<typeof Http.Money, Web.Money>;
  role: Reads<typeof Accounts.RoleSchema, Web.Role>;
  user: Reads<typeof Accounts.User, Web.User>;
  auditEntry: Reads<typeof Accounts.AuditEntry, Web.AuditEntry>;
  eventSummary: Reads<typeof Catalog.EventSummary, Web.EventSummary>;
  queueSettings: Reads<typeof Catalog.QueueSettings, Web.QueueSettings>;
  eventDetail: Reads<typeof Catalog.EventDetail, Web.EventDetail>;
  seatmap: Reads<typeof Catalog.Seatmap, Web.Seatmap>;
  venueSummary: Reads<typeof Catalog.VenueSummary, Web.VenueSummary>;
  availability: Reads<typeof Inventory.Availability, Web.Availability>;
  hold: Reads<typeof Inventory.Hold, Web.Hold>;
  order: Reads<typeof Orders.Order, Web.Order>;
  eventOrder: Reads<typeof Orders.EventOrder, Web.EventOrder>;
  ticket: Reads<typeof Orders.Ticket, Web.Ticket>;
  queueView: Reads<typeof Room.QueueView, Web.QueueView>;
  roomStatus: Reads<typeof Room.RoomStatus, Web.RoomStatus>;
  adminQueue: Reads<typeof Room.AdminQueue, Web.AdminQueue>;
  stats: Reads<typeof Admin.Stats, Web.Stats>;
  adminUser: Reads<typeof Accounts.AdminUser, Web.AdminUser>;
  suspension: Reads<typeof Accounts.SuspensionResult, Web.Suspension>;
  sessions: Reads<typeof Accounts.SessionsResult, { sessions: Web.Session[] }>;
  doorChanges: Reads<typeof Door.DoorChanges, Web.DoorChanges>;
} = {
  money: true,
  role: true,
  user: true,
  auditEntry: true,
  eventSummary: true,
  queueSettings: true,
  eventDetail: true,
  seatmap: true,
  venueSummary: true,
  availability: true,
  hold: true,
  order: true,
  eventOrder: true,
  ticket: true,
  queueView: true,
  roomStatus: true,
  adminQueue: true,
  stats: true,
  adminUser: true,
  suspension: true,
  sessions: true,
  doorChanges: true,
};
