-- renew-lease: takes the ticker lease of an event, or renews it when the caller holds it.
-- KEYS[1] lease key
-- ARGV[1] owner id   ARGV[2] ttl (ms)
-- Returns 1 when the caller holds the lease, -1 HELD_BY_ANOTHER
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return -1
