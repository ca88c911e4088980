-- read-place: one buyer's place, read consistently with the serving counter.
-- KEYS[1] meta hash   KEYS[2] numbers (user -> number)   KEYS[3] marks
-- ARGV[1] user id
-- Returns {number (0 = in the pre-queue), mark ("" = waiting), serving} or -1 NOT_IN_QUEUE, -9 NOT_LOADED
if redis.call('HGET', KEYS[1], 'loaded') ~= '1' then
  return -9
end
local number = redis.call('HGET', KEYS[2], ARGV[1])
if not number then
  return -1
end
return {tonumber(number), redis.call('HGET', KEYS[3], ARGV[1]) or '', tonumber(redis.call('HGET', KEYS[1], 'serving') or '0')}
