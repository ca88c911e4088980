-- What the browser or client that signed in said it was (its User-Agent, cut to 200 characters),
-- so a user's list of signed-in devices can tell them apart. Null when it said nothing.
ALTER TABLE sessions ADD COLUMN device text;
