-- load-queue: gives the store an event's queue from the database's snapshot (waiting-room.rebuild.ts),
-- unless it holds the queue already: a first touch of a new event (an empty snapshot), or the queue
-- lost in a Redis restart or flush. Every other queue script answers NOT_LOADED until this ran.
-- The snapshot's places, marks, logs and pre-queue were written by this loader, in chunks, to its
-- own staged keys (keys.ts stagedQueueKeys); here they are renamed into place in one atomic step,
-- or dropped when another loader was first. A queue found here without the 'loaded' mark (live
-- state from an earlier version) is kept as it is.
-- KEYS[1] meta hash   KEYS[2] numbers   KEYS[3] byNumber   KEYS[4] marks   KEYS[5] pre-queue list
-- KEYS[6] active zset   KEYS[7] admission log   KEYS[8] leave log
-- KEYS[9..15] the staged numbers, byNumber, marks, pre-queue, active, admission log, leave log
-- ARGV[1] issued   ARGV[2] serving   ARGV[3] shuffled "1"|"0"   ARGV[4] admitted (log length)
-- Returns 1 when it loaded the snapshot, 0 when the store held the queue.
local staged = { KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14], KEYS[15] }
local live = { KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8] }
if redis.call('HGET', KEYS[1], 'loaded') == '1' then
  redis.call('DEL', unpack(staged))
  return 0
end
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[5]) > 0 then
  redis.call('HSET', KEYS[1], 'loaded', 1)
  redis.call('DEL', unpack(staged))
  return 0
end
redis.call('DEL', unpack(live))
for i = 1, #staged do
  if redis.call('EXISTS', staged[i]) == 1 then
    redis.call('RENAME', staged[i], live[i])
    redis.call('PERSIST', live[i])
  end
end
redis.call('HSET', KEYS[1], 'loaded', 1, 'issued', ARGV[1], 'serving', ARGV[2], 'shuffled', ARGV[3], 'admitted', ARGV[4])
return 1
