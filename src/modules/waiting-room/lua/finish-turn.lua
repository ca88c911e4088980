-- finish-turn: the buyer's order was paid or canceled; their active slot is freed.
-- KEYS[1] marks   KEYS[2] active zset
-- ARGV[1] user id
-- Returns 1 when the buyer was active, -1 NOT_ACTIVE
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], 'f')
return 1
