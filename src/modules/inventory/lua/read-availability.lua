-- read-availability: the bitmap, GA counts and version of an event, read at one instant.
-- KEYS[1] meta   KEYS[2] bits   KEYS[3] ga
-- Returns {version, seat count, bitmap bytes, section, remaining, ...} · {-1} not loaded
local meta = redis.call('HMGET', KEYS[1], 'v', 'seats')
if not meta[1] then return {-1} end
local out = {tonumber(meta[1]), tonumber(meta[2]), redis.call('GET', KEYS[2]) or ''}
local ga = redis.call('HGETALL', KEYS[3])
for n = 1, #ga do out[#out + 1] = ga[n] end
return out
