-- corral.wait (ALL_COMPLETED / FIRST_COMPLETED / FIRST_EXCEPTION, timeout,
-- done/pending in list order) and corral.as_completed. Outcomes were checked
-- against the same programs under CPython asyncio (asyncio.wait,
-- asyncio.as_completed).

local corral = require "corral"
local support = require "support"

local vrun, has, error_of = support.vrun, support.has, support.error_of
local recorder = support.recorder

-- A task body that sleeps d and returns v (or raises v when fail is set).
local function after(d, v, fail)
  return function()
    corral.sleep(d)
    if fail then error(v, 0) end
    return v
  end
end

-- The task names of a list of tasks.
local function names(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = t:get_name() end
  return out
end

-- Spawns named tasks from { name, body } pairs; returns them in order.
local function spawn_named(specs)
  local tasks = {}
  for i, s in ipairs(specs) do
    tasks[i] = corral.spawn(s[2])
    tasks[i]:set_name(s[1])
  end
  return tasks
end

describe("corral.wait", function()
  it("waits for every item by default and returns done in list order and an empty pending", function()
    local r = vrun(function()
      local ts = spawn_named({ { "a", after(3, "A") }, { "b", after(1, "B") }, { "c", after(2, "C") } })
      local done, pending = corral.wait(ts)
      return { names(done), #pending, corral.now() }
    end)
    assert.are.same({ { "a", "b", "c" }, 0, 3 }, r)
  end)

  it("ALL_COMPLETED does not raise the items' errors: failed tasks are in done", function()
    local r = vrun(function()
      local ts = spawn_named({ { "bad", after(1, "boom", true) }, { "good", after(2, "ok") } })
      local done, pending = corral.wait(ts, { return_when = "ALL_COMPLETED" })
      return { names(done), #pending, done[1]:exception(), done[2]:result(), corral.now() }
    end)
    assert.are.same({ { "bad", "good" }, 0, "boom", "ok", 2 }, r)
  end)

  it("FIRST_COMPLETED returns when the first item finishes; the rest stay pending and running", function()
    local r = vrun(function()
      local ts = spawn_named({ { "slow", after(3, "S") }, { "fast", after(1, "F") }, { "mid", after(2, "M") } })
      local done, pending = corral.wait(ts, { return_when = "FIRST_COMPLETED" })
      local at = corral.now()
      local out = { names(done), names(pending), at }
      corral.sleep(5)
      out[4] = { ts[1]:result(), ts[3]:result() }
      return out
    end)
    assert.are.same({ { "fast" }, { "slow", "mid" }, 1, { "S", "M" } }, r)
  end)

  it("FIRST_COMPLETED counts a failure or a cancellation as completion", function()
    local r = vrun(function()
      local a = spawn_named({ { "bad", after(1, "boom", true) }, { "slow", after(5, "S") } })
      local d1, p1 = corral.wait(a, { return_when = "FIRST_COMPLETED" })
      local b = spawn_named({ { "victim", after(10, "V") }, { "slow2", after(5, "S") } })
      corral.call_later(1, function() b[1]:cancel() end)
      local d2, p2 = corral.wait(b, { return_when = "FIRST_COMPLETED" })
      corral.sleep(10)
      return { names(d1), names(p1), names(d2), names(p2) }
    end)
    assert.are.same({ { "bad" }, { "slow" }, { "victim" }, { "slow2" } }, r)
  end)

  it("FIRST_EXCEPTION returns at the first failure", function()
    local r = vrun(function()
      local ts = spawn_named({ { "ok", after(1, "fine") }, { "slow", after(5, "S") },
                               { "bad", after(2, "boom", true) } })
      local done, pending = corral.wait(ts, { return_when = "FIRST_EXCEPTION" })
      local out = { names(done), names(pending), corral.now() }
      corral.sleep(5)
      return out
    end)
    assert.are.same({ { "ok", "bad" }, { "slow" }, 2 }, r)
  end)

  it("FIRST_EXCEPTION does not count a cancellation as an exception, and waits for all when nothing fails", function()
    local r = vrun(function()
      local ts = spawn_named({ { "victim", after(10, "V") }, { "a", after(2, "A") }, { "b", after(3, "B") } })
      corral.call_later(1, function() ts[1]:cancel() end)
      local done, pending = corral.wait(ts, { return_when = "FIRST_EXCEPTION" })
      return { names(done), #pending, corral.now() }
    end)
    assert.are.same({ { "victim", "a", "b" }, 0, 3 }, r)
  end)

  it("with a timeout returns what is done so far without raising; the rest keep running", function()
    local r = vrun(function()
      local ts = spawn_named({ { "slow", after(5, "S") }, { "fast", after(1, "F") } })
      local done, pending = corral.wait(ts, { timeout = 2 })
      local out = { names(done), names(pending), corral.now(), ts[1]:cancelled() }
      out[5] = ts[1]:await()
      out[6] = corral.now()
      return out
    end)
    assert.are.same({ { "fast" }, { "slow" }, 2, false, "S", 5 }, r)
  end)

  it("returns before the timeout when everything is done", function()
    local r = vrun(function()
      local ts = spawn_named({ { "a", after(1, "A") } })
      local done, pending = corral.wait(ts, { timeout = 10 })
      local at = corral.now()
      -- no stray wakeup later
      corral.sleep(20)
      return { names(done), #pending, at }
    end)
    assert.are.same({ { "a" }, 0, 1 }, r)
  end)

  it("lists an item given twice once", function()
    local r = vrun(function()
      local ts = spawn_named({ { "a", after(1, "A") }, { "b", after(2, "B") } })
      local done, pending = corral.wait({ ts[2], ts[1], ts[2], ts[1] })
      return names(done)
    end)
    assert.are.same({ "b", "a" }, r)
  end)

  it("spawns function items as tasks and returns those tasks", function()
    local r = vrun(function()
      local fn = after(1, "from fn")
      local done, pending = corral.wait({ fn, fn })
      return { #done, done[1]:result(), done[2]:result(), rawequal(done[1], done[2]),
               getmetatable(done[1]).__name }
    end)
    assert.are.same({ 2, "from fn", "from fn", false, "corral.Task" }, r)
  end)

  it("takes futures", function()
    local r = vrun(function()
      local f, g = corral.Future(), corral.Future()
      corral.call_later(1, function() g:set_result("g") end)
      local done, pending = corral.wait({ f, g }, { return_when = "FIRST_COMPLETED" })
      return { #done, rawequal(done[1], g), #pending, rawequal(pending[1], f) }
    end)
    assert.are.same({ 1, true, 1, true }, r)
  end)

  it("with every item already done still returns them all", function()
    local r = vrun(function()
      local ts = spawn_named({ { "a", function() return 1 end }, { "b", function() return 2 end } })
      corral.sleep(0)
      local done, pending = corral.wait(ts, { return_when = "FIRST_COMPLETED" })
      return { names(done), #pending }
    end)
    assert.are.same({ { "a", "b" }, 0 }, r)
  end)

  it("cancelling the caller raises CancelledError in it and does not cancel the items", function()
    local r = vrun(function()
      local ts = spawn_named({ { "a", after(5, "A") }, { "b", after(6, "B") } })
      local w = corral.spawn(function() return corral.wait(ts) end)
      corral.sleep(1)
      w:cancel()
      local err = error_of(w.await, w)
      local out = { corral.is_error(err, "CancelledError"), ts[1]:cancelled(), ts[2]:cancelled() }
      out[4] = ts[1]:await()
      out[5] = ts[2]:await()
      return out
    end)
    assert.are.same({ true, false, false, "A", "B" }, r)
  end)

  it("treats an empty list as misuse", function()
    local err = vrun(function() return error_of(corral.wait, {}) end)
    assert.are.equal("string", type(err), tostring(err))
    assert.is_true(has(err, "bad argument #1 to 'wait'"), err)
  end)

  it("treats an unknown return_when as misuse", function()
    local err = vrun(function()
      local t = corral.spawn(after(1, "x"))
      local e = error_of(corral.wait, { t }, { return_when = "FIRST_BLOOD" })
      t:await()
      return e
    end)
    assert.are.equal("string", type(err), tostring(err))
    assert.is_true(has(err, "return_when"), err)
  end)

  it("treats an item that is not awaitable as misuse", function()
    local err = vrun(function() return error_of(corral.wait, { 42 }) end)
    assert.are.equal("string", type(err), tostring(err))
    assert.is_true(has(err, "bad argument"), err)
  end)

  it("raises 'no running task' outside a task", function()
    local err
    vrun(function()
      local f = corral.Future()
      f:set_result()
      corral.call_soon(function() err = error_of(corral.wait, { f }) end)
      corral.sleep(0)
    end)
    assert.is_true(has(tostring(err), "corral.wait: no running task"), tostring(err))
  end)
end)

describe("corral.as_completed", function()
  it("yields each item as it finishes, in order of completion", function()
    local ev, rec = recorder()
    vrun(function()
      local ts = spawn_named({ { "a", after(3, "A") }, { "b", after(1, "B") }, { "c", after(2, "C") } })
      for t in corral.as_completed(ts) do
        rec(("%s %s at %g"):format(t:get_name(), t:result(), corral.now()))
      end
    end)
    assert.are.same({ "b B at 1", "c C at 2", "a A at 3" }, ev)
  end)

  it("yields the spawned task for a function item, and futures as themselves", function()
    local r = vrun(function()
      local f = corral.Future()
      corral.call_later(2, function() f:set_result("fut") end)
      local out = {}
      for x in corral.as_completed({ f, after(1, "fn") }) do
        out[#out + 1] = { getmetatable(x).__name, x:result(), rawequal(x, f) }
      end
      return out
    end)
    assert.are.same({ { "corral.Task", "fn", false }, { "corral.Future", "fut", true } }, r)
  end)

  it("yields failed and cancelled items too, without raising their errors", function()
    local r = vrun(function()
      local ts = spawn_named({ { "bad", after(1, "boom", true) }, { "victim", after(5, "V") } })
      corral.call_later(2, function() ts[2]:cancel() end)
      local out = {}
      for t in corral.as_completed(ts) do
        out[#out + 1] = t:get_name() .. " " .. (t:cancelled() and "cancelled" or tostring(t:exception()))
      end
      return out
    end)
    assert.are.same({ "bad boom", "victim cancelled" }, r)
  end)

  it("yields an item given twice once", function()
    local r = vrun(function()
      local t = corral.spawn(after(1, "x"))
      local n = 0
      for _ in corral.as_completed({ t, t, t }) do n = n + 1 end
      return n
    end)
    assert.are.equal(1, r)
  end)

  it("yields items already done first, in list order", function()
    local r = vrun(function()
      local ts = spawn_named({ { "late", after(1, "L") }, { "b", function() end }, { "a", function() end } })
      corral.sleep(0)
      local out = {}
      for t in corral.as_completed(ts) do out[#out + 1] = t:get_name() end
      return out
    end)
    assert.are.same({ "b", "a", "late" }, r)
  end)

  it("with an empty list yields nothing", function()
    local n = vrun(function()
      local n = 0
      for _ in corral.as_completed({}) do n = n + 1 end
      return n
    end)
    assert.are.equal(0, n)
  end)

  it("on timeout raises TimeoutError from the iterator; the rest keep running", function()
    local ev, rec = recorder()
    local r = vrun(function()
      local ts = spawn_named({ { "slow", after(5, "S") }, { "fast", after(1, "F") }, { "slower", after(6, "T") } })
      local err = error_of(function()
        for t in corral.as_completed(ts, 2) do rec(t:get_name() .. " at " .. ("%g"):format(corral.now())) end
      end)
      local out = { corral.is_error(err, "TimeoutError"), corral.now(), ts[1]:cancelled(), ts[3]:cancelled() }
      out[5] = ts[1]:await()
      out[6] = ts[3]:await()
      return out
    end)
    assert.are.same({ "fast at 1" }, ev)
    assert.are.same({ true, 2, false, false, "S", "T" }, r)
  end)

  it("with a timeout that is not reached yields everything and leaves no timer behind", function()
    local r = vrun(function()
      local ts = spawn_named({ { "a", after(1, "A") }, { "b", after(2, "B") } })
      local out = {}
      for t in corral.as_completed(ts, 10) do out[#out + 1] = t:get_name() end
      corral.sleep(20)
      out[#out + 1] = corral.now()
      return out
    end)
    assert.are.same({ "a", "b", 22 }, r)
  end)

  it("raises 'no running task' when iterated outside a task", function()
    local err
    vrun(function()
      local t = corral.spawn(after(1, "x"))
      local it = corral.as_completed({ t })
      corral.call_soon(function() err = error_of(it) end)
      t:await()
    end)
    assert.is_true(has(tostring(err), "no running task"), tostring(err))
  end)
end)

describe("corral.gather with return_exceptions", function()
  it("cancelling the gathering task cancels every child and raises CancelledError all the same", function()
    -- asyncio: child 1 cancelled, child 2 cancelled, CancelledError, cancelled() true
    local ev, rec = recorder()
    local r = vrun(function()
      local function child(n)
        return function()
          local ok, err = pcall(corral.sleep, 10)
          if not ok then rec("child " .. n .. " cancelled"); error(err, 0) end
        end
      end
      local g = corral.spawn(function()
        return corral.gather({ child(1), child(2) }, { return_exceptions = true })
      end)
      corral.sleep(1)
      g:cancel()
      local err = error_of(g.await, g)
      return { corral.is_error(err, "CancelledError"), g:cancelled() }
    end)
    assert.are.same({ "child 1 cancelled", "child 2 cancelled" }, ev)
    assert.are.same({ true, true }, r)
  end)

  it("keeps errors and values in argument order while the children finish in another order", function()
    local r = vrun(function()
      local e = { mine = true }
      local victim = corral.spawn(after(10, "never"))
      corral.call_later(1, function() victim:cancel("cut") end)
      local res = corral.gather({ after(3, "slow"), after(2, e, true), victim, after(0, "fast") },
                                { return_exceptions = true })
      return { res.n, res[1], rawequal(res[2], e), res[3].type, res[4] }
    end)
    assert.are.same({ 4, "slow", true, "CancelledError", "fast" }, r)
  end)
end)
