-- leave-queue: the buyer leaves for good. A waiting buyer's number is passed over later; an
-- admitted buyer's slot is freed now (and their admission token stops working, since every
-- use of it checks the mark), and the buyer goes on the leave log (which the ticker copies to the
-- database). Final marks (expired, finished, left) stay as they are.
-- KEYS[1] meta hash   KEYS[2] numbers (user -> number)   KEYS[3] marks   KEYS[4] active zset
-- KEYS[5] leave log
-- ARGV[1] user id
-- Returns 1 when the buyer has a place, -1 NOT_IN_QUEUE, -9 NOT_LOADED
if redis.call('HGET', KEYS[1], 'loaded') ~= '1' then
  return -9
end
local user = ARGV[1]
if redis.call('HEXISTS', KEYS[2], user) == 0 then
  return -1
end
local kind = string.sub(redis.call('HGET', KEYS[3], user) or '', 1, 1)
if kind == '' or kind == 'a' or kind == 'c' then
  redis.call('HSET', KEYS[3], user, 'l')
  redis.call('ZREM', KEYS[4], user)
  redis.call('RPUSH', KEYS[5], user)
end
return 1
