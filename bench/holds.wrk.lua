-- wrk script for the hold benchmark (bench/holds.ts with BENCH_TOOL=wrk), one thread.
-- WRK_BUYERS: file of "<authorization>\t<admission token>" lines, one per admitted buyer.
-- WRK_SEATS: file of seat ids in seat-index order.   WRK_MODE: put | delete.
-- WRK_ROUND: the round to start at. Buyer u asks for seat u + round * buyers, so buyers never
-- collide and each PUT of a later round moves the buyer's hold (one seat freed, one taken).
local buyers, seats = {}, {}
for line in io.lines(os.getenv('WRK_BUYERS')) do
  local auth, admission = line:match('^([^\t]+)\t(.+)$')
  buyers[#buyers + 1] = { auth = auth, admission = admission }
end
for line in io.lines(os.getenv('WRK_SEATS')) do seats[#seats + 1] = line end
local mode = os.getenv('WRK_MODE')
local round = tonumber(os.getenv('WRK_ROUND'))
local i = 0
request = function()
  local u = i % #buyers
  if i > 0 and u == 0 then round = round + 1 end
  i = i + 1
  local b = buyers[u + 1]
  if mode == 'delete' then
    return wrk.format('DELETE', nil, { ['authorization'] = b.auth, ['x-admission-token'] = b.admission }, nil)
  end
  local seat = seats[((u + round * #buyers) % #seats) + 1]
  return wrk.format('PUT', nil, {
    ['authorization'] = b.auth,
    ['x-admission-token'] = b.admission,
    ['content-type'] = 'application/json',
  }, '{"seats":["' .. seat .. '"]}')
end

-- DELETE mode releases each buyer's hold once: the thread stops after one answer per buyer, so
-- every measured DELETE frees a real hold (a second round would release nothing).
if mode == 'delete' then
  local answered = 0
  response = function()
    answered = answered + 1
    if answered >= #buyers then wrk.thread:stop() end
  end
end
