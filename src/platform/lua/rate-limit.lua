-- rate-limit: counts one request in a fixed window shared by every API process.
-- KEYS[1] the counter   ARGV[1] window (ms)
-- Returns {requests in this window so far, ms until the window ends}
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
