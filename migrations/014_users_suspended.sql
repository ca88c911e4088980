-- An account an admin suspended (a bot, a fraudulent buyer): it cannot sign in, and its sessions
-- were ended when it was suspended. Null for every account in good standing.
ALTER TABLE users ADD COLUMN suspended_at timestamptz;
