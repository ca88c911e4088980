-- shuffle-prequeue: numbers the pre-queue in a uniformly random order, exactly once per event.
-- Fisher-Yates driven by xorshift128 on the given seed: the same steps as shuffle.ts, so both
-- stores give the same order for the same seed. The 'shuffled' flag makes every later call a no-op.
-- KEYS[1] meta hash   KEYS[2] numbers (user -> number)   KEYS[3] byNumber (number -> user)   KEYS[4] pre-queue list
-- ARGV[1..4] the seed: four signed 32-bit integers, not all zero
-- Returns the number of buyers numbered, or -1 ALREADY_SHUFFLED, -9 NOT_LOADED.
if redis.call('HGET', KEYS[1], 'loaded') ~= '1' then
  return -9
end
if redis.call('HGET', KEYS[1], 'shuffled') == '1' then
  return -1
end
local users = redis.call('LRANGE', KEYS[4], 0, -1)
local x, y, z, w = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local bxor, lshift, rshift, floor = bit.bxor, bit.lshift, bit.rshift, math.floor

local function next32()
  local t = bxor(x, lshift(x, 11))
  x, y, z = y, z, w
  w = bxor(bxor(w, rshift(w, 19)), bxor(t, rshift(t, 8)))
  if w < 0 then
    return w + 4294967296
  end
  return w
end

for i = #users, 2, -1 do
  local hi = floor(next32() / 32)
  local lo = floor(next32() / 64)
  local j = floor((hi * 67108864 + lo) / 9007199254740992 * i) + 1
  users[i], users[j] = users[j], users[i]
end

local issued = tonumber(redis.call('HGET', KEYS[1], 'issued') or '0')
local numbers, byNumber = {}, {}
for i, user in ipairs(users) do
  local n = issued + i
  numbers[#numbers + 1] = user
  numbers[#numbers + 1] = n
  byNumber[#byNumber + 1] = n
  byNumber[#byNumber + 1] = user
  if #numbers >= 2000 then
    redis.call('HSET', KEYS[2], unpack(numbers))
    redis.call('HSET', KEYS[3], unpack(byNumber))
    numbers, byNumber = {}, {}
  end
end
if #numbers > 0 then
  redis.call('HSET', KEYS[2], unpack(numbers))
  redis.call('HSET', KEYS[3], unpack(byNumber))
end
redis.call('HSET', KEYS[1], 'issued', issued + #users, 'shuffled', 1)
redis.call('DEL', KEYS[4])
return #users
