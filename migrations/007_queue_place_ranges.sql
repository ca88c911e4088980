-- The waiting room's numbered places, copied as ranges instead of a row per place (006): one row
-- per copy holds the buyers of consecutive numbers from first_number on ('' for a number the store
-- no longer knew). A row per place cost the embedded process a PGlite insert of every joiner in its
-- own event loop (about a third of the joins it could take); a range is one row a ticker step.
-- Ranges may overlap after a copy is retried; a number always names the same buyer, so reading them
-- back in order is exact. Nothing read queue_places yet outside a rebuild, so it is dropped.
DROP TABLE queue_places;
CREATE TABLE queue_place_ranges (
  event_id      text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  first_number  integer NOT NULL CHECK (first_number >= 1),
  user_ids      text[] NOT NULL,
  PRIMARY KEY (event_id, first_number)
);
