-- finish-turn: the buyer's order was paid or canceled; their active slot is freed.
-- KEYS[1] meta hash   KEYS[2] marks   KEYS[3] active zset
-- ARGV[1] user id
-- Returns 1 when the buyer was active, -1 NOT_ACTIVE, -9 NOT_LOADED
if redis.call('HGET', KEYS[1], 'loaded') ~= '1' then
  return -9
end
if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 then
  return -1
end
redis.call('HSET', KEYS[2], ARGV[1], 'f')
return 1
