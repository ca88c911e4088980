-- The waiting room's admission log: every admission in the order the hot-state store made it
-- (seq 0, 1, 2, …), copied here in batches by the admission ticker. It lets an audit compare
-- admission order with queue-number order after the run, whatever happened to Redis or memory.
CREATE TABLE queue_admissions (
  event_id     text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  seq          integer NOT NULL CHECK (seq >= 0),
  number       integer NOT NULL CHECK (number >= 1),
  user_id      text NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, seq)
);
