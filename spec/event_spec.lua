-- corral.Event: API.md §5, SEMANTICS.md "Primitives", ported from CPython's
-- Lib/test/test_asyncio/test_locks.py (EventTests). Every test runs on the
-- virtual clock; `tick()` is `await asyncio.sleep(0)`.

local corral = require "corral"
local support = require "support"

local run, async, tick = support.vrun, support.async, support.tick
local assert_cancelled = support.assert_cancelled
local assert_no_running_task = support.assert_no_running_task
local repr_is = support.repr_checker("Event")

-- A task body w(name) that waits on ev and appends { name, result } to got.
local function wait_recorder(ev, got)
  return function(name)
    local r = ev:wait()
    got[#got + 1] = { name, r }
  end
end

describe("corral.Event", function()
  describe("basics", function()
    -- test_repr
    it("repr shows [unset], [set] and the number of waiters", async(function()
      local ev = corral.Event()
      repr_is(ev, "unset")
      local a = corral.spawn(ev.wait, ev)
      local b = corral.spawn(ev.wait, ev)
      tick()
      repr_is(ev, "unset, waiters:2")
      ev:set()
      -- both are woken but have not run: still queued
      repr_is(ev, "set, waiters:2")
      a:await()
      b:await()
      repr_is(ev, "set")
    end))

    -- test_clear
    it("set() and clear() drive is_set()", function()
      local ev = corral.Event()
      assert.is_false(ev:is_set())
      ev:set()
      assert.is_true(ev:is_set())
      ev:set()
      assert.is_true(ev:is_set())
      ev:clear()
      assert.is_false(ev:is_set())
      ev:clear()
      assert.is_false(ev:is_set())
      repr_is(ev, "unset")
    end)

    -- test_wait_on_set
    it("wait() on a set event returns true without yielding", async(function()
      local ev = corral.Event()
      local events = {}
      ev:set()
      corral.spawn(function() events[#events + 1] = "other task" end)
      local res = table.pack(ev:wait())
      events[#events + 1] = "waited"
      assert.are.equal(1, res.n)
      assert.are.equal(true, res[1])
      tick()
      assert.are.same({ "waited", "other task" }, events)
    end))

    it("wait() blocks until set() and returns true", async(function()
      local ev = corral.Event()
      local got
      local t = corral.spawn(function() got = table.pack(ev:wait()) end)
      corral.sleep(5)
      assert.is_false(t:done())
      assert.is_nil(got)
      ev:set()
      t:await()
      assert.are.equal(5, corral.now())
      assert.are.same({ n = 1, true }, got)
    end))
  end)

  describe("waking", function()
    -- test_wait
    it("set() wakes every waiter in order; a newcomer passes at once", async(function()
      local ev = corral.Event()
      assert.is_false(ev:is_set())
      local result = {}
      local function c(n)
        return function()
          if ev:wait() then result[#result + 1] = n end
        end
      end
      local t1 = corral.spawn(c(1))
      local t2 = corral.spawn(c(2))
      tick()
      assert.are.same({}, result)

      local t3 = corral.spawn(c(3))
      ev:set()
      tick()
      assert.are.same({ 3, 1, 2 }, result)

      for _, t in ipairs({ t1, t2, t3 }) do
        assert.is_true(t:done())
        assert.is_nil(t:result())
      end
    end))

    it("wakes many waiters FIFO", async(function()
      local ev = corral.Event()
      local order = {}
      for i = 1, 5 do
        corral.spawn(function() ev:wait(); order[#order + 1] = i end)
      end
      tick()
      ev:set()
      tick()
      assert.are.same({ 1, 2, 3, 4, 5 }, order)
    end))

    -- test_clear_with_waiters
    it("clear() after set() does not take back the wakeup (test_clear_with_waiters)",
      async(function()
        local ev = corral.Event()
        local result = {}
        local t = corral.spawn(function()
          if ev:wait() then result[#result + 1] = 1 end
          return true
        end)
        tick()
        assert.are.same({}, result)

        ev:set()
        ev:clear()
        assert.is_false(ev:is_set())

        ev:set()
        ev:set()
        repr_is(ev, "set, waiters:1")

        tick()
        assert.are.same({ 1 }, result)
        repr_is(ev, "set")

        assert.is_true(t:done())
        assert.is_true(t:result())
      end))

    it("already woken waiters still return true after clear()", async(function()
      local ev = corral.Event()
      local got = {}
      local w = wait_recorder(ev, got)
      local a = corral.spawn(w, "a")
      local b = corral.spawn(w, "b")
      tick()
      ev:set()
      ev:clear()
      repr_is(ev, "unset, waiters:2")
      a:await()
      b:await()
      assert.are.same({ { "a", true }, { "b", true } }, got)
      assert.is_false(ev:is_set())

      -- a new waiter blocks again until the next set()
      local c = corral.spawn(w, "c")
      corral.sleep(1)
      assert.is_false(c:done())
      ev:set()
      c:await()
      assert.are.same({ "c", true }, got[3])
    end))

    it("a second set() wakes nobody twice", async(function()
      local ev = corral.Event()
      local count = 0
      corral.spawn(function() ev:wait(); count = count + 1 end)
      tick()
      ev:set()
      ev:set()
      tick(3)
      assert.are.equal(1, count)
    end))

    it("set() from a call_soon callback wakes the waiters", async(function()
      local ev = corral.Event()
      corral.call_later(2, function() ev:set() end)
      assert.is_true(ev:wait())
      assert.are.equal(2, corral.now())
    end))
  end)

  describe("cancellation", function()
    -- test_wait_cancel
    it("a cancelled waiter raises CancelledError and leaves the queue", async(function()
      local ev = corral.Event()
      local wait = corral.spawn(ev.wait, ev)
      corral.call_soon(function() wait:cancel() end)
      local ok, err = pcall(wait.await, wait)
      assert.is_false(ok)
      assert_cancelled(err)
      repr_is(ev, "unset")
    end))

    it("a waiter cancelled after set() is cancelled; the others still return true",
      async(function()
        local ev = corral.Event()
        local got = {}
        local w = wait_recorder(ev, got)
        local t1 = corral.spawn(w, "t1")
        local t2 = corral.spawn(w, "t2")
        tick()
        ev:set()
        t1:cancel()
        local ok, err = pcall(t1.await, t1)
        assert.is_false(ok)
        assert_cancelled(err)
        t2:await()
        assert.is_true(t1:cancelled())
        assert.are.same({ { "t2", true } }, got)
        repr_is(ev, "set")
      end))
  end)

  describe("outside a task", function()
    it("wait() raises 'no running task' even when the event is set", function()
      local ev = corral.Event()
      assert_no_running_task(pcall(ev.wait, ev))
      ev:set()
      assert_no_running_task(pcall(ev.wait, ev))
    end)

    it("wait() in a call_soon callback raises 'no running task'", async(function()
      local ev = corral.Event()
      ev:set()
      local ok, err
      corral.call_soon(function() ok, err = pcall(ev.wait, ev) end)
      tick()
      assert_no_running_task(ok, err)
    end))
  end)
end)
