-- leave-queue: the buyer leaves for good. A waiting buyer's number is passed over later; an
-- admitted buyer's slot is freed now (and their admission token stops working, since every
-- use of it checks the mark). Final marks (expired, finished, left) stay as they are.
-- KEYS[1] numbers (user -> number)   KEYS[2] marks   KEYS[3] active zset
-- ARGV[1] user id
-- Returns 1 when the buyer has a place, -1 NOT_IN_QUEUE
local user = ARGV[1]
if redis.call('HEXISTS', KEYS[1], user) == 0 then
  return -1
end
local kind = string.sub(redis.call('HGET', KEYS[2], user) or '', 1, 1)
if kind == '' or kind == 'a' or kind == 'c' then
  redis.call('HSET', KEYS[2], user, 'l')
  redis.call('ZREM', KEYS[3], user)
end
return 1
