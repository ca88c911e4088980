-- TicketMax schema, version 1.
-- Runs unchanged on PGlite and on a PostgreSQL server. Ids are opaque text made by the application.

CREATE TABLE users (
  id              text PRIMARY KEY,
  email           text NOT NULL CHECK (length(email) <= 254),
  name            text NOT NULL CHECK (length(name) <= 100),
  password_hash   text NOT NULL,
  role            text NOT NULL DEFAULT 'buyer' CHECK (role IN ('buyer', 'organizer', 'staff', 'admin')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- Set on every role change so API processes can pick the change up without a lookup per request.
  role_changed_at timestamptz
);
-- E-mail addresses are unique ignoring case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_role_changed_at_idx ON users (role_changed_at) WHERE role_changed_at IS NOT NULL;

CREATE TABLE sessions (
  id          text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
-- API processes poll this index for revocations newer than their watermark.
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE venues (
  id          text PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  owner_id    text NOT NULL REFERENCES users (id),
  seat_count  integer NOT NULL CHECK (seat_count >= 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sections (
  id        text PRIMARY KEY,
  venue_id  text NOT NULL REFERENCES venues (id) ON DELETE CASCADE,
  name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  kind      text NOT NULL CHECK (kind IN ('seated', 'ga')),
  capacity  integer CHECK (capacity IS NULL OR capacity >= 1),
  position  integer NOT NULL,
  UNIQUE (venue_id, name),
  UNIQUE (venue_id, position),
  CHECK ((kind = 'ga') = (capacity IS NOT NULL))
);

CREATE TABLE seats (
  id          text PRIMARY KEY,
  venue_id    text NOT NULL REFERENCES venues (id) ON DELETE CASCADE,
  section_id  text NOT NULL REFERENCES sections (id) ON DELETE CASCADE,
  row_label   text NOT NULL,
  label       text NOT NULL,
  x           real NOT NULL,
  y           real NOT NULL,
  -- Stable position of the seat in the venue's availability bitmap.
  idx         integer NOT NULL CHECK (idx >= 0),
  UNIQUE (venue_id, idx),
  UNIQUE (section_id, row_label, label)
);

CREATE TABLE events (
  id                   text PRIMARY KEY,
  venue_id             text NOT NULL REFERENCES venues (id),
  organizer_id         text NOT NULL REFERENCES users (id),
  name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description          text NOT NULL DEFAULT '',
  starts_at            timestamptz NOT NULL,
  on_sale_at           timestamptz NOT NULL,
  off_sale_at          timestamptz,
  max_seats_per_order  integer NOT NULL DEFAULT 6 CHECK (max_seats_per_order BETWEEN 1 AND 100),
  hold_seconds         integer NOT NULL DEFAULT 600 CHECK (hold_seconds >= 1),
  admit_per_minute     integer NOT NULL DEFAULT 600 CHECK (admit_per_minute >= 0),
  max_active           integer NOT NULL DEFAULT 1000 CHECK (max_active >= 0),
  claim_seconds        integer NOT NULL DEFAULT 120 CHECK (claim_seconds >= 1),
  pre_queue_minutes    integer NOT NULL DEFAULT 30 CHECK (pre_queue_minutes >= 0),
  admission_minutes    integer NOT NULL DEFAULT 15 CHECK (admission_minutes >= 1),
  queue_paused         boolean NOT NULL DEFAULT false,
  -- Bumped whenever anything shown in the seat map changes (prices); the seat map ETag follows it.
  seatmap_version      integer NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CHECK (off_sale_at IS NULL OR off_sale_at > on_sale_at)
);
CREATE INDEX events_starts_at_idx ON events (starts_at);

CREATE TABLE prices (
  event_id    text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  section_id  text NOT NULL REFERENCES sections (id),
  amount      bigint NOT NULL CHECK (amount >= 0),
  currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  PRIMARY KEY (event_id, section_id)
);

-- General-admission places per event and section. The CHECK is the last wall against GA oversell.
CREATE TABLE ga_inventory (
  event_id    text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  section_id  text NOT NULL REFERENCES sections (id),
  capacity    integer NOT NULL CHECK (capacity >= 1),
  taken       integer NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, section_id),
  CHECK (taken >= 0 AND taken <= capacity)
);

CREATE TABLE orders (
  id            text PRIMARY KEY,
  event_id      text NOT NULL REFERENCES events (id),
  user_id       text NOT NULL REFERENCES users (id),
  status        text NOT NULL CHECK (status IN ('pending', 'paid', 'expired', 'canceled', 'refunded')),
  total_amount  bigint NOT NULL CHECK (total_amount >= 0),
  currency      text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  paid_at       timestamptz,
  closed_at     timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC);
CREATE INDEX orders_event_status_idx ON orders (event_id, status);
-- The expiry sweeper reads pending orders by deadline.
CREATE INDEX orders_pending_expiry_idx ON orders (expires_at) WHERE status = 'pending';
-- One pending order per buyer per event.
CREATE UNIQUE INDEX orders_one_pending_key ON orders (event_id, user_id) WHERE status = 'pending';

CREATE TABLE order_items (
  id            text PRIMARY KEY,
  order_id      text NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  event_id      text NOT NULL REFERENCES events (id),
  section_id    text NOT NULL REFERENCES sections (id),
  seat_id       text REFERENCES seats (id),
  quantity      integer NOT NULL DEFAULT 1 CHECK (quantity >= 1),
  -- Price of one place: the item's seat, or each of its GA places.
  price_amount  bigint NOT NULL CHECK (price_amount >= 0),
  -- True while the order is pending or paid; cleared in the same transaction that expires,
  -- cancels or refunds the order.
  active        boolean NOT NULL DEFAULT true,
  CHECK (seat_id IS NULL OR quantity = 1)
);
CREATE INDEX order_items_order_idx ON order_items (order_id);
-- THE wall against double sale: at most one pending-or-paid item per event and seat,
-- whatever Redis or the memory store believe.
CREATE UNIQUE INDEX order_items_one_active_seat_key ON order_items (event_id, seat_id)
  WHERE active AND seat_id IS NOT NULL;

CREATE TABLE payments (
  id               text PRIMARY KEY,
  order_id         text NOT NULL REFERENCES orders (id),
  gateway          text NOT NULL,
  gateway_ref      text,
  status           text NOT NULL CHECK (status IN ('processing', 'succeeded', 'declined', 'refunded')),
  amount           bigint NOT NULL CHECK (amount >= 0),
  currency         text NOT NULL,
  decline_reason   text,
  idempotency_key  text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (gateway, gateway_ref)
);
CREATE INDEX payments_order_idx ON payments (order_id);

-- Gateway webhook events already applied: each is applied once.
CREATE TABLE payment_events (
  gateway      text NOT NULL,
  event_id     text NOT NULL,
  type         text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (gateway, event_id)
);

CREATE TABLE tickets (
  id              text PRIMARY KEY,
  order_id        text NOT NULL REFERENCES orders (id),
  order_item_id   text NOT NULL REFERENCES order_items (id),
  event_id        text NOT NULL REFERENCES events (id),
  section_id      text NOT NULL REFERENCES sections (id),
  seat_id         text REFERENCES seats (id),
  status          text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'used', 'void')),
  code            text NOT NULL UNIQUE,
  issued_at       timestamptz NOT NULL DEFAULT now(),
  checked_in_at   timestamptz,
  checked_in_by   text REFERENCES users (id)
);
CREATE INDEX tickets_order_idx ON tickets (order_id);
-- At most one valid (or used) ticket per event and seat.
CREATE UNIQUE INDEX tickets_one_live_seat_key ON tickets (event_id, seat_id)
  WHERE status <> 'void' AND seat_id IS NOT NULL;

CREATE TABLE idempotency_keys (
  user_id       text NOT NULL REFERENCES users (id),
  scope         text NOT NULL,
  key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash  text NOT NULL,
  status_code   integer,
  response      jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, scope, key)
);

-- Transactional outbox: written in the same transaction as the change it announces.
CREATE TABLE outbox (
  id            bigserial PRIMARY KEY,
  topic         text NOT NULL,
  payload       jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- Small key/value facts the system keeps about itself (generated secrets, demo seeding done).
CREATE TABLE system_settings (
  key    text PRIMARY KEY,
  value  text NOT NULL
);
