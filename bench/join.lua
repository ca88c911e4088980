-- wrk script for the join benchmark: every request is a different buyer.
-- WRK_TOKENS names a file of "Bearer <session token>" lines, minted before the run.
local tokens = {}
for line in io.lines(os.getenv('WRK_TOKENS')) do
  tokens[#tokens + 1] = line
end
local i = 0
request = function()
  i = i + 1
  return wrk.format('POST', nil, { ['authorization'] = tokens[(i % #tokens) + 1] }, nil)
end
