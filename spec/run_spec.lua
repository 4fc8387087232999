-- corral.run: results, errors, names, nesting, the end of a run, clocks.
-- Orders were checked against the same programs under CPython 3.13 asyncio.

local corral = require "corral"
local support = require "support"

local vrun, has = support.vrun, support.has

describe("corral.run", function()
  it("returns every value main returns", function()
    local r = table.pack(vrun(function() return 1, nil, "x" end))
    assert.are.same({ n = 3, 1, nil, "x" }, r)
  end)

  it("returns nothing when main returns nothing", function()
    assert.are.equal(0, select("#", vrun(function() end)))
  end)

  it("returns main's results after main suspended", function()
    local a, b = vrun(function()
      corral.sleep(0)
      corral.sleep(5)
      return "a", "b"
    end)
    assert.are.equal("a", a)
    assert.are.equal("b", b)
  end)

  it("raises main's error string unchanged", function()
    local ok, err = pcall(vrun, function()
      corral.sleep(0)
      error("boom", 0)
    end)
    assert.is_false(ok)
    assert.are.equal("boom", err)
  end)

  it("raises main's error value unchanged (same table)", function()
    local e = { code = 42 }
    local ok, err = pcall(vrun, function()
      corral.sleep(1)
      error(e)
    end)
    assert.is_false(ok)
    assert.is_true(rawequal(e, err))
  end)

  it("raises CancelledError when main ends cancelled", function()
    local after = false
    local ok, err = pcall(vrun, function()
      corral.current_task():cancel("bye")
      corral.sleep(0)
      after = true
    end)
    assert.is_false(ok)
    assert.is_true(corral.is_error(err, "CancelledError"))
    assert.are.equal("bye", err.message)
    assert.is_false(after)
  end)

  it("names the main task Task-1 by default", function()
    local name = vrun(function() return corral.current_task():get_name() end)
    assert.are.equal("Task-1", name)
  end)

  it("names the main task opts.name", function()
    local name = vrun(function()
      return corral.current_task():get_name()
    end, { name = "main" })
    assert.are.equal("main", name)
  end)

  it("numbers tasks Task-N per loop, starting again at Task-1 in each run", function()
    local function names()
      local out = { corral.current_task():get_name() }
      local a = corral.spawn(function() return corral.current_task():get_name() end)
      local b = corral.spawn(function() end)
      out[#out + 1] = a:get_name()
      out[#out + 1] = b:get_name()
      out[#out + 1] = a:await()
      b:await()
      return out
    end
    assert.are.same({ "Task-1", "Task-2", "Task-3", "Task-2" }, vrun(names))
    assert.are.same({ "Task-1", "Task-2", "Task-3", "Task-2" }, vrun(names))
    assert.are.same({ "Task-1", "Task-2", "Task-3", "Task-2" },
      corral.run(names))
  end)

  it("gives a named main task no number, so the first spawned task is Task-1 (as asyncio)", function()
    local name = vrun(function()
      local t = corral.spawn(function() end)
      t:await()
      return t:get_name()
    end, { name = "main" })
    assert.are.equal("Task-1", name)
  end)

  it("refuses to run nested inside a task", function()
    local inner_ran = false
    local ok, err, after = vrun(function()
      local ok, err = pcall(corral.run, function() inner_ran = true end)
      corral.sleep(0)
      return ok, err, "outer"
    end)
    assert.is_false(ok)
    assert.is_true(has(tostring(err), "corral.run: cannot be called from a running loop"))
    assert.are.equal("outer", after)
    assert.is_false(inner_ran)
  end)

  it("refuses to run nested inside a loop callback", function()
    local seen = {}
    vrun(function()
      local t = corral.spawn(function() end)
      t:add_done_callback(function()
        local ok, err = pcall(corral.run, function() seen.inner = true end)
        seen.ok, seen.err = ok, err
      end)
      t:await()
      corral.sleep(0)
      corral.sleep(0)
    end)
    assert.is_false(seen.ok)
    assert.is_true(has(tostring(seen.err), "corral.run: cannot be called from a running loop"))
    assert.is_nil(seen.inner)
  end)

  it("can run again after a run that raised", function()
    assert.has_error(function()
      vrun(function()
        corral.spawn(function() corral.sleep(10) end)
        corral.sleep(0)
        error("first run fails", 0)
      end)
    end, "first run fails")
    local name, n = vrun(function()
      return corral.current_task():get_name(), #corral.all_tasks()
    end)
    assert.are.equal("Task-1", name)
    assert.are.equal(1, n)
  end)

  it("stops one iteration after main is done, then cancels and finishes pending tasks", function()
    -- asyncio: m1 f1 m2 f2 m3 f3 'f cancelled' 'f cleanup'
    local ev = {}
    local f
    local r = vrun(function()
      f = corral.spawn(function()
        local i = 0
        local ok, err = pcall(function()
          while true do
            i = i + 1
            ev[#ev + 1] = "f" .. i
            corral.sleep(0)
          end
        end)
        ev[#ev + 1] = corral.is_error(err, "CancelledError") and "f cancelled" or tostring(err)
        corral.sleep(0)
        ev[#ev + 1] = "f cleanup"
        error(err)
      end)
      ev[#ev + 1] = "m1"
      corral.sleep(0)
      ev[#ev + 1] = "m2"
      corral.sleep(0)
      ev[#ev + 1] = "m3"
      return "ret"
    end)
    assert.are.equal("ret", r)
    assert.are.same({ "m1", "f1", "m2", "f2", "m3", "f3", "f cancelled", "f cleanup" }, ev)
    assert.is_true(f:done())
    assert.is_true(f:cancelled())
  end)

  it("lets a task spawned in main's last step take its first step before cancelling it", function()
    -- asyncio: m1 m2 'L started' 'L finally' (the second step never runs)
    local ev = {}
    local r = vrun(function()
      ev[#ev + 1] = "m1"
      corral.sleep(0)
      corral.spawn(function()
        ev[#ev + 1] = "L started"
        local ok, err = pcall(corral.sleep, 0)
        if ok then ev[#ev + 1] = "L second step" end
        ev[#ev + 1] = "L finally"
        if not ok then error(err, 0) end
      end)
      ev[#ev + 1] = "m2"
      return "r"
    end)
    assert.are.equal("r", r)
    assert.are.same({ "m1", "m2", "L started", "L finally" }, ev)
  end)

  it("finishes pending tasks blocked in long sleeps and awaits, leaving none pending", function()
    local tasks = {}
    local closing = {}
    vrun(function()
      local sleeper = corral.spawn(function()
        local ok, err = pcall(corral.sleep, 1000)
        closing[#closing + 1] = corral.is_error(err, "CancelledError")
        error(err, 0)
      end)
      local waiter = corral.spawn(function() sleeper:await() end)
      tasks = { sleeper, waiter }
      corral.sleep(1)
    end)
    for _, t in ipairs(tasks) do
      assert.is_true(t:done())
      assert.is_true(t:cancelled())
    end
    assert.are.same({ true }, closing)
  end)

  it("rejects an unknown clock with a misuse error before running main", function()
    local ran = false
    local ok, err = pcall(corral.run, function() ran = true end, { clock = "sundial" })
    assert.is_false(ok)
    assert.are.equal("string", type(err))
    assert.is_false(ran)
  end)

  it("clock = 'virtual' starts at 0 and does not move while tasks run", function()
    local t0, t1 = vrun(function()
      local t0 = corral.now()
      for _ = 1, 100 do corral.sleep(0) end
      return t0, corral.now()
    end)
    assert.are.equal(0, t0)
    assert.are.equal("float", math.type(t0))
    assert.are.equal(0, t1)
  end)

  it("the default clock is a float that does not go backwards", function()
    local a, b = corral.run(function()
      local a = corral.now()
      corral.sleep(0)
      return a, corral.now()
    end)
    assert.are.equal("float", math.type(a))
    assert.is_true(b >= a)
  end)
end)
