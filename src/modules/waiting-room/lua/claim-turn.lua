-- claim-turn: an admitted buyer takes their turn (first queue read, hold or order). An unclaimed
-- turn past claimMs, or a claimed one past admissionMs, is expired here and now (the ticker
-- would do the same on its next step), freeing the slot.
-- KEYS[1] meta hash   KEYS[2] marks   KEYS[3] active zset
-- ARGV[1] user id     ARGV[2] now (ms)   ARGV[3] claimMs   ARGV[4] admissionMs
-- Returns 1 OK, -1 NOT_ADMITTED, -2 EXPIRED, -9 NOT_LOADED
if redis.call('HGET', KEYS[1], 'loaded') ~= '1' then
  return -9
end
local user = ARGV[1]
local now = tonumber(ARGV[2])
local mark = redis.call('HGET', KEYS[2], user) or ''
local kind = string.sub(mark, 1, 1)
if kind == 'a' or kind == 'c' then
  local at = tonumber(string.sub(mark, 2))
  local limit = tonumber(kind == 'a' and ARGV[3] or ARGV[4])
  if now >= at + limit then
    redis.call('HINCRBY', KEYS[1], kind == 'a' and 'no_shows' or 'timed_out', 1)
    redis.call('HSET', KEYS[2], user, 'x')
    redis.call('ZREM', KEYS[3], user)
    return -2
  end
  if kind == 'a' then
    redis.call('HSET', KEYS[2], user, 'c' .. string.sub(mark, 2))
    redis.call('ZADD', KEYS[3], at + tonumber(ARGV[4]), user)
  end
  return 1
end
if kind == 'x' then
  return -2
end
return -1
