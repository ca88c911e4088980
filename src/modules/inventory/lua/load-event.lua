-- load-event: builds an event's availability from a database seed.
-- 'missing' loads only when the meta key is absent (HSETNX is the guard, so two processes
-- loading at once load once); 'replace' rebuilds the bitmap and GA counts as seed ∪ live holds.
-- KEYS[1] meta   KEYS[2] bits   KEYS[3] ga   KEYS[4] holds
-- ARGV[1] mode   ARGV[2] seat count   ARGV[3] taken "i,j,k"
-- ARGV[4] GA "section=capacity=remaining,..."   ARGV[5] channel
-- Returns 1 loaded · 0 already loaded
if ARGV[1] == 'missing' then
  if redis.call('HSETNX', KEYS[1], 'seats', ARGV[2]) == 0 then return 0 end
  redis.call('HSET', KEYS[1], 'v', 1)
else
  redis.call('HSET', KEYS[1], 'seats', ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'v', 1)
end
local function off(i) return i - i % 8 + 7 - i % 8 end
local seatCount = tonumber(ARGV[2])
redis.call('DEL', KEYS[2], KEYS[3])
-- Size the bitmap to every seat, so a read returns ceil(seatCount / 8) bytes.
if seatCount > 0 then redis.call('SETBIT', KEYS[2], (seatCount - 1) - (seatCount - 1) % 8, 0) end
for i in string.gmatch(ARGV[3], '%d+') do
  i = tonumber(i)
  if i < seatCount then redis.call('SETBIT', KEYS[2], off(i), 1) end
end
for sec, cap, rem in string.gmatch(ARGV[4], '([^,=]+)=(%d+)=(%d+)') do
  redis.call('HSET', KEYS[1], 'cap:' .. sec, cap)
  redis.call('HSET', KEYS[3], sec, rem)
end
-- Live holds keep their seats and places (replace mode; after a flush there are none).
local holds = redis.call('HGETALL', KEYS[4])
for n = 2, #holds, 2 do
  local _, s, g = string.match(holds[n], '^(%d+)|([^|]*)|(.*)$')
  for i in string.gmatch(s, '%d+') do redis.call('SETBIT', KEYS[2], off(tonumber(i)), 1) end
  for sec, q in string.gmatch(g, '([^,=]+)=(%d+)') do
    local left = tonumber(redis.call('HGET', KEYS[3], sec) or '0') - tonumber(q)
    redis.call('HSET', KEYS[3], sec, math.max(left, 0))
  end
end
redis.call('PUBLISH', ARGV[5], 'reset')
return 1
