-- When the holder was let in, as the door said, for a check-in the door made without a connection
-- and sent once it was back (null for a check-in made live). `checked_in_at` stays the server's
-- own time of the check-in: the door's list reads changes in that order, so a check-in sent late
-- still comes after what a door read before it, however long ago it was made.
ALTER TABLE tickets ADD COLUMN scanned_at timestamptz;
