-- The waiting room's leave log: every buyer who left an event's queue (DELETE .../queue), in the
-- order the hot-state store took the leaves (seq 0, 1, 2, …), copied in batches by the admission
-- ticker as the admission log is. A leave is for good, so a queue rebuilt from the database
-- (waiting-room.rebuild.ts) passes over a buyer who left while waiting, instead of admitting them
-- later as a no-show, and does not count one who left after admission as active.
CREATE TABLE queue_leaves (
  event_id     text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  seq          integer NOT NULL CHECK (seq >= 0),
  user_id      text NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, seq)
);
