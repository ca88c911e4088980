-- What organizers did to an event's sale, beside what admins did to accounts: the queue paused or
-- resumed, its admission rate or cap changed, the event's details changed — who did it and when,
-- for the rest of the organizer's team and for admins ("who paused the queue at 20:01?"). A line
-- about an event names it here; a line about an account names it in target_id.
ALTER TABLE audit_log ADD COLUMN event_id text REFERENCES events (id);
CREATE INDEX audit_log_event_idx ON audit_log (event_id, id) WHERE event_id IS NOT NULL;
