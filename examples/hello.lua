-- The README's first example: two tasks sleep concurrently, so this takes
-- about 0.2 s, not 0.3 s; results come back in argument order.
local corral = require "corral"

local function fetch(name, seconds)
  corral.sleep(seconds)                 -- suspends this task only
  print("fetched " .. name)
  return #name
end

corral.run(function()
  local r = corral.gather(corral.spawn(fetch, "slow", 0.2), corral.spawn(fetch, "quick", 0.1))
  print(r.n, r[1], r[2])
end)
