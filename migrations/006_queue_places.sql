-- The waiting room's numbered places (number -> buyer), copied from the hot-state store in batches
-- by the admission ticker, as queue_admissions is. With the admission log and the orders they let a
-- store that lost an event's queue (a Redis restart or flush, a restart of the embedded process) be
-- given it back: buyers keep their numbers, the serving counter and the active buyers are restored.
-- Places are numbered after the shuffle; a pre-queue (no numbers yet) is not copied.
CREATE TABLE queue_places (
  event_id  text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  number    integer NOT NULL CHECK (number >= 1),
  user_id   text NOT NULL,
  PRIMARY KEY (event_id, number),
  UNIQUE (event_id, user_id)
);
