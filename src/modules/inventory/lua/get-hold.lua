-- get-hold: reads one buyer's hold record, telling "no hold" apart from "event not loaded".
-- KEYS[1] meta   KEYS[2] holds
-- ARGV[1] user id
-- Returns {1, record} · {0} no hold · {-1} not loaded
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local rec = redis.call('HGET', KEYS[2], ARGV[1])
if not rec then return {0} end
return {1, rec}
