-- A task group: one child fails, the others are cancelled and clean up.
--
-- corral.group(body) is asyncio.TaskGroup: body spawns children with
-- g:spawn, and the group returns only once every child is done. The first
-- child to fail cancels the body and every other child; their <close>
-- variables run as the cancellation unwinds them. Then the group raises a
-- GroupError whose `errors` lists what failed (cancellations are not
-- errors).
--
-- Python original:
--
--   async def job(name, seconds, fail=False):
--       try:
--           await asyncio.sleep(seconds)
--           if fail:
--               raise RuntimeError(f'{name} failed')
--           return name
--       finally:
--           print(f'{name}: cleanup')
--
--   async with asyncio.TaskGroup() as g:   # raises ExceptionGroup
--       g.create_task(job('users', 3))
--       g.create_task(job('orders', 1, fail=True))
--       g.create_task(job('prices', 2))

local corral = require "corral"

local function log(fmt, ...)
  print(("%4.1f  " .. fmt):format(corral.now(), ...))
end

local function job(name, seconds, fail)
  -- Runs when the job ends, however it ends (return, error, cancellation).
  local _ <close> = setmetatable({}, {
    __close = function(_, err)
      log("%s: cleanup%s", name, err and (" (" .. tostring(err) .. ")") or "")
    end,
  })
  corral.sleep(seconds)
  if fail then error(name .. " failed", 0) end
  log("%s: done", name)
  return name
end

-- Spawns job(...) in group g as a task named after the job.
local function spawn_job(g, name, ...)
  local t = g:spawn(job, name, ...)
  t:set_name(name)
  return t
end

local function main()
  print("-- every child succeeds: the group returns the body's results")
  local users, prices
  local n = corral.group(function(g)
    users = spawn_job(g, "users", 1)
    prices = spawn_job(g, "prices", 0.5)
    return 2                          -- the body returns at once; the group waits
  end)
  log("group returned %d: %s, %s", n, users:result(), prices:result())

  print("-- one child fails: the others are cancelled")
  local tasks = {}
  local ok, err = pcall(corral.group, function(g)
    tasks[1] = spawn_job(g, "users", 3)
    tasks[2] = spawn_job(g, "orders", 1, true)
    tasks[3] = spawn_job(g, "prices", 2)
    local _ <close> = setmetatable({}, {
      __close = function(_, e) log("body: cleanup (%s)", tostring(e)) end,
    })
    corral.sleep(10)                  -- the body is cancelled too
    log("not reached")
  end)
  log("group raised %s", err.type)
  for i, e in ipairs(err.errors) do log("  errors[%d] = %s", i, tostring(e)) end
  for _, t in ipairs(tasks) do
    log("  task %s: %s", t:get_name(), t:cancelled() and "cancelled" or "failed")
  end
end

corral.run(main, { clock = "virtual" })
