-- Regressions: each spec is named after a bug that was found and fixed,
-- and starts with a sentence on what went wrong.

local corral = require "corral"
local support = require "support"
local vrun, error_of = support.vrun, support.error_of

describe("regression", function()
  it("gather with a bad item after a task no longer crashes the loop", function()
    -- The outer future was linked to the first child before the bad item
    -- raised; when the child finished, its link ran on a half-built gather.
    local r = vrun(function()
      local t = corral.spawn(function() return "t" end)
      local err = error_of(corral.gather, t, 2)
      corral.sleep(0)
      return { tostring(err), t:await() }
    end)
    assert.is_truthy(r[1]:find("bad argument #2 to 'gather'", 1, true)
      or r[1]:find("bad argument #2 to 'corral.gather'", 1, true), r[1])
    assert.are.equal("t", r[2])
  end)

  it("gather with a bad list item spawns none of the functions before it", function()
    -- Functions before the bad item used to be spawned and left running.
    local ran = false
    local err = vrun(function()
      local e = error_of(corral.gather, { function() ran = true end, 42 })
      corral.sleep(0)
      corral.sleep(0)
      return e
    end)
    assert.is_truthy(tostring(err):find("item #2", 1, true), tostring(err))
    assert.is_false(ran)
  end)

  it("a suspension swallowed by a foreign resume raises a clear error instead of aborting", function()
    -- A coroutine resumed by the original coroutine.resume (saved before
    -- corral was loaded) swallowed corral's suspension; the next blocking
    -- call then hit an assertion and the process aborted.
    local out = support.run_lua_script([[
      local resume = coroutine.resume
      local corral = require "corral"
      local ok, err = pcall(corral.run, function()
        local lock = corral.Lock()
        local _ <close> = lock:acquire()
        resume(coroutine.create(function() lock:acquire() end))
        corral.sleep(0)
      end)
      print(ok, err)
      print("alive")
    ]])
    assert.is_truthy(out:find("an earlier suspension of this task was lost", 1, true), out)
    assert.is_truthy(out:find("alive", 1, true), out)
  end)

  it("debug warnings name the task by its name, not its number", function()
    -- The slow-step warning printed 'Task-1' for a main task named "main".
    local out = support.run_script([[
      corral.run(function()
        local t = os.clock()
        while os.clock() - t < 0.12 do end
        corral.sleep(0) -- still pending when the slow step ends
      end, { name = "main", debug = true })
    ]])
    assert.is_truthy(out:find("Executing <corral.Task 0x%x+ 'main'> took"), out)
  end)

  it("a bad item in wait is reported at the caller's line", function()
    -- The position pointed into corral's own std.lua.
    local err = vrun(function() return error_of(corral.wait, { 1 }) end)
    assert.is_nil(tostring(err):find("std.lua", 1, true), tostring(err))
    assert.is_truthy(tostring(err):find("bad argument #1 to 'wait' (item #1:", 1, true), tostring(err))
  end)

  it("loop:run_until_complete inside a running loop names itself in the error", function()
    -- The message said corral.run.
    local err = vrun(function()
      local loop = corral.Loop()
      local e = error_of(loop.run_until_complete, loop, function() end)
      loop:close()
      return e
    end)
    assert.is_truthy(tostring(err):find("loop:run_until_complete: cannot be called from a running loop", 1, true),
      tostring(err))
  end)
end)
