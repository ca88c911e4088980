-- The built-in test payment gateway's own ledger. It stands in for an external payment
-- provider: it keeps its charges and its outgoing webhooks here, apart from our orders and
-- payments, and delivers every webhook until it is acknowledged — so a charge made just
-- before an API process dies still reaches us after the restart.

CREATE TABLE test_gateway_charges (
  id               text PRIMARY KEY,
  -- The gateway dedupes on the merchant's idempotency key: one charge however often it is asked.
  idempotency_key  text NOT NULL UNIQUE,
  order_id         text NOT NULL,
  amount           bigint NOT NULL CHECK (amount >= 0),
  currency         text NOT NULL,
  card_last4       text NOT NULL,
  status           text NOT NULL CHECK (status IN ('processing', 'succeeded', 'declined', 'refunded')),
  decline_reason   text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE test_gateway_webhooks (
  id             text PRIMARY KEY,
  charge_id      text NOT NULL REFERENCES test_gateway_charges (id),
  type           text NOT NULL,
  -- For the asynchronous card: the charge turns from processing to succeeded when this is sent.
  settles        boolean NOT NULL DEFAULT false,
  body           text NOT NULL,
  deliver_after  timestamptz NOT NULL,
  delivered_at   timestamptz,
  attempts       integer NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX test_gateway_webhooks_due_idx ON test_gateway_webhooks (deliver_after) WHERE delivered_at IS NULL;

-- Our side: each payment knows the idempotency key it was charged under, so a webhook for a
-- charge whose reply never reached us (the process died) still finds its payment.
CREATE UNIQUE INDEX payments_gateway_key_idx ON payments (gateway, idempotency_key);

-- The outbox relay leases rows while it publishes them, so several relays never publish the
-- same row at the same moment, and a relay that dies mid-way leaves its rows to the next.
ALTER TABLE outbox ADD COLUMN claimed_until timestamptz;
ALTER TABLE outbox ADD COLUMN attempts integer NOT NULL DEFAULT 0;
