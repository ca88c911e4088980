-- The organizer's dashboard counts the event's tickets used at the door once a second: a partial
-- index holds only used tickets, so the count reads nothing else and issuing tickets (status
-- 'valid') never writes to it; only a check-in does.
CREATE INDEX tickets_used_idx ON tickets (event_id) WHERE status = 'used';
