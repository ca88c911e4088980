-- Seat coordinates as double precision: a coordinate sent as JSON comes back exactly as sent,
-- so the seat map bytes (and their strong ETag) are the same whichever process built them.
ALTER TABLE seats ALTER COLUMN x TYPE double precision, ALTER COLUMN y TYPE double precision;
