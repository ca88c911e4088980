-- list-holds: every hold record of an event (admin stats, tests).
-- KEYS[1] meta   KEYS[2] holds
-- Returns {1, user, record, user, record, ...} · {-1} not loaded
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local all = redis.call('HGETALL', KEYS[2])
table.insert(all, 1, 1)
return all
