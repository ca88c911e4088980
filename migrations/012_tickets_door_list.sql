-- The door's list: an event's tickets that no longer let anyone in (used or void), read by the
-- check-in page a change at a time so it can go on checking tickets while the venue's connection
-- is down. A ticket's change is when it was checked in, or voided (its order canceled or
-- refunded), the later of the two; the index holds only those tickets, in that order.
ALTER TABLE tickets ADD COLUMN voided_at timestamptz;
UPDATE tickets t SET voided_at = coalesce(o.closed_at, now())
  FROM orders o WHERE o.id = t.order_id AND t.status = 'void';
CREATE INDEX tickets_door_idx ON tickets (event_id, (coalesce(voided_at, checked_in_at)), id) WHERE status <> 'valid';
