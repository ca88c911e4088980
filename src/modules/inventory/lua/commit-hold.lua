-- commit-hold: turns a live hold into ordered state. The hold record and its expiry entry go;
-- its seats stay taken in the bitmap and its GA places stay counted, so no sweeper frees them.
-- KEYS[1] meta   KEYS[2] holds   KEYS[3] exp
-- ARGV[1] user id   ARGV[2] now (ms)
-- Returns {1, record} · {-1} not loaded · {-5} no hold · {-6} hold expired (left for the sweeper)
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local rec = redis.call('HGET', KEYS[2], ARGV[1])
if not rec then return {-5} end
local x = tonumber(string.match(rec, '^(%d+)|'))
if x <= tonumber(ARGV[2]) then return {-6} end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return {1, rec}
