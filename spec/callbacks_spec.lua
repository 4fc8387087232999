-- corral.call_soon / call_later / call_at: the order callbacks run in
-- (asyncio's _run_once: ready callbacks queued before an iteration run
-- before the timers that came due in it; equal deadlines in the order they
-- were set), Handle cancel()/cancelled(), loop context (no current task),
-- and errors in callbacks. Orders were checked against the same programs
-- under CPython asyncio.

local corral = require "corral"
local support = require "support"

local vrun, has, error_of = support.vrun, support.has, support.error_of
local recorder, run_script = support.recorder, support.run_script

describe("corral.call_soon", function()
  it("runs fn(...) on the next iteration, FIFO, with its arguments", function()
    local ev, rec = recorder()
    vrun(function()
      corral.call_soon(rec, "a")
      corral.call_soon(function(x, y, z) rec(x .. tostring(y) .. z) end, "b", nil, "c")
      rec("main before yield")
      corral.sleep(0)
      rec("main after yield")
    end)
    assert.are.same({ "main before yield", "a", "bnilc", "main after yield" }, ev)
  end)

  it("a callback scheduled by a callback runs on the following iteration", function()
    local ev, rec = recorder()
    vrun(function()
      corral.call_soon(function()
        rec("first")
        corral.call_soon(rec, "from first")
      end)
      corral.call_soon(rec, "second")
      corral.sleep(0)
      rec("main1")
      corral.sleep(0)
      rec("main2")
    end)
    assert.are.same({ "first", "second", "main1", "from first", "main2" }, ev)
  end)

  it("returns a Handle", function()
    local r = vrun(function()
      local h = corral.call_soon(function() end)
      return { getmetatable(h).__name, h:cancelled(), tostring(h):match("^<corral%.%a+ ") ~= nil }
    end)
    assert.are.same({ "corral.Handle", false, true }, r)
  end)

  it("needs a running loop", function()
    local err = error_of(corral.call_soon, function() end)
    assert.is_true(has(tostring(err), "no running loop"), tostring(err))
  end)

  it("treats a non-function as misuse", function()
    local err = vrun(function() return error_of(corral.call_soon, 42) end)
    assert.is_true(has(err, "bad argument #1"), tostring(err))
  end)
end)

describe("call_later and call_at", function()
  it("run in deadline order, equal deadlines in the order they were set", function()
    local ev, rec = recorder()
    vrun(function()
      corral.call_later(2, rec, "b 2")
      corral.call_later(1, rec, "a 1")
      corral.call_later(2, rec, "c 2")
      corral.call_at(1, rec, "d at 1")
      corral.call_at(1.5, rec, "e at 1.5")
      corral.sleep(5)
      rec("end")
    end)
    assert.are.same({ "a 1", "d at 1", "e at 1.5", "b 2", "c 2", "end" }, ev)
  end)

  it("run when the clock reaches the deadline", function()
    local r = vrun(function()
      local out = {}
      corral.call_later(3, function() out[#out + 1] = corral.now() end)
      corral.call_at(7.5, function() out[#out + 1] = corral.now() end)
      corral.sleep(10)
      return out
    end)
    assert.are.same({ 3, 7.5 }, r)
  end)

  it("call_at takes an absolute time on the loop's clock", function()
    local r = vrun(function()
      corral.sleep(10)
      local t
      corral.call_at(corral.now() + 2, function() t = corral.now() end)
      corral.sleep(5)
      return t
    end)
    assert.are.equal(12, r)
  end)

  it("ready callbacks queued before an iteration run before the timers that came due in it", function()
    -- asyncio: soon1 soon2 chain main later_neg later0 at_now 'from chain' main2
    local ev, rec = recorder()
    vrun(function()
      corral.call_later(0, rec, "later0")
      corral.call_soon(rec, "soon1")
      corral.call_at(corral.now(), rec, "at_now")
      corral.call_later(-1, rec, "later_neg")
      corral.call_soon(rec, "soon2")
      corral.call_soon(function()
        rec("chain")
        corral.call_soon(rec, "from chain")
      end)
      corral.sleep(0)
      rec("main")
      corral.sleep(0)
      rec("main2")
    end)
    assert.are.same({ "soon1", "soon2", "chain", "main", "later_neg", "later0", "at_now",
                      "from chain", "main2" }, ev)
  end)

  it("sleeps due at the same time wake in the order their timers were set", function()
    local ev, rec = recorder()
    vrun(function()
      local x = corral.spawn(function()
        corral.sleep(0)                 -- sets its timer one iteration after y
        corral.sleep(1)
        rec("x woke")
      end)
      local y = corral.spawn(function()
        corral.sleep(1)
        rec("y woke")
      end)
      corral.call_later(1, rec, "main's timer")
      x:await()
      y:await()
    end)
    -- main's call_later runs before x and y even start, so its timer is
    -- first; the sleeping tasks resume one iteration after their timers
    assert.are.same({ "main's timer", "y woke", "x woke" }, ev)
  end)

  it("treat NaN or a non-number delay as misuse", function()
    local r = vrun(function()
      return { error_of(corral.call_later, 0 / 0, function() end),
               error_of(corral.call_at, "soon", function() end),
               error_of(corral.call_later, 1, "not a function") }
    end)
    for i = 1, 3 do
      assert.are.equal("string", type(r[i]), tostring(r[i]))
      assert.is_true(has(r[i], "bad argument"), r[i])
    end
  end)

  it("accept a numeric string", function()
    local r = vrun(function()
      local t
      corral.call_later("2", function() t = corral.now() end)
      corral.sleep(3)
      return t
    end)
    assert.are.equal(2, r)
  end)
end)

describe("Handle", function()
  it("cancel() stops a callback from running and cancelled() says so", function()
    local ev, rec = recorder()
    local r = vrun(function()
      local h1 = corral.call_soon(rec, "soon cancelled")
      local h2 = corral.call_later(1, rec, "later cancelled")
      local h3 = corral.call_at(2, rec, "at cancelled")
      corral.call_soon(rec, "soon kept")
      local before = { h1:cancelled(), h2:cancelled(), h3:cancelled() }
      h1:cancel()
      h2:cancel()
      h3:cancel()
      corral.sleep(5)
      return { before, { h1:cancelled(), h2:cancelled(), h3:cancelled() } }
    end)
    assert.are.same({ "soon kept" }, ev)
    assert.are.same({ { false, false, false }, { true, true, true } }, r)
  end)

  it("cancel() twice, or after the callback ran, does no harm", function()
    local ev, rec = recorder()
    vrun(function()
      local h = corral.call_soon(rec, "ran")
      corral.sleep(0)
      h:cancel()
      h:cancel()
      local h2 = corral.call_later(1, rec, "never")
      h2:cancel()
      h2:cancel()
      corral.sleep(2)
    end)
    assert.are.same({ "ran" }, ev)
  end)

  it("a callback may cancel a later one due in the same iteration", function()
    local ev, rec = recorder()
    vrun(function()
      local h2
      corral.call_later(1, function() rec("first"); h2:cancel() end)
      h2 = corral.call_later(1, rec, "second")
      corral.sleep(2)
    end)
    assert.are.same({ "first" }, ev)
  end)

  it("a cancelled timer does not keep the virtual clock from stopping early", function()
    local r = vrun(function()
      local h = corral.call_later(3600, function() end)
      h:cancel()
      corral.sleep(1)
      return corral.now()
    end)
    assert.are.equal(1, r)
  end)
end)

describe("callbacks run in loop context", function()
  it("with no current task", function()
    local r = vrun(function()
      local seen = "unset"
      corral.call_soon(function() seen = corral.current_task() end)
      corral.sleep(0)
      return seen
    end)
    assert.is_nil(r)
  end)

  it("where blocking calls raise 'no running task', even when they would not suspend", function()
    local r = vrun(function()
      local out = {}
      local lock, ev = corral.Lock(), corral.Event()
      ev:set()
      local done_task = corral.spawn(function() return 1 end)
      corral.sleep(0)
      corral.call_soon(function()
        out.sleep = error_of(corral.sleep, 0)
        out.acquire = error_of(lock.acquire, lock)
        out.wait = error_of(ev.wait, ev)
        out.await = error_of(done_task.await, done_task)
      end)
      corral.sleep(0)
      out.locked = lock:locked()
      return out
    end)
    assert.is_true(has(r.sleep, "corral.sleep: no running task"), tostring(r.sleep))
    assert.is_true(has(r.acquire, "no running task"), tostring(r.acquire))
    assert.is_true(has(r.wait, "no running task"), tostring(r.wait))
    assert.is_true(has(r.await, "no running task"), tostring(r.await))
    assert.is_false(r.locked)
  end)

  it("where non-blocking calls work: set, set_result, cancel, spawn", function()
    local ev, rec = recorder()
    vrun(function()
      local event, fut = corral.Event(), corral.Future()
      local victim = corral.spawn(function() corral.sleep(10) end)
      corral.call_later(1, function()
        event:set()
        fut:set_result("from callback")
        victim:cancel()
        corral.spawn(function() rec("spawned from callback") end)
      end)
      event:wait()
      rec(fut:await())
      rec("victim cancelled " .. tostring(pcall(victim.await, victim) == false and victim:cancelled()))
    end)
    -- main was woken first (event:set), and fut:await() does not suspend
    assert.are.same({ "from callback", "spawned from callback", "victim cancelled true" }, ev)
  end)
end)

describe("an error in a callback", function()
  it("does not stop the loop: later callbacks and tasks still run", function()
    local out = run_script([[
      local ev = {}
      corral.run(function()
        corral.call_soon(function() error("callback boom 1234", 0) end)
        corral.call_soon(function() ev[#ev + 1] = "next callback" end)
        corral.call_later(1, function() error({ "a table" }) end)
        corral.sleep(2)
        ev[#ev + 1] = "main went on"
      end, { clock = "virtual" })
      print(table.concat(ev, ","))
    ]])
    assert.is_true(has(out, "next callback,main went on"), out)
    assert.is_true(has(out, "callback boom 1234"), out)
  end)
end)
