-- release-seats: frees the seats and GA places of an expired or canceled order.
-- KEYS[1] meta   KEYS[2] bits   KEYS[3] ga
-- ARGV[1] seats "i,j,k" ("" for none)   ARGV[2] GA "section=qty,..." ("" for none)   ARGV[3] channel
-- Returns {1, version} · {-1} not loaded
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local function off(i) return i - i % 8 + 7 - i % 8 end
local freed, gaOut = {}, {}
for i in string.gmatch(ARGV[1], '%d+') do
  i = tonumber(i)
  if redis.call('SETBIT', KEYS[2], off(i), 0) == 1 then freed[#freed + 1] = i end
end
for sec, q in string.gmatch(ARGV[2], '([^,=]+)=(%d+)') do
  local cap = tonumber(redis.call('HGET', KEYS[1], 'cap:' .. sec) or '0')
  local n = math.min(tonumber(redis.call('HGET', KEYS[3], sec) or '0') + tonumber(q), cap)
  redis.call('HSET', KEYS[3], sec, n)
  gaOut[#gaOut + 1] = sec .. '=' .. n
end
if #freed == 0 and #gaOut == 0 then return {1, tonumber(redis.call('HGET', KEYS[1], 'v'))} end
local version = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PUBLISH', ARGV[3], version .. '||' .. table.concat(freed, ',') .. '|' .. table.concat(gaOut, ','))
return {1, version}
