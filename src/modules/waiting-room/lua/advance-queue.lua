-- advance-queue: one ticker step for an event. First expires admissions whose deadline has
-- passed (an unclaimed turn is a no-show; a claimed one ran out of time), freeing their slots.
-- Then, once the pre-queue is shuffled, admits the next numbers in order as the rate bucket
-- (same arithmetic as rate.ts) and maxActive allow. Buyers who left while waiting are passed
-- over without using a turn, at most ARGV[6] of them per step.
-- Every admission's number is appended to the admission log (KEYS[5]) in admission order.
-- KEYS[1] meta hash   KEYS[2] byNumber (number -> user)   KEYS[3] marks   KEYS[4] active zset
-- KEYS[5] admission log list
-- ARGV[1] now (ms)    ARGV[2] paused "1"|"0"   ARGV[3] admitPerMinute   ARGV[4] maxActive
-- ARGV[5] claimMs     ARGV[6] skip limit
-- Returns {admitted, expired, serving}, or -9 NOT_LOADED (load the queue from the database first)
if redis.call('HGET', KEYS[1], 'loaded') ~= '1' then
  return -9
end
local now = tonumber(ARGV[1])
local expired = 0
local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 5000)
for _, user in ipairs(due) do
  local mark = redis.call('HGET', KEYS[3], user) or ''
  if string.sub(mark, 1, 1) == 'a' then
    redis.call('HINCRBY', KEYS[1], 'no_shows', 1)
  else
    redis.call('HINCRBY', KEYS[1], 'timed_out', 1)
  end
  redis.call('HSET', KEYS[3], user, 'x')
  redis.call('ZREM', KEYS[4], user)
  expired = expired + 1
end

local serving = tonumber(redis.call('HGET', KEYS[1], 'serving') or '0')
if redis.call('HGET', KEYS[1], 'shuffled') ~= '1' then
  return {0, expired, serving}
end

local rate = tonumber(ARGV[3])
local paused = ARGV[2] == '1'
local cap = rate / 60 + 1
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or cap)
local at = tonumber(redis.call('HGET', KEYS[1], 'tokens_at') or now)
if now > at then
  if paused or rate <= 0 then
    tokens = math.min(tokens, cap)
  else
    tokens = math.min(cap, tokens + (now - at) * rate / 60000)
  end
  at = now
end

local issued = tonumber(redis.call('HGET', KEYS[1], 'issued') or '0')
local budget = paused and 0 or math.min(math.floor(tokens + 1e-9), tonumber(ARGV[4]) - redis.call('ZCARD', KEYS[4]), issued - serving)
local admitted = 0
local skipped = 0
local skipLimit = tonumber(ARGV[6])
local deadline = now + tonumber(ARGV[5])
local mark = 'a' .. ARGV[1]
while budget > 0 and serving < issued and skipped < skipLimit do
  serving = serving + 1
  local user = redis.call('HGET', KEYS[2], serving)
  -- A number the database lost with the store (no user) is passed over like one who left.
  if not user or redis.call('HEXISTS', KEYS[3], user) == 1 then
    skipped = skipped + 1
  else
    redis.call('HSET', KEYS[3], user, mark)
    redis.call('ZADD', KEYS[4], deadline, user)
    redis.call('RPUSH', KEYS[5], serving)
    admitted = admitted + 1
    budget = budget - 1
    tokens = tokens - 1
  end
end
redis.call('HSET', KEYS[1], 'serving', serving, 'tokens', string.format('%.17g', tokens), 'tokens_at', string.format('%d', at))
if admitted > 0 then
  redis.call('HINCRBY', KEYS[1], 'admitted', admitted)
end
return {admitted, expired, serving}
