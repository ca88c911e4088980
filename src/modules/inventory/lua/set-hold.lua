-- set-hold: makes one buyer's hold exactly the given seats and GA quantities, all or nothing.
-- Newly asked seats must be free; seats left out are released; the expiry is fixed when the
-- hold is first created (an expired, not yet swept hold counts as none). Empty sets release it.
-- KEYS[1] meta  (hash: seats, v, cap:<section>; missing = event not loaded)
-- KEYS[2] bits  (availability bitmap; seat i at offset (i - i%8) + 7 - i%8)
-- KEYS[3] ga    (hash: section -> remaining)
-- KEYS[4] holds (hash: user -> "expiresAt|i,j,k|section=qty,...")
-- KEYS[5] exp   (zset: user by expiresAt)
-- ARGV[1] user id   ARGV[2] now (ms)   ARGV[3] hold duration (ms)
-- ARGV[4] seats "i,j,k" (sorted, distinct; "" for none)   ARGV[5] GA "section=qty,..." ("" for none)
-- ARGV[6] channel for the delta
-- Returns {1, expiresAt, version} (expiresAt 0 when released)
--   {-1} not loaded · {-2, i, j, ...} seats not free · {-3, section, remaining} GA short · {-4, i} bad index
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local user, now = ARGV[1], tonumber(ARGV[2])
local function off(i) return i - i % 8 + 7 - i % 8 end

local prevExp, prevSeats, prevGa = 0, {}, {}
local rec = redis.call('HGET', KEYS[4], user)
if rec then
  local x, s, g = string.match(rec, '^(%d+)|([^|]*)|(.*)$')
  prevExp = tonumber(x)
  for i in string.gmatch(s, '%d+') do prevSeats[tonumber(i)] = true end
  for sec, q in string.gmatch(g, '([^,=]+)=(%d+)') do prevGa[sec] = tonumber(q) end
end

local seatCount = tonumber(redis.call('HGET', KEYS[1], 'seats'))
local wanted, asked, conflicts = {}, {}, {}
for i in string.gmatch(ARGV[4], '%d+') do
  i = tonumber(i)
  if i >= seatCount then return {-4, i} end
  wanted[i] = true
  asked[#asked + 1] = i
  if not prevSeats[i] and redis.call('GETBIT', KEYS[2], off(i)) == 1 then conflicts[#conflicts + 1] = i end
end
if #conflicts > 0 then
  table.insert(conflicts, 1, -2)
  return conflicts
end

local wantGa = {}
for sec, q in string.gmatch(ARGV[5], '([^,=]+)=(%d+)') do wantGa[sec] = tonumber(q) end
local sections = {}
for sec in pairs(wantGa) do sections[sec] = true end
for sec in pairs(prevGa) do sections[sec] = true end
for sec in pairs(sections) do
  local more = (wantGa[sec] or 0) - (prevGa[sec] or 0)
  if more > 0 then
    local remaining = tonumber(redis.call('HGET', KEYS[3], sec) or '-1')
    if remaining < more then return {-3, sec, math.max(remaining, 0)} end
  end
end

local taken, freed, gaOut = {}, {}, {}
for _, i in ipairs(asked) do
  if not prevSeats[i] then
    redis.call('SETBIT', KEYS[2], off(i), 1)
    taken[#taken + 1] = i
  end
end
for i in pairs(prevSeats) do
  if not wanted[i] then
    redis.call('SETBIT', KEYS[2], off(i), 0)
    freed[#freed + 1] = i
  end
end
for sec in pairs(sections) do
  local more = (wantGa[sec] or 0) - (prevGa[sec] or 0)
  if more ~= 0 then gaOut[#gaOut + 1] = sec .. '=' .. redis.call('HINCRBY', KEYS[3], sec, -more) end
end

local expiresAt = 0
if #asked == 0 and ARGV[5] == '' then
  redis.call('HDEL', KEYS[4], user)
  redis.call('ZREM', KEYS[5], user)
else
  expiresAt = prevExp
  if prevExp <= now then expiresAt = now + tonumber(ARGV[3]) end
  redis.call('HSET', KEYS[4], user, expiresAt .. '|' .. ARGV[4] .. '|' .. ARGV[5])
  redis.call('ZADD', KEYS[5], expiresAt, user)
end

local version
if #taken > 0 or #freed > 0 or #gaOut > 0 then
  version = redis.call('HINCRBY', KEYS[1], 'v', 1)
  redis.call('PUBLISH', ARGV[6], version .. '|' .. table.concat(taken, ',') .. '|' .. table.concat(freed, ',') .. '|' .. table.concat(gaOut, ','))
else
  version = tonumber(redis.call('HGET', KEYS[1], 'v'))
end
return {1, expiresAt, version}
