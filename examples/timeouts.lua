-- Deadlines three ways: wait_for, timeout and shield.
--
--   corral.wait_for(task, s)  awaits a task for at most s seconds; on expiry
--                             the task is cancelled and TimeoutError raised.
--   corral.timeout(s, fn)     runs fn in the current task with a deadline
--                             that covers every suspension inside it.
--   corral.shield(task)       awaits a task but keeps it from being
--                             cancelled with the caller: here the deadline
--                             stops the waiting, not the work.
--
-- Python: asyncio.wait_for(t, 1), `async with asyncio.timeout(2): ...`,
-- asyncio.wait_for(asyncio.shield(t), 1). The virtual clock makes the
-- times exact and the run instant.

local corral = require "corral"

local function log(fmt, ...)
  print(("%5.2f  " .. fmt):format(corral.now(), ...))
end

-- Pretends to fetch something for `seconds`; says when it is cancelled.
local function fetch(name, seconds)
  local ok, err = pcall(corral.sleep, seconds)
  if not ok then
    log("%s: interrupted by %s", name, tostring(err))
    error(err, 0)                     -- let the cancellation go on
  end
  log("%s: done", name)
  return name .. " result"
end

local function main()
  print("-- wait_for: in time, then too late")
  log("got %s", corral.wait_for(corral.spawn(fetch, "quick download", 0.5), 1))
  local slow = corral.spawn(fetch, "slow download", 5)
  local ok, err = pcall(corral.wait_for, slow, 1)
  log("wait_for raised %s; the task is cancelled: %s", tostring(err), tostring(slow:cancelled()))

  print("-- timeout: one deadline over several steps of this task")
  ok, err = pcall(corral.timeout, 2, function()
    fetch("step 1", 1)
    fetch("step 2", 1.5)              -- the deadline hits in here
    fetch("step 3", 1)                -- never starts
  end)
  log("timeout raised %s", tostring(err))

  print("-- shield: the caller stops waiting, the work goes on")
  local save = corral.spawn(fetch, "save to disk", 2)
  ok, err = pcall(corral.wait_for, function() return corral.shield(save) end, 1)
  log("wait_for raised %s; the save is cancelled: %s", tostring(err), tostring(save:cancelled()))
  log("got %s", save:await())
end

corral.run(main, { clock = "virtual" })
