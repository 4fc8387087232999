-- corral.sleep and corral.spawn: one iteration per sleep(0), FIFO starts,
-- argument checking, the virtual clock, blocking outside a task.
-- Orders were checked against the same programs under CPython 3.13 asyncio.

local corral = require "corral"
local support = require "support"

local vrun, has, recorder = support.vrun, support.has, support.recorder
local error_of = support.error_of

describe("corral.sleep", function()
  it("sleep(0) yields exactly once: tasks interleave round-robin", function()
    local ev = {}
    vrun(function()
      local function worker(name, n)
        for i = 1, n do
          ev[#ev + 1] = name .. i
          corral.sleep(0)
        end
      end
      local a = corral.spawn(worker, "A", 3)
      local b = corral.spawn(worker, "B", 3)
      local c = corral.spawn(worker, "C", 3)
      a:await(); b:await(); c:await()
    end)
    assert.are.same({ "A1", "B1", "C1", "A2", "B2", "C2", "A3", "B3", "C3" }, ev)
  end)

  it("sleep(0) puts the task behind everything already queued, including tasks spawned meanwhile", function()
    -- asyncio: m1 A1 B1 S1 m2 A2 B2 D1 S2 m3 A3 D2 m4 m5
    local ev = {}
    local function rec(x) ev[#ev + 1] = x end
    local function worker(name, n)
      for i = 1, n do
        rec(name .. i)
        corral.sleep(0)
      end
    end
    vrun(function()
      corral.spawn(worker, "A", 3)
      corral.spawn(worker, "B", 2)
      corral.spawn(function()
        rec("S1")
        corral.spawn(worker, "D", 2)
        corral.sleep(0)
        rec("S2")
      end)
      rec("m1")
      corral.sleep(0)
      rec("m2")
      corral.sleep(0)
      rec("m3")
      corral.sleep(0)
      rec("m4")
      corral.sleep(0)
      rec("m5")
    end)
    assert.are.same({ "m1", "A1", "B1", "S1", "m2", "A2", "B2", "D1", "S2",
                      "m3", "A3", "D2", "m4", "m5" }, ev)
  end)

  it("a negative delay is 0: one iteration, no time passes", function()
    -- asyncio: n1 t1 n2 t2
    local ev = {}
    local now
    vrun(function()
      local a = corral.spawn(function()
        ev[#ev + 1] = "n1"
        corral.sleep(-3)
        ev[#ev + 1] = "n2"
        now = corral.now()
      end)
      local b = corral.spawn(function()
        ev[#ev + 1] = "t1"
        corral.sleep(0)
        ev[#ev + 1] = "t2"
      end)
      a:await(); b:await()
    end)
    assert.are.same({ "n1", "t1", "n2", "t2" }, ev)
    assert.are.equal(0, now)
  end)

  it("a NaN delay is a misuse error in luaL_argerror form", function()
    local err = vrun(function()
      return error_of(function() corral.sleep(0 / 0) end)
    end)
    assert.are.equal("string", type(err))
    assert.is_true(has(err, "bad argument #1 to 'sleep'"), err)
  end)

  it("a non-numeric delay is a misuse error in luaL_argerror form", function()
    local errs = vrun(function()
      return {
        error_of(function() corral.sleep("soon") end),
        error_of(function() corral.sleep({}) end),
        error_of(function() corral.sleep(true) end),
        error_of(function() corral.sleep() end),
      }
    end)
    assert.are.equal(4, #errs)
    for i = 1, 4 do
      assert.are.equal("string", type(errs[i]))
      assert.is_true(has(errs[i], "bad argument #1 to 'sleep'"), errs[i])
    end
  end)

  it("a misused sleep does not suspend the task", function()
    local ev = {}
    vrun(function()
      corral.spawn(function() ev[#ev + 1] = "other" end)
      pcall(function() corral.sleep(0 / 0) end)
      ev[#ev + 1] = "main"
      corral.sleep(0)
    end)
    assert.are.same({ "main", "other" }, ev)
  end)

  it("accepts a numeric string", function()
    local t = vrun(function()
      corral.sleep("2")
      corral.sleep(" 0x10 ")
      return corral.now()
    end)
    assert.are.equal(18, t)
  end)

  it("on the virtual clock, sleep(3600) finishes at once and now() reads 3600", function()
    local clock = os.clock()
    local t = vrun(function()
      corral.sleep(3600)
      return corral.now()
    end)
    assert.are.equal(3600, t)
    assert.is_true(os.clock() - clock < 5)
  end)

  it("on the virtual clock, timers fire in deadline order, equal deadlines in the order set", function()
    -- asyncio (sleep 0.02, 0.04, 0.02, 0): D A C B
    local ev = {}
    vrun(function()
      local function sl(name, d)
        corral.sleep(d)
        ev[#ev + 1] = name .. "@" .. corral.now()
      end
      local ts = {
        corral.spawn(sl, "A", 2), corral.spawn(sl, "B", 4),
        corral.spawn(sl, "C", 2), corral.spawn(sl, "D", 0),
      }
      for _, t in ipairs(ts) do t:await() end
    end)
    assert.are.same({ "D@0.0", "A@2.0", "C@2.0", "B@4.0" }, ev)
  end)

  it("on the virtual clock, time advances only by the sleeps", function()
    local ts = vrun(function()
      local ts = {}
      corral.sleep(1.5)
      ts[#ts + 1] = corral.now()
      corral.sleep(0)
      ts[#ts + 1] = corral.now()
      corral.sleep(0.25)
      ts[#ts + 1] = corral.now()
      return ts
    end)
    assert.are.same({ 1.5, 1.5, 1.75 }, ts)
  end)

  it("a cancelled sleep's timer does not wake the task later", function()
    local ev, rec = recorder()
    vrun(function()
      local t = corral.spawn(function()
        local ok = pcall(corral.sleep, 10)
        rec("caught at " .. corral.now())
        corral.sleep(20)
        rec("woke at " .. corral.now())
      end)
      corral.sleep(1)
      t:cancel()
      t:await()
    end)
    assert.are.same({ "caught at 1.0", "woke at 21.0" }, ev)
  end)

  it("suspends the whole task from inside a coroutine.wrap generator and resumes there", function()
    local ev, rec = recorder()
    vrun(function()
      local gen = coroutine.wrap(function()
        for i = 1, 2 do
          corral.sleep(1)
          coroutine.yield(i)
        end
      end)
      local other = corral.spawn(function() rec("other ran") end)
      rec("got " .. gen() .. " at " .. corral.now())
      rec("got " .. gen() .. " at " .. corral.now())
      other:await()
    end)
    assert.are.same({ "other ran", "got 1 at 1.0", "got 2 at 2.0" }, ev)
  end)

  it("raises 'corral.sleep: no running task' outside a task, even for sleep(0)", function()
    for _, d in ipairs({ 0, 1, -1 }) do
      local err = error_of(corral.sleep, d)
      assert.is_true(has(tostring(err), "corral.sleep: no running task"), tostring(err))
    end
  end)

  it("raises 'corral.sleep: no running task' in a loop callback", function()
    local err, cur
    vrun(function()
      local t = corral.spawn(function() end)
      t:add_done_callback(function()
        cur = corral.current_task()
        err = error_of(corral.sleep, 0)
      end)
      t:await()
      corral.sleep(0)
      corral.sleep(0)
    end)
    assert.is_nil(cur)
    assert.is_true(has(tostring(err), "corral.sleep: no running task"), tostring(err))
  end)
end)

describe("corral.spawn", function()
  it("starts tasks on a later iteration, in FIFO order, not inline", function()
    -- asyncio: spawned A B C main
    local ev = {}
    vrun(function()
      for _, name in ipairs({ "A", "B", "C" }) do
        corral.spawn(function() ev[#ev + 1] = name end)
      end
      ev[#ev + 1] = "spawned"
      corral.sleep(0)
      ev[#ev + 1] = "main"
    end)
    assert.are.same({ "spawned", "A", "B", "C", "main" }, ev)
  end)

  it("passes extra arguments, nils included", function()
    local got = vrun(function()
      return corral.spawn(function(...) return table.pack(...) end, 1, nil, "x", nil):await()
    end)
    assert.are.same({ n = 4, 1, nil, "x", nil }, got)
  end)

  it("returns a Task whose function runs as that task", function()
    local same = vrun(function()
      local t
      t = corral.spawn(function() return corral.current_task() == t end)
      return t:await()
    end)
    assert.is_true(same)
  end)

  it("works in a loop callback, outside any task", function()
    local ev, rec = recorder()
    vrun(function()
      local t = corral.spawn(function() end)
      local spawned
      t:add_done_callback(function()
        spawned = corral.spawn(function(x) rec("spawned from callback " .. x) return "cb task" end, 7)
      end)
      t:await()
      corral.sleep(0)
      rec(spawned:await())
    end)
    assert.are.same({ "spawned from callback 7", "cb task" }, ev)
  end)

  it("accepts a not-yet-started coroutine", function()
    local ev = {}
    local r = vrun(function()
      local co = coroutine.create(function()
        ev[#ev + 1] = "co start"
        corral.sleep(0)
        ev[#ev + 1] = "co end"
        return "co result"
      end)
      local t = corral.spawn(co)
      ev[#ev + 1] = "spawned"
      return t:await()
    end)
    assert.are.equal("co result", r)
    assert.are.same({ "spawned", "co start", "co end" }, ev)
  end)
end)

describe("corral.now", function()
  it("is a float", function()
    local a = vrun(function()
      corral.sleep(2)
      return corral.now()
    end)
    assert.are.equal("float", math.type(a))
    assert.are.equal(2, a)
  end)
end)
