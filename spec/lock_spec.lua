-- corral.Lock: API.md §5, SEMANTICS.md "Primitives", ported from CPython's
-- Lib/test/test_asyncio/test_locks.py (LockTests). Every test runs on the
-- virtual clock; `tick()` is `await asyncio.sleep(0)`.

local corral = require "corral"
local support = require "support"

local run, async, tick = support.vrun, support.async, support.tick
local assert_misuse, assert_cancelled = support.assert_misuse, support.assert_cancelled
local assert_no_running_task = support.assert_no_running_task
local repr_is = support.repr_checker("Lock")

describe("corral.Lock", function()
  describe("basics", function()
    it("is created unlocked and repr shows [unlocked]", async(function()
      local lock = corral.Lock()
      assert.is_false(lock:locked())
      repr_is(lock, "unlocked")
    end))

    it("acquire() returns the lock itself and locks it", async(function()
      local lock = corral.Lock()
      local got = lock:acquire()
      assert.is_true(rawequal(got, lock))
      assert.is_true(lock:locked())
      repr_is(lock, "locked")
      lock:release()
      assert.is_false(lock:locked())
      repr_is(lock, "unlocked")
    end))

    it("acquire() called through a spawned task returns the lock as the task result",
      async(function()
        local lock = corral.Lock()
        local t = corral.spawn(lock.acquire, lock)
        local got = t:await()
        assert.is_true(rawequal(got, lock))
        assert.is_true(lock:locked())
      end))

    it("release with no waiters unlocks (test_release_no_waiters)", async(function()
      local lock = corral.Lock()
      lock:acquire()
      assert.is_true(lock:locked())
      lock:release()
      assert.is_false(lock:locked())
    end))

    it("acquire on a free lock does not yield", async(function()
      local lock = corral.Lock()
      local events = {}
      corral.spawn(function() events[#events + 1] = "other task" end)
      lock:acquire()
      events[#events + 1] = "acquired"
      tick()
      assert.are.same({ "acquired", "other task" }, events)
      lock:release()
    end))

    it("any task may release (no owner check)", async(function()
      local lock = corral.Lock()
      corral.spawn(lock.acquire, lock):await()
      assert.is_true(lock:locked())
      lock:release()
      assert.is_false(lock:locked())
    end))
  end)

  describe("misuse", function()
    it("release of an unlocked lock raises 'Lock is not acquired.'", async(function()
      local lock = corral.Lock()
      assert_misuse("Lock is not acquired.", lock.release, lock)
      assert.is_false(lock:locked())
    end))

    it("a second release raises 'Lock is not acquired.'", async(function()
      local lock = corral.Lock()
      lock:acquire()
      lock:release()
      assert_misuse("Lock is not acquired.", function() lock:release() end)
    end))

    it("release works (and checks) outside any task", function()
      local lock = corral.Lock()
      assert_misuse("Lock is not acquired.", lock.release, lock)
    end)
  end)

  describe("outside a task", function()
    it("acquire at top level raises 'no running task' even though the lock is free", function()
      local lock = corral.Lock()
      assert_no_running_task(pcall(lock.acquire, lock))
      assert.is_false(lock:locked())
      repr_is(lock, "unlocked")
    end)

    it("with() at top level raises 'no running task' and never calls fn", function()
      local lock = corral.Lock()
      local called = false
      assert_no_running_task(pcall(lock.with, lock, function() called = true end))
      assert.is_false(called)
      assert.is_false(lock:locked())
    end)

    it("acquire in a call_soon callback raises 'no running task'; release works there",
      async(function()
        local lock = corral.Lock()
        lock:acquire()
        local results = {}
        local waiter = corral.spawn(function()
          lock:acquire()
          results[#results + 1] = "waiter got the lock"
          lock:release()
        end)
        tick()
        local ok, err
        corral.call_soon(function()
          ok, err = pcall(lock.acquire, lock)
          lock:release()
        end)
        waiter:await()
        assert_no_running_task(ok, err)
        assert.are.same({ "waiter got the lock" }, results)
        assert.is_false(lock:locked())
      end))
  end)

  describe("FIFO and fairness", function()
    -- test_acquire
    it("wakes waiters in FIFO order, one per release", async(function()
      local lock = corral.Lock()
      local result = {}
      assert.is_true(rawequal(lock:acquire(), lock))

      local function c(n)
        return function()
          if lock:acquire() then result[#result + 1] = n end
          return true
        end
      end

      local t1 = corral.spawn(c(1))
      local t2 = corral.spawn(c(2))

      tick()
      assert.are.same({}, result)

      lock:release()
      tick()
      assert.are.same({ 1 }, result)

      tick()
      assert.are.same({ 1 }, result)

      local t3 = corral.spawn(c(3))

      lock:release()
      tick()
      assert.are.same({ 1, 2 }, result)

      lock:release()
      tick()
      assert.are.same({ 1, 2, 3 }, result)

      for _, t in ipairs({ t1, t2, t3 }) do
        assert.is_true(t:done())
        assert.is_true(t:result())
      end
    end))

    it("a newcomer cannot barge past a woken waiter", async(function()
      local lock = corral.Lock()
      local events = {}
      lock:acquire()
      local t1 = corral.spawn(function()
        lock:acquire()
        events[#events + 1] = "t1"
        tick()
        lock:release()
      end)
      tick()
      lock:release()
      -- t1 is woken but has not run yet: the lock is free, its entry queued.
      assert.is_false(lock:locked())
      repr_is(lock, "unlocked, waiters:1")
      lock:acquire()
      events[#events + 1] = "main"
      lock:release()
      t1:await()
      assert.are.same({ "t1", "main" }, events)
    end))

    it("repr counts waiters still queued, including woken ones", async(function()
      local lock = corral.Lock()
      lock:acquire()
      local a = corral.spawn(function() lock:acquire(); lock:release() end)
      local b = corral.spawn(function() lock:acquire(); lock:release() end)
      tick()
      repr_is(lock, "locked, waiters:2")
      lock:release()
      repr_is(lock, "unlocked, waiters:2")
      a:await()
      b:await()
      repr_is(lock, "unlocked")
    end))
  end)

  describe("cancellation", function()
    -- test_acquire_cancel
    it("a cancelled waiter raises CancelledError and leaves the queue", async(function()
      local lock = corral.Lock()
      assert.is_true(rawequal(lock:acquire(), lock))
      local task = corral.spawn(lock.acquire, lock)
      corral.call_soon(function() task:cancel() end)
      local ok, err = pcall(task.await, task)
      assert.is_false(ok)
      assert_cancelled(err)
      assert.is_true(task:cancelled())
      repr_is(lock, "locked")
    end))

    it("repr counts a cancelled waiter until it is removed", async(function()
      local lock = corral.Lock()
      lock:acquire()
      local t1 = corral.spawn(lock.acquire, lock)
      local t2 = corral.spawn(lock.acquire, lock)
      tick()
      repr_is(lock, "locked, waiters:2")
      t1:cancel()
      repr_is(lock, "locked, waiters:2")
      tick()
      repr_is(lock, "locked, waiters:1")
      lock:release()
      repr_is(lock, "unlocked, waiters:1")
      tick()
      repr_is(lock, "locked")
      assert.is_true(t1:cancelled())
      assert.is_true(t2:done())
      lock:release()
    end))

    -- test_cancel_race
    it("release skips a waiter cancelled at the same time (test_cancel_race)", async(function()
      local lock = corral.Lock()
      local function lockit(blocker)
        lock:acquire()
        local _ <close> = setmetatable({}, { __close = function() lock:release() end })
        if blocker then blocker:await() end
      end

      local fa = corral.Future()
      local ta = corral.spawn(lockit, fa)
      tick()
      assert.is_true(lock:locked())
      local tb = corral.spawn(lockit, nil)
      tick()
      repr_is(lock, "locked, waiters:1")
      local tc = corral.spawn(lockit, nil)
      tick()
      repr_is(lock, "locked, waiters:2")

      fa:set_result(nil)
      tb:cancel()
      tick()
      assert.is_false(lock:locked())
      assert.is_true(ta:done())
      assert.is_true(tb:cancelled())
      -- C was woken by B's cancellation and has not run yet.
      assert.is_false(tc:done())
      repr_is(lock, "unlocked, waiters:1")
      tc:await()
      repr_is(lock, "unlocked")
    end))

    -- test_cancel_release_race (bpo-32734)
    it("cancel + release at once lets exactly one waiter take the lock", async(function()
      local lock = corral.Lock()
      local lock_count, call_count = 0, 0
      local order = {}
      local t1, t2, t3
      local function lockit(n)
        call_count = call_count + 1
        lock:acquire()
        lock_count = lock_count + 1
        order[#order + 1] = n
      end
      local function trigger()
        t1:cancel()
        lock:release()
      end

      lock:acquire()
      t1 = corral.spawn(lockit, 1)
      t2 = corral.spawn(lockit, 2)
      t3 = corral.spawn(lockit, 3)
      tick()

      corral.call_soon(trigger)
      local ok, err = pcall(t1.await, t1)
      assert.is_false(ok)
      assert_cancelled(err)

      assert.are.equal(1, lock_count)
      assert.are.equal(3, call_count)
      assert.are.same({ 2 }, order)
      assert.is_true(t1:cancelled())
      assert.is_true(t2:done())
      repr_is(lock, "locked, waiters:1")

      t3:cancel()
      tick()
      assert.is_true(t3:cancelled())
      repr_is(lock, "locked")
    end))

    -- test_finished_waiter_cancelled
    it("a newcomer takes a free lock when every queued waiter is cancelled", async(function()
      local lock = corral.Lock()
      lock:acquire()
      assert.is_true(lock:locked())

      local tb = corral.spawn(lock.acquire, lock)
      tick()
      repr_is(lock, "locked, waiters:1")

      local tc = corral.spawn(lock.acquire, lock)
      tb:cancel()
      lock:release()
      tick()

      assert.is_true(lock:locked())
      assert.is_true(tb:cancelled())
      assert.is_true(tc:done())
      assert.is_true(rawequal(tc:await(), lock))
    end))

    it("a newcomer facing only cancelled waiters acquires without yielding", async(function()
      local lock = corral.Lock()
      local events = {}
      lock:acquire()
      local t1 = corral.spawn(lock.acquire, lock)
      tick()
      t1:cancel()
      lock:release()
      corral.spawn(function() events[#events + 1] = "other" end)
      lock:acquire()
      events[#events + 1] = "main acquired"
      repr_is(lock, "locked, waiters:1")
      tick()
      assert.are.same({ "main acquired", "other" }, events)
      assert.is_true(t1:cancelled())
      repr_is(lock, "locked")
      lock:release()
    end))

    it("cancelling a woken waiter passes the lock to the next waiter", async(function()
      local lock = corral.Lock()
      local events = {}
      lock:acquire()
      local function w(name)
        local ok, err = pcall(lock.acquire, lock)
        if not ok then
          events[#events + 1] = name .. " cancelled"
          error(err, 0)
        end
        events[#events + 1] = name
        lock:release()
      end
      local t1 = corral.spawn(w, "t1")
      local t2 = corral.spawn(w, "t2")
      tick()
      repr_is(lock, "locked, waiters:2")
      lock:release()   -- wakes t1
      t1:cancel()      -- ... which is cancelled before it runs
      repr_is(lock, "unlocked, waiters:2")
      tick()
      assert.are.same({ "t1 cancelled" }, events)
      repr_is(lock, "unlocked, waiters:1")
      tick()
      assert.are.same({ "t1 cancelled", "t2" }, events)
      repr_is(lock, "unlocked")
      assert.is_true(t1:cancelled())
      assert.is_true(t2:done())
      assert.is_false(t2:cancelled())
    end))
  end)

  describe("deadlock and nesting", function()
    it("a main task blocked forever on a lock gets DeadlockError naming it", function()
      local ok, err = pcall(run, function()
        local lock = corral.Lock()
        lock:acquire()
        lock:acquire()
      end)
      assert.is_false(ok)
      assert.is_true(corral.is_error(err, "DeadlockError"), tostring(err))
      assert.is_truthy(err.message:find("Task-1", 1, true), err.message)
      assert.is_truthy(err.message:lower():find("lock", 1, true), err.message)
    end)

    it("acquire inside a coroutine.wrap iterator suspends the whole task", async(function()
      local lock = corral.Lock()
      local events = {}
      lock:acquire()
      local t = corral.spawn(function()
        local gen = coroutine.wrap(function()
          coroutine.yield("first")
          lock:acquire()
          events[#events + 1] = "acquired in generator"
          coroutine.yield("second")
        end)
        local v = gen()
        events[#events + 1] = v
        v = gen()
        events[#events + 1] = v
        lock:release()
      end)
      tick()
      assert.are.same({ "first" }, events)
      assert.is_false(t:done())
      events[#events + 1] = "main releases"
      lock:release()
      t:await()
      assert.are.same({ "first", "main releases", "acquired in generator", "second" }, events)
      assert.is_false(lock:locked())
    end))
  end)

  describe("<close>", function()
    -- test_context_manager
    it("local _ <close> = lock:acquire() releases at scope end", async(function()
      local lock = corral.Lock()
      assert.is_false(lock:locked())
      do
        local guard <close> = lock:acquire()
        assert.is_true(rawequal(guard, lock))
        assert.is_true(lock:locked())
      end
      assert.is_false(lock:locked())
    end))

    it("releases when an error unwinds the scope", async(function()
      local lock = corral.Lock()
      local boom = setmetatable({}, { __tostring = function() return "boom" end })
      local ok, err = pcall(function()
        local _ <close> = lock:acquire()
        assert.is_true(lock:locked())
        error(boom)
      end)
      assert.is_false(ok)
      assert.is_true(rawequal(err, boom))
      assert.is_false(lock:locked())
    end))

    it("releases when the holding task is cancelled, and the next waiter gets it",
      async(function()
        local lock = corral.Lock()
        local events = {}
        local holder = corral.spawn(function()
          local _ <close> = lock:acquire()
          events[#events + 1] = "holder acquired"
          corral.sleep(3600)
          events[#events + 1] = "holder not cancelled"
        end)
        local waiter = corral.spawn(function()
          local _ <close> = lock:acquire()
          events[#events + 1] = "waiter acquired"
        end)
        tick()
        assert.is_true(lock:locked())
        holder:cancel()
        local ok, err = pcall(holder.await, holder)
        assert.is_false(ok)
        assert_cancelled(err)
        waiter:await()
        assert.are.same({ "holder acquired", "waiter acquired" }, events)
        assert.is_false(lock:locked())
        assert.are.equal(0, corral.now())
      end))

    it("a task cancelled while waiting in `local _ <close> = lock:acquire()` releases nothing",
      async(function()
        local lock = corral.Lock()
        lock:acquire()
        local reached = false
        local t = corral.spawn(function()
          local _ <close> = lock:acquire()
          reached = true
        end)
        tick()
        t:cancel()
        local ok, err = pcall(t.await, t)
        assert.is_false(ok)
        assert_cancelled(err)
        assert.is_false(reached)
        -- still held by main: the cancelled acquire left no <close> behind
        assert.is_true(lock:locked())
        repr_is(lock, "locked")
        lock:release()
      end))

    it("is released for tasks still holding it when corral.run finishes", function()
      local lock = corral.Lock()
      run(function()
        corral.spawn(function()
          local _ <close> = lock:acquire()
          corral.sleep(3600)
        end)
        tick()
        assert.is_true(lock:locked())
      end)
      assert.is_false(lock:locked())
    end)
  end)

  describe("with()", function()
    it("returns every result of fn, passes its arguments, holds the lock meanwhile",
      async(function()
        local lock = corral.Lock()
        local function fn(a, b)
          assert.is_true(lock:locked())
          return a + b, nil, "x"
        end
        local r = table.pack(lock:with(fn, 1, 2))
        assert.are.equal(3, r.n)
        assert.are.equal(3, r[1])
        assert.is_nil(r[2])
        assert.are.equal("x", r[3])
        assert.is_false(lock:locked())
      end))

    it("returns nothing when fn returns nothing", async(function()
      local lock = corral.Lock()
      assert.are.equal(0, select("#", lock:with(function() end)))
    end))

    it("releases on error and re-raises the same error value", async(function()
      local lock = corral.Lock()
      local e = {}
      local ok, err = pcall(lock.with, lock, function() error(e) end)
      assert.is_false(ok)
      assert.is_true(rawequal(e, err))
      assert.is_false(lock:locked())

      ok, err = pcall(lock.with, lock, function() error("plain", 0) end)
      assert.is_false(ok)
      assert.are.equal("plain", err)
      assert.is_false(lock:locked())
    end))

    it("waits for the lock in FIFO order and may suspend inside fn", async(function()
      local lock = corral.Lock()
      local events = {}
      lock:acquire()
      local function worker(name)
        return lock:with(function()
          events[#events + 1] = name .. " in"
          tick()
          events[#events + 1] = name .. " out"
          return name
        end)
      end
      local a = corral.spawn(worker, "a")
      local b = corral.spawn(worker, "b")
      tick()
      assert.are.same({}, events)
      lock:release()
      assert.are.equal("a", a:await())
      assert.are.equal("b", b:await())
      assert.are.same({ "a in", "a out", "b in", "b out" }, events)
      assert.is_false(lock:locked())
    end))

    it("a task cancelled while waiting in with() never runs fn", async(function()
      local lock = corral.Lock()
      local called = false
      lock:acquire()
      local t = corral.spawn(lock.with, lock, function() called = true end)
      tick()
      t:cancel()
      local ok, err = pcall(t.await, t)
      assert.is_false(ok)
      assert_cancelled(err)
      assert.is_false(called)
      assert.is_true(lock:locked())
      lock:release()
      assert.is_false(lock:locked())
    end))

    it("a task cancelled inside fn releases the lock", async(function()
      local lock = corral.Lock()
      local t = corral.spawn(lock.with, lock, function() corral.sleep(10) end)
      tick()
      assert.is_true(lock:locked())
      t:cancel()
      local ok, err = pcall(t.await, t)
      assert.is_false(ok)
      assert_cancelled(err)
      assert.is_false(lock:locked())
    end))
  end)
end)
