-- The waiting room's pre-queue (buyers who joined in the preQueueMinutes before the sale opened, in
-- arrival order), copied as ranges by the admission ticker as the numbered places are: one row per
-- copy holds the buyers who joined since the last one, from first_seq (0-based) on. A queue rebuilt
-- before its shuffle (waiting-room.rebuild.ts) gets its pre-queue back, so a Redis flush or a
-- restart before the sale opens does not turn the shuffle into a race of whoever rejoins first.
-- Once the shuffle has numbered them, queue_place_ranges holds these buyers and this is not read.
CREATE TABLE queue_prequeue_ranges (
  event_id   text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  first_seq  integer NOT NULL CHECK (first_seq >= 0),
  user_ids   text[] NOT NULL,
  PRIMARY KEY (event_id, first_seq)
);
