-- wrk script for the join benchmark: every request is a different buyer.
-- WRK_TOKENS names a file of "Bearer <session token>" lines, minted before the run.
-- WRK_DELAY_MS (optional): each connection waits this long after an answer before its next join,
-- so the offered rate is about connections * 1000 / WRK_DELAY_MS a second (a paced run).
local tokens = {}
for line in io.lines(os.getenv('WRK_TOKENS')) do
  tokens[#tokens + 1] = line
end
local i = 0
request = function()
  i = i + 1
  return wrk.format('POST', nil, { ['authorization'] = tokens[(i % #tokens) + 1] }, nil)
end
local pause = tonumber(os.getenv('WRK_DELAY_MS') or '0')
if pause > 0 then
  delay = function()
    return pause
  end
end
