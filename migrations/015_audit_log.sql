-- What admins did to accounts, and what an account did to its own security, for whoever has to
-- answer "who gave this account that role" or "when was it suspended": written in the same
-- statement as the change itself, so there is no change without its line. actor_id is null for
-- changes made by the system (the admin bootstrap, demo data).
CREATE TABLE audit_log (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor_id   text REFERENCES users (id),
  action     text NOT NULL,
  target_id  text REFERENCES users (id),
  details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_target_idx ON audit_log (target_id, id);
