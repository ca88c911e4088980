-- Seats reach their venue through their section (whose foreign key stays, cascading deletes).
-- The direct seats → venues foreign key checked every seat a second time: half the cost of
-- inserting a 50,000-seat venue. seats.venue_id is written only with the section's own venue.
ALTER TABLE seats DROP CONSTRAINT seats_venue_id_fkey;
