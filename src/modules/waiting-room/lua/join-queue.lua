-- join-queue: gives a buyer a place in an event's queue, or returns the place they already have.
-- Before the shuffle a new buyer goes to the pre-queue (number 0); after it, the next number.
-- A new number is admitted at once when nobody waits ahead of it, the queue is not paused,
-- fewer than maxActive are active and the rate bucket holds a whole token (same arithmetic as rate.ts).
-- Such a turn is claimed at once too: the joiner is here, and the answer carries their token.
-- KEYS[1] meta hash   KEYS[2] numbers (user -> number)   KEYS[3] byNumber (number -> user)
-- KEYS[4] marks       KEYS[5] pre-queue list             KEYS[6] active zset
-- KEYS[7] admission log list (an admission at once appends its number)
-- ARGV[1] user id     ARGV[2] now (ms)   ARGV[3] phase: "pre" | "open"   ARGV[4] paused: "1" | "0"
-- ARGV[5] admitPerMinute   ARGV[6] maxActive   ARGV[7] admissionMs
-- Returns {created 1|0, number (0 = in the pre-queue), mark ("" = waiting), serving}
--   or -1 SHUFFLE_NEEDED: the sale is open but the pre-queue is not shuffled yet,
--   or -9 NOT_LOADED: the store does not hold this queue (load it from the database, then ask again).
if redis.call('HGET', KEYS[1], 'loaded') ~= '1' then
  return -9
end
local user = ARGV[1]
local existing = redis.call('HGET', KEYS[2], user)
if existing then
  local mark = redis.call('HGET', KEYS[4], user) or ''
  return {0, tonumber(existing), mark, tonumber(redis.call('HGET', KEYS[1], 'serving') or '0')}
end

local shuffled = redis.call('HGET', KEYS[1], 'shuffled') == '1'
if ARGV[3] == 'pre' and not shuffled then
  redis.call('HSET', KEYS[2], user, 0)
  redis.call('RPUSH', KEYS[5], user)
  return {1, 0, '', tonumber(redis.call('HGET', KEYS[1], 'serving') or '0')}
end
if not shuffled then
  return -1
end

local n = redis.call('HINCRBY', KEYS[1], 'issued', 1)
redis.call('HSET', KEYS[2], user, n)
redis.call('HSET', KEYS[3], n, user)
local serving = tonumber(redis.call('HGET', KEYS[1], 'serving') or '0')
local mark = ''
if ARGV[4] ~= '1' and serving == n - 1 and redis.call('ZCARD', KEYS[6]) < tonumber(ARGV[6]) then
  local now = tonumber(ARGV[2])
  local rate = tonumber(ARGV[5])
  local cap = rate / 60 + 1
  local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or cap)
  local at = tonumber(redis.call('HGET', KEYS[1], 'tokens_at') or now)
  if now > at then
    if rate > 0 then
      tokens = math.min(cap, tokens + (now - at) * rate / 60000)
    else
      tokens = math.min(tokens, cap)
    end
    at = now
  end
  if math.floor(tokens + 1e-9) >= 1 then
    tokens = tokens - 1
    serving = n
    mark = 'c' .. ARGV[2]
    redis.call('HSET', KEYS[1], 'serving', n)
    redis.call('HINCRBY', KEYS[1], 'admitted', 1)
    redis.call('HSET', KEYS[4], user, mark)
    redis.call('ZADD', KEYS[6], now + tonumber(ARGV[7]), user)
    redis.call('RPUSH', KEYS[7], n)
  end
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'tokens_at', string.format('%d', at))
end
return {1, n, mark, serving}
