-- Who canceled or refunded an order: its buyer (a pending order), or the event's organizer or an
-- admin. Null while the order is open, and when it expired or the system closed it.
ALTER TABLE orders ADD COLUMN closed_by text REFERENCES users (id);
