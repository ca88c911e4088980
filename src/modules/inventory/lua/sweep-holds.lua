-- sweep-holds: releases holds whose expiry has passed, at most ARGV[2] per call.
-- KEYS[1] meta   KEYS[2] bits   KEYS[3] ga   KEYS[4] holds   KEYS[5] exp
-- ARGV[1] now (ms)   ARGV[2] limit   ARGV[3] channel
-- Returns {released, holds left} · {-1} not loaded
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local function off(i) return i - i % 8 + 7 - i % 8 end
local due = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local freed, gaNew = {}, {}
for _, user in ipairs(due) do
  local rec = redis.call('HGET', KEYS[4], user)
  if rec then
    local _, s, g = string.match(rec, '^(%d+)|([^|]*)|(.*)$')
    for i in string.gmatch(s, '%d+') do
      i = tonumber(i)
      if redis.call('SETBIT', KEYS[2], off(i), 0) == 1 then freed[#freed + 1] = i end
    end
    for sec, q in string.gmatch(g, '([^,=]+)=(%d+)') do
      local cap = tonumber(redis.call('HGET', KEYS[1], 'cap:' .. sec) or '0')
      local n = math.min(tonumber(redis.call('HGET', KEYS[3], sec) or '0') + tonumber(q), cap)
      redis.call('HSET', KEYS[3], sec, n)
      gaNew[sec] = n
    end
    redis.call('HDEL', KEYS[4], user)
  end
  redis.call('ZREM', KEYS[5], user)
end
local gaOut = {}
for sec, n in pairs(gaNew) do gaOut[#gaOut + 1] = sec .. '=' .. n end
if #freed > 0 or #gaOut > 0 then
  local version = redis.call('HINCRBY', KEYS[1], 'v', 1)
  redis.call('PUBLISH', ARGV[3], version .. '||' .. table.concat(freed, ',') .. '|' .. table.concat(gaOut, ','))
end
return {#due, redis.call('ZCARD', KEYS[5])}
