-- load-queue: gives the store an event's queue from the database's snapshot (waiting-room.rebuild.ts),
-- unless it holds the queue already: a first touch of a new event (an empty snapshot), or the queue
-- lost in a Redis restart or flush. Every other queue script answers NOT_LOADED until this ran.
-- A queue found here without the 'loaded' mark (live state from an earlier version) is kept as it is.
-- KEYS[1] meta hash   KEYS[2] numbers (user -> number)   KEYS[3] byNumber (number -> user)
-- KEYS[4] marks       KEYS[5] pre-queue list             KEYS[6] active zset   KEYS[7] admission log
-- KEYS[8] leave log
-- ARGV[1] issued   ARGV[2] serving   ARGV[3] shuffled "1"|"0"
-- ARGV[4] places P   ARGV[5] log entries L   ARGV[6] marks M   ARGV[7] active A   ARGV[8] leaves V
-- ARGV[9] pre-queue Q
-- then P pairs (number, user), L numbers, M pairs (user, mark), A pairs (deadline, user), V users,
-- Q users (in arrival order)
-- Returns 1 when it loaded the snapshot, 0 when the store held the queue.
if redis.call('HGET', KEYS[1], 'loaded') == '1' then
  return 0
end
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[5]) > 0 then
  redis.call('HSET', KEYS[1], 'loaded', 1)
  return 0
end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[6], KEYS[7], KEYS[8])

local places, logs, marks, active = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local leaves, pre = tonumber(ARGV[8]), tonumber(ARGV[9])
local i = 10
local function batch(count, width, write)
  local done = 0
  while done < count do
    local n = math.min(1000, count - done)
    local args = {}
    for j = 0, n * width - 1 do
      args[#args + 1] = ARGV[i + j]
    end
    write(args, n)
    i = i + n * width
    done = done + n
  end
end

batch(places, 2, function(args, n)
  local numbers = {}
  for j = 1, n * 2, 2 do
    numbers[#numbers + 1] = args[j + 1]
    numbers[#numbers + 1] = args[j]
  end
  redis.call('HSET', KEYS[3], unpack(args))
  redis.call('HSET', KEYS[2], unpack(numbers))
end)
batch(logs, 1, function(args)
  redis.call('RPUSH', KEYS[7], unpack(args))
end)
batch(marks, 2, function(args)
  redis.call('HSET', KEYS[4], unpack(args))
end)
batch(active, 2, function(args)
  redis.call('ZADD', KEYS[6], unpack(args))
end)
batch(leaves, 1, function(args)
  redis.call('RPUSH', KEYS[8], unpack(args))
end)
batch(pre, 1, function(args)
  local numbers = {}
  for _, user in ipairs(args) do
    numbers[#numbers + 1] = user
    numbers[#numbers + 1] = 0
  end
  redis.call('RPUSH', KEYS[5], unpack(args))
  redis.call('HSET', KEYS[2], unpack(numbers))
end)
redis.call('HSET', KEYS[1], 'loaded', 1, 'issued', ARGV[1], 'serving', ARGV[2], 'shuffled', ARGV[3], 'admitted', logs)
return 1
