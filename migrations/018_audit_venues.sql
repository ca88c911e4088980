-- What organizers did to venues, beside what was done to accounts and events: a venue created or
-- renamed, who did it and when ("who renamed the hall on the tickets' event pages?"). A line about a
-- venue names it here; venues belong to no event, so event_id cannot carry it.
ALTER TABLE audit_log ADD COLUMN venue_id text REFERENCES venues (id);
CREATE INDEX audit_log_venue_idx ON audit_log (venue_id, id) WHERE venue_id IS NOT NULL;
