-- read-counters: an event's queue counters in one consistent read.
-- KEYS[1] meta hash   KEYS[2] numbers   KEYS[3] pre-queue list   KEYS[4] active zset
-- Returns {joined, issued, serving, preQueued, shuffled, active, admitted, noShows, timedOut}, or -9 NOT_LOADED
if redis.call('HGET', KEYS[1], 'loaded') ~= '1' then
  return -9
end
local m = redis.call('HMGET', KEYS[1], 'issued', 'serving', 'shuffled', 'admitted', 'no_shows', 'timed_out')
return {
  redis.call('HLEN', KEYS[2]),
  tonumber(m[1] or '0'),
  tonumber(m[2] or '0'),
  redis.call('LLEN', KEYS[3]),
  tonumber(m[3] or '0'),
  redis.call('ZCARD', KEYS[4]),
  tonumber(m[4] or '0'),
  tonumber(m[5] or '0'),
  tonumber(m[6] or '0'),
}
