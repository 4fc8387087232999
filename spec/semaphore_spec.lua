-- corral.Semaphore and corral.BoundedSemaphore: API.md §5, SEMANTICS.md
-- "Primitives", ported from CPython 3.13's Lib/test/test_asyncio/test_locks.py
-- (SemaphoreTests). Every test runs on the virtual clock; `tick()` is
-- `await asyncio.sleep(0)`.

local corral = require "corral"
local support = require "support"

local async, tick = support.async, support.tick
local assert_misuse, assert_cancelled = support.assert_misuse, support.assert_cancelled
local assert_no_running_task = support.assert_no_running_task

-- repr_is(obj, extra[, class]): tostring(obj) is "<corral.<class> 0x.. [<extra>]>",
-- class "Semaphore" by default.
local function repr_is(obj, extra, class)
  support.assert_repr(obj, class or "Semaphore", "[" .. extra .. "]")
end

-- c(n) for sem: a task body that acquires sem, appends n to result and
-- returns true.
local function acquirer(sem, result)
  return function(n)
    return function()
      sem:acquire()
      result[#result + 1] = n
      return true
    end
  end
end

describe("corral.Semaphore", function()
  describe("basics", function()
    -- test_repr
    it("repr shows [unlocked, value:N], or [locked] without the value", async(function()
      local sem = corral.Semaphore()
      repr_is(sem, "unlocked, value:1")
      sem:acquire()
      repr_is(sem, "locked")
      local a = corral.spawn(sem.acquire, sem)
      local b = corral.spawn(sem.acquire, sem)
      tick()
      repr_is(sem, "locked, waiters:2")
      sem:release()
      sem:release()
      a:await()
      b:await()
      repr_is(sem, "locked")
    end))

    it("repr of Semaphore(2) counts down the value", async(function()
      local sem = corral.Semaphore(2)
      repr_is(sem, "unlocked, value:2")
      sem:acquire()
      repr_is(sem, "unlocked, value:1")
      sem:acquire()
      repr_is(sem, "locked")
      sem:release()
      sem:release()
      sem:release()
      repr_is(sem, "unlocked, value:3")
    end))

    -- test_initial_value_zero
    it("Semaphore(0) is locked", function()
      local sem = corral.Semaphore(0)
      assert.is_true(sem:locked())
      repr_is(sem, "locked")
    end)

    it("acquire() returns the semaphore itself", async(function()
      local sem = corral.Semaphore(2)
      assert.is_true(rawequal(sem:acquire(), sem))
      assert.is_false(sem:locked())
      assert.is_true(rawequal(corral.spawn(sem.acquire, sem):await(), sem))
      assert.is_true(sem:locked())
    end))

    -- test_release_no_waiters
    it("release with no waiters unlocks (test_release_no_waiters)", async(function()
      local sem = corral.Semaphore()
      sem:acquire()
      assert.is_true(sem:locked())
      sem:release()
      assert.is_false(sem:locked())
    end))

    it("an unbounded semaphore may be released beyond its initial value", function()
      local sem = corral.Semaphore(1)
      sem:release()
      repr_is(sem, "unlocked, value:2")
    end)

    it("acquire on a free semaphore does not yield", async(function()
      local sem = corral.Semaphore(1)
      local events = {}
      corral.spawn(function() events[#events + 1] = "other" end)
      sem:acquire()
      events[#events + 1] = "acquired"
      tick()
      assert.are.same({ "acquired", "other" }, events)
    end))

    it("accepts a numeric string as the initial value", function()
      local sem = corral.Semaphore("2")
      repr_is(sem, "unlocked, value:2")
    end)
  end)

  describe("misuse", function()
    -- test_semaphore_value
    it("a negative initial value is an argument error", function()
      assert_misuse("bad argument #1 to 'Semaphore' (initial value must be >= 0)",
        function() return corral.Semaphore(-1) end)
      assert_misuse("bad argument #1 to 'BoundedSemaphore' (initial value must be >= 0)",
        function() return corral.BoundedSemaphore(-1) end)
    end)

    it("a non-numeric or NaN initial value is an argument error", function()
      for _, bad in ipairs({ "x", {} }) do
        local ok, err = pcall(function() return corral.Semaphore(bad) end)
        assert.is_false(ok)
        assert.is_string(err)
        assert.is_truthy(err:find("bad argument #1 to 'Semaphore'", 1, true), err)
      end
      local ok, err = pcall(function() return corral.Semaphore(0 / 0) end)
      assert.is_false(ok, "Semaphore(NaN) must be a misuse error")
      assert.is_string(err)
    end)
  end)

  describe("outside a task", function()
    it("acquire raises 'no running task' even when a unit is free", function()
      local sem = corral.Semaphore(1)
      assert_no_running_task(pcall(sem.acquire, sem))
      repr_is(sem, "unlocked, value:1")
      assert_no_running_task(pcall(sem.with, sem, function() end))
      repr_is(sem, "unlocked, value:1")
    end)

    it("release works in a call_soon callback and wakes a waiter", async(function()
      local sem = corral.Semaphore(0)
      local t = corral.spawn(sem.acquire, sem)
      tick()
      corral.call_soon(function() sem:release() end)
      assert.is_true(rawequal(t:await(), sem))
      repr_is(sem, "locked")
    end))
  end)

  describe("FIFO and the locked() rule", function()
    -- test_acquire
    it("queues acquirers once the value is used up (test_acquire)", async(function()
      local sem = corral.Semaphore(3)
      local result = {}

      assert.is_true(rawequal(sem:acquire(), sem))
      assert.is_true(rawequal(sem:acquire(), sem))
      assert.is_false(sem:locked())
      repr_is(sem, "unlocked, value:1")

      local c = acquirer(sem, result)
      local t1 = corral.spawn(c(1))
      local t2 = corral.spawn(c(2))
      local t3 = corral.spawn(c(3))

      tick()
      assert.are.same({ 1 }, result)
      assert.is_true(sem:locked())
      repr_is(sem, "locked, waiters:2")

      local t4 = corral.spawn(c(4))

      sem:release()
      sem:release()
      -- both units are reserved for t2 and t3
      repr_is(sem, "locked, waiters:2")

      tick()
      assert.are.same({ 1, 2, 3 }, result)
      assert.is_true(sem:locked())
      repr_is(sem, "locked, waiters:1")

      assert.is_true(t1:done())
      assert.is_true(t1:result())
      assert.is_true(t2:done())
      assert.is_true(t3:done())
      assert.is_false(t4:done())

      -- cleanup locked semaphore
      sem:release()
      corral.gather(t2, t3, t4)
      assert.are.same({ 1, 2, 3, 4 }, result)
      repr_is(sem, "locked")
    end))

    -- test_acquire_fifo_order
    it("hands units out in FIFO order (test_acquire_fifo_order)", async(function()
      local sem = corral.Semaphore(1)
      local result = {}
      local function coro(tag)
        sem:acquire()
        result[#result + 1] = tag .. "_1"
        corral.sleep(0.01)
        sem:release()

        sem:acquire()
        result[#result + 1] = tag .. "_2"
        corral.sleep(0.01)
        sem:release()
      end
      corral.group(function(g)
        g:spawn(coro, "c1")
        g:spawn(coro, "c2")
        g:spawn(coro, "c3")
      end)
      assert.are.same({ "c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2" }, result)
    end))

    -- test_acquire_fifo_order_2
    it("a task re-acquiring queues behind the others (test_acquire_fifo_order_2)",
      async(function()
        local sem = corral.Semaphore(1)
        local result = {}
        local function c1()
          sem:acquire()
          result[#result + 1] = 1
          return true
        end
        local function c2()
          sem:acquire()
          result[#result + 1] = 2
          sem:release()
          sem:acquire()
          result[#result + 1] = 4
          return true
        end
        local function c3()
          sem:acquire()
          result[#result + 1] = 3
          return true
        end
        local t1, t2, t3 = corral.spawn(c1), corral.spawn(c2), corral.spawn(c3)
        tick()
        sem:release()
        sem:release()
        corral.gather(t1, t2, t3)
        assert.are.same({ 1, 2, 3, 4 }, result)
      end))

    -- test_acquire_fifo_order_3
    it("skips a waiter cancelled before any release (test_acquire_fifo_order_3)",
      async(function()
        local sem = corral.Semaphore(0)
        local result = {}
        local c = acquirer(sem, result)
        local t1, t2, t3 = corral.spawn(c(1)), corral.spawn(c(2)), corral.spawn(c(3))
        tick()
        t1:cancel()
        tick()
        sem:release()
        sem:release()
        corral.gather({ t1, t2, t3 }, { return_exceptions = true })
        assert.are.same({ 2, 3 }, result)
        assert.is_true(t1:cancelled())
      end))

    it("locked() is true while a live waiter is queued, so a newcomer queues behind it",
      async(function()
        local sem = corral.Semaphore(0)
        local events = {}
        local t1 = corral.spawn(function()
          sem:acquire()
          events[#events + 1] = "t1"
        end)
        tick()
        sem:release()   -- reserves the unit for t1
        repr_is(sem, "locked, waiters:1")
        sem:release()   -- value 1, but t1 is still queued
        assert.is_true(sem:locked())
        repr_is(sem, "locked, waiters:1")
        corral.spawn(function() events[#events + 1] = "other" end)
        sem:acquire()
        events[#events + 1] = "main"
        repr_is(sem, "locked")
        t1:await()
        assert.are.same({ "t1", "other", "main" }, events)
      end))

    it("limits concurrency to the initial value (virtual time line)", async(function()
      local sem = corral.Semaphore(2)
      local events = {}
      local function access(n)
        local _ <close> = sem:acquire()
        events[#events + 1] = n .. " start " .. corral.now()
        corral.sleep(1)
        events[#events + 1] = n .. " end " .. corral.now()
      end
      local ts = {}
      for i = 1, 4 do ts[i] = corral.spawn(access, i) end
      corral.gather(ts)
      assert.are.same({
        "1 start 0", "2 start 0", "1 end 1", "2 end 1",
        "3 start 1", "4 start 1", "3 end 2", "4 end 2",
      }, (function()
        -- normalise "1.0" (float clock) to "1"
        local out = {}
        for i, e in ipairs(events) do out[i] = (e:gsub("(%d+)%.0$", "%1")) end
        return out
      end)())
      repr_is(sem, "unlocked, value:2")
    end))
  end)

  describe("cancellation", function()
    -- test_acquire_cancel
    it("a cancelled waiter raises CancelledError and leaves the queue", async(function()
      local sem = corral.Semaphore()
      sem:acquire()
      local acquire = corral.spawn(sem.acquire, sem)
      corral.call_soon(function() acquire:cancel() end)
      local ok, err = pcall(acquire.await, acquire)
      assert.is_false(ok)
      assert_cancelled(err)
      repr_is(sem, "locked")
    end))

    it("repr counts a cancelled waiter until it is removed; locked() ignores it",
      async(function()
        local sem = corral.Semaphore(1)
        sem:acquire()
        local t = corral.spawn(sem.acquire, sem)
        tick()
        repr_is(sem, "locked, waiters:1")
        t:cancel()
        repr_is(sem, "locked, waiters:1")
        sem:release()
        assert.is_false(sem:locked())
        repr_is(sem, "unlocked, value:1, waiters:1")
        tick()
        repr_is(sem, "unlocked, value:1")
        assert.is_true(t:cancelled())
      end))

    -- test_acquire_cancel_before_awoken
    it("release skips waiters already cancelled (test_acquire_cancel_before_awoken)",
      async(function()
        local sem = corral.Semaphore(0)
        local ts = {}
        for i = 1, 4 do ts[i] = corral.spawn(sem.acquire, sem) end
        tick()
        ts[1]:cancel()
        ts[2]:cancel()
        sem:release()
        repr_is(sem, "locked, waiters:4")
        tick()
        repr_is(sem, "locked, waiters:1")
        tick()
        local num_done = 0
        for i = 3, 4 do if ts[i]:done() then num_done = num_done + 1 end end
        assert.are.equal(1, num_done)
        assert.is_true(ts[3]:done())
        assert.is_false(ts[4]:done())
        assert.is_true(ts[1]:cancelled())
        assert.is_true(ts[2]:cancelled())

        ts[3]:cancel()
        ts[4]:cancel()
        tick()
        assert.is_true(ts[4]:cancelled())
      end))

    -- test_acquire_hang
    it("does not hang when the first waiter is cancelled (test_acquire_hang)",
      async(function()
        local sem = corral.Semaphore(0)
        local t1 = corral.spawn(sem.acquire, sem)
        local t2 = corral.spawn(sem.acquire, sem)
        tick()
        t1:cancel()
        sem:release()
        tick(2)
        assert.is_true(sem:locked())
        assert.is_true(t2:done())
        assert.is_true(t1:cancelled())
      end))

    -- test_acquire_no_hang
    it("a woken waiter cancelled before it runs gives its unit back (test_acquire_no_hang)",
      async(function()
        local sem = corral.Semaphore(1)
        local t1, t2
        local reached = false
        t1 = corral.spawn(function()
          do
            local _ <close> = sem:acquire()
            corral.sleep(0)
          end
          t2:cancel()
        end)
        t2 = corral.spawn(function()
          local _ <close> = sem:acquire()
          reached = true
        end)
        local r = corral.gather({ t1, t2 }, { return_exceptions = true })
        assert.is_nil(r[1])
        assert_cancelled(r[2])
        assert.is_false(reached)
        repr_is(sem, "unlocked, value:1")
        assert.is_true(rawequal(corral.wait_for(function() return sem:acquire() end, 1.0), sem))
      end))

    it("cancelling a woken waiter passes its unit to the next waiter", async(function()
      local sem = corral.Semaphore(0)
      local events = {}
      local function w(name)
        local ok, err = pcall(sem.acquire, sem)
        if not ok then
          events[#events + 1] = name .. " cancelled"
          error(err, 0)
        end
        events[#events + 1] = name
      end
      local t1 = corral.spawn(w, "t1")
      local t2 = corral.spawn(w, "t2")
      local t3 = corral.spawn(w, "t3")
      tick()
      sem:release()   -- reserves the unit for t1
      t1:cancel()
      repr_is(sem, "locked, waiters:3")
      tick()
      assert.are.same({ "t1 cancelled" }, events)
      repr_is(sem, "locked, waiters:2")
      tick()
      assert.are.same({ "t1 cancelled", "t2" }, events)
      repr_is(sem, "locked, waiters:1")
      assert.is_false(t3:done())
      sem:release()
      t3:await()
      assert.are.same({ "t1 cancelled", "t2", "t3" }, events)
    end))
  end)

  describe("<close> and with()", function()
    it("local _ <close> = sem:acquire() releases at scope end and on error", async(function()
      local sem = corral.Semaphore(1)
      do
        local guard <close> = sem:acquire()
        assert.is_true(rawequal(guard, sem))
        assert.is_true(sem:locked())
      end
      assert.is_false(sem:locked())
      local ok, err = pcall(function()
        local _ <close> = sem:acquire()
        error("boom", 0)
      end)
      assert.is_false(ok)
      assert.are.equal("boom", err)
      repr_is(sem, "unlocked, value:1")
    end))

    it("<close> releases when the holder is cancelled; the waiter gets the unit",
      async(function()
        local sem = corral.Semaphore(1)
        local events = {}
        local holder = corral.spawn(function()
          local _ <close> = sem:acquire()
          events[#events + 1] = "holder"
          corral.sleep(100)
        end)
        local waiter = corral.spawn(function()
          local _ <close> = sem:acquire()
          events[#events + 1] = "waiter"
        end)
        tick()
        holder:cancel()
        waiter:await()
        assert.is_true(holder:cancelled())
        assert.are.same({ "holder", "waiter" }, events)
        repr_is(sem, "unlocked, value:1")
        assert.are.equal(0, corral.now())
      end))

    it("with() returns fn's results, releases, re-raises errors", async(function()
      local sem = corral.Semaphore(1)
      local r = table.pack(sem:with(function(...)
        assert.is_true(sem:locked())
        return ...
      end, 1, nil, 3))
      assert.are.same({ n = 3, 1, nil, 3 }, r)
      repr_is(sem, "unlocked, value:1")
      local e = {}
      local ok, err = pcall(sem.with, sem, function() error(e) end)
      assert.is_false(ok)
      assert.is_true(rawequal(e, err))
      repr_is(sem, "unlocked, value:1")
    end))
  end)
end)

describe("corral.BoundedSemaphore", function()
  -- test_release_not_acquired
  it("release beyond the initial value is a misuse error", async(function()
    local sem = corral.BoundedSemaphore()
    assert_misuse("BoundedSemaphore released too many times", sem.release, sem)
    repr_is(sem, "unlocked, value:1", "BoundedSemaphore")
  end))

  it("allows release back up to the initial value, then errors", async(function()
    local sem = corral.BoundedSemaphore(2)
    repr_is(sem, "unlocked, value:2", "BoundedSemaphore")
    assert.is_true(rawequal(sem:acquire(), sem))
    sem:acquire()
    repr_is(sem, "locked", "BoundedSemaphore")
    sem:release()
    sem:release()
    repr_is(sem, "unlocked, value:2", "BoundedSemaphore")
    assert_misuse("BoundedSemaphore released too many times", function() sem:release() end)
    repr_is(sem, "unlocked, value:2", "BoundedSemaphore")
  end))

  it("release works outside a task (and still checks the bound)", function()
    local sem = corral.BoundedSemaphore(0)
    assert.is_true(sem:locked())
    assert_misuse("BoundedSemaphore released too many times", sem.release, sem)
  end)

  it("behaves like a Semaphore for waiters", async(function()
    local sem = corral.BoundedSemaphore(1)
    local order = {}
    local ts = {}
    for i = 1, 3 do
      ts[i] = corral.spawn(sem.with, sem, function()
        order[#order + 1] = i
        tick()
      end)
    end
    corral.gather(ts)
    assert.are.same({ 1, 2, 3 }, order)
    repr_is(sem, "unlocked, value:1", "BoundedSemaphore")
    assert_misuse("BoundedSemaphore released too many times", sem.release, sem)
  end))

  it("<close> works with a BoundedSemaphore", async(function()
    local sem = corral.BoundedSemaphore(1)
    do
      local _ <close> = sem:acquire()
      assert.is_true(sem:locked())
    end
    assert.is_false(sem:locked())
  end))
end)
