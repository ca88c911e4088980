-- claim-place: one buyer's place as read-place gives it, with an admitted turn claimed first, as
-- claim-turn does (the buyer's own queue read is their showing up): one round trip for both.
-- A turn unclaimed past claimMs is expired instead; other marks are left as they are.
-- KEYS[1] meta hash   KEYS[2] numbers (user -> number)   KEYS[3] marks   KEYS[4] active zset
-- ARGV[1] user id     ARGV[2] now (ms)   ARGV[3] claimMs   ARGV[4] admissionMs
-- Returns {number (0 = in the pre-queue), mark ("" = waiting), serving} or -1 NOT_IN_QUEUE, -9 NOT_LOADED
if redis.call('HGET', KEYS[1], 'loaded') ~= '1' then
  return -9
end
local user = ARGV[1]
local number = redis.call('HGET', KEYS[2], user)
if not number then
  return -1
end
local mark = redis.call('HGET', KEYS[3], user) or ''
if string.sub(mark, 1, 1) == 'a' then
  local at = tonumber(string.sub(mark, 2))
  if tonumber(ARGV[2]) >= at + tonumber(ARGV[3]) then
    redis.call('HINCRBY', KEYS[1], 'no_shows', 1)
    mark = 'x'
    redis.call('ZREM', KEYS[4], user)
  else
    mark = 'c' .. string.sub(mark, 2)
    redis.call('ZADD', KEYS[4], at + tonumber(ARGV[4]), user)
  end
  redis.call('HSET', KEYS[3], user, mark)
end
return {tonumber(number), mark, tonumber(redis.call('HGET', KEYS[1], 'serving') or '0')}
