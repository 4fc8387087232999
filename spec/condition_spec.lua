-- corral.Condition: API.md §5, SEMANTICS.md "Primitives", ported from
-- CPython 3.13's Lib/test/test_asyncio/test_locks.py (ConditionTests).
-- Every test runs on the virtual clock; `tick()` is `await asyncio.sleep(0)`.

local corral = require "corral"
local support = require "support"

local async, tick = support.async, support.tick
local assert_misuse, assert_cancelled = support.assert_misuse, support.assert_cancelled
local assert_no_running_task = support.assert_no_running_task
local repr_is = support.repr_checker("Condition")

-- c(n) for cond: a task body that waits on cond, and once notified appends
-- n to result and releases; it returns true.
local function notified_appender(cond, result)
  return function(n)
    return function()
      cond:acquire()
      if cond:wait() then
        result[#result + 1] = n
        cond:release()
      end
      return true
    end
  end
end

describe("corral.Condition", function()
  describe("basics", function()
    -- test_repr
    it("repr shows the lock state and the condition's waiters", async(function()
      local cond = corral.Condition()
      repr_is(cond, "unlocked")
      local function w() cond:acquire(); cond:wait(); cond:release() end
      local a = corral.spawn(w)
      local b = corral.spawn(w)
      tick()
      repr_is(cond, "unlocked, waiters:2")
      cond:acquire()
      repr_is(cond, "locked, waiters:2")
      cond:notify_all()
      repr_is(cond, "locked, waiters:2")
      cond:release()
      a:await()
      b:await()
      repr_is(cond, "unlocked")
    end))

    it("acquire() returns the condition itself; release() unlocks", async(function()
      local cond = corral.Condition()
      assert.is_false(cond:locked())
      assert.is_true(rawequal(cond:acquire(), cond))
      assert.is_true(cond:locked())
      repr_is(cond, "locked")
      cond:release()
      assert.is_false(cond:locked())
    end))

    -- test_context_manager
    it("local _ <close> = cond:acquire() releases at scope end", async(function()
      local cond = corral.Condition()
      do
        local guard <close> = cond:acquire()
        assert.is_true(rawequal(guard, cond))
        assert.is_true(cond:locked())
      end
      assert.is_false(cond:locked())
    end))

    it("<close> releases when an error unwinds", async(function()
      local cond = corral.Condition()
      local ok, err = pcall(function()
        local _ <close> = cond:acquire()
        error("boom", 0)
      end)
      assert.is_false(ok)
      assert.are.equal("boom", err)
      assert.is_false(cond:locked())
    end))

    it("with() returns fn's results and releases; re-raises fn's error", async(function()
      local cond = corral.Condition()
      local r = table.pack(cond:with(function(a, b)
        assert.is_true(cond:locked())
        return b, a, nil
      end, "x", "y"))
      assert.are.same({ n = 3, "y", "x", nil }, r)
      assert.is_false(cond:locked())

      local e = {}
      local ok, err = pcall(cond.with, cond, function() error(e) end)
      assert.is_false(ok)
      assert.is_true(rawequal(e, err))
      assert.is_false(cond:locked())
    end))

    it("with() lets fn wait on the condition", async(function()
      local cond = corral.Condition()
      local ready = false
      local t = corral.spawn(cond.with, cond, function()
        return cond:wait_for(function() return ready and "ready" end)
      end)
      tick()
      cond:with(function() ready = true; cond:notify() end)
      assert.are.equal("ready", t:await())
      assert.is_false(cond:locked())
    end))

    -- test_explicit_lock
    it("shares an explicit lock (test_explicit_lock)", async(function()
      local function f(lock, cond)
        lock = lock or corral.Lock()
        cond = cond or corral.Condition(lock)
        assert.is_false(lock:locked())
        assert.is_false(cond:locked())
        do
          local _ <close> = cond:acquire()
          assert.is_true(lock:locked())
          assert.is_true(cond:locked())
        end
        assert.is_false(lock:locked())
        assert.is_false(cond:locked())
        do
          local _ <close> = lock:acquire()
          assert.is_true(lock:locked())
          assert.is_true(cond:locked())
        end
        assert.is_false(lock:locked())
        assert.is_false(cond:locked())
      end
      f()
      f(corral.Lock())
      local lock = corral.Lock()
      f(lock, corral.Condition(lock))
    end))

    it("a lock held through the Lock object allows wait and notify", async(function()
      local lock = corral.Lock()
      local cond = corral.Condition(lock)
      local t = corral.spawn(function()
        lock:acquire()
        local r = cond:wait()
        assert.is_true(lock:locked())
        lock:release()
        return r
      end)
      tick()
      assert.is_false(lock:locked())
      lock:acquire()
      cond:notify()
      lock:release()
      assert.is_true(t:await())
    end))

    it("rejects a lock argument that is not a corral.Lock", function()
      local ok, err = pcall(function() return corral.Condition({}) end)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find("bad argument #1 to 'Condition'", 1, true),
        "got " .. tostring(err))
    end)
  end)

  describe("wait", function()
    -- test_wait
    it("notify wakes in FIFO order; woken tasks re-acquire the lock (test_wait)",
      async(function()
        local cond = corral.Condition()
        local result = {}
        local function c(n)
          return function()
            cond:acquire()
            if cond:wait() then result[#result + 1] = n end
            return true
          end
        end
        local t1 = corral.spawn(c(1))
        local t2 = corral.spawn(c(2))
        local t3 = corral.spawn(c(3))

        tick()
        assert.are.same({}, result)
        assert.is_false(cond:locked())
        repr_is(cond, "unlocked, waiters:3")

        assert.is_true(rawequal(cond:acquire(), cond))
        cond:notify()
        repr_is(cond, "locked, waiters:3")
        tick()
        assert.are.same({}, result)
        assert.is_true(cond:locked())
        repr_is(cond, "locked, waiters:2")

        cond:release()
        tick()
        assert.are.same({ 1 }, result)
        assert.is_true(cond:locked())

        cond:notify(2)
        tick()
        assert.are.same({ 1 }, result)
        assert.is_true(cond:locked())
        repr_is(cond, "locked")

        cond:release()
        tick()
        assert.are.same({ 1, 2 }, result)
        assert.is_true(cond:locked())

        cond:release()
        tick()
        assert.are.same({ 1, 2, 3 }, result)
        assert.is_true(cond:locked())

        for _, t in ipairs({ t1, t2, t3 }) do
          assert.is_true(t:done())
          assert.is_true(t:result())
        end
      end))

    it("wait() returns exactly true", async(function()
      local cond = corral.Condition()
      local t = corral.spawn(function()
        local _ <close> = cond:acquire()
        return table.pack(cond:wait())
      end)
      tick()
      cond:with(cond.notify, cond)
      assert.are.same({ n = 1, true }, t:await())
    end))

    it("wait() releases the lock while waiting", async(function()
      local cond = corral.Condition()
      local events = {}
      local t = corral.spawn(function()
        local _ <close> = cond:acquire()
        events[#events + 1] = "t waits"
        cond:wait()
        events[#events + 1] = "t woke, locked=" .. tostring(cond:locked())
      end)
      tick()
      events[#events + 1] = "locked=" .. tostring(cond:locked())
      corral.spawn(function() events[#events + 1] = "other" end)
      cond:acquire()   -- free, nobody queued on the lock: no yield
      events[#events + 1] = "main acquired"
      cond:notify()
      tick()
      repr_is(cond, "locked")
      cond:release()
      t:await()
      assert.are.same({ "t waits", "locked=false", "main acquired", "other",
        "t woke, locked=true" }, events)
    end))

    -- test_wait_unacquired
    it("wait() without the lock is a misuse error", async(function()
      local cond = corral.Condition()
      assert_misuse("cannot wait on un-acquired lock", cond.wait, cond)
      assert.is_false(cond:locked())
    end))

    it("wait() in a call_soon callback raises 'no running task' and keeps the lock",
      async(function()
        local cond = corral.Condition()
        cond:acquire()
        local ok, err
        corral.call_soon(function() ok, err = pcall(cond.wait, cond) end)
        tick()
        assert_no_running_task(ok, err)
        assert.is_true(cond:locked())
        repr_is(cond, "locked")
        cond:release()
      end))

    -- test_timeout_in_block
    it("a timeout around wait() raises TimeoutError with the lock held again",
      async(function()
        local cond = corral.Condition()
        local _ <close> = cond:acquire()
        local ok, err = pcall(corral.wait_for, function() return cond:wait() end, 0.5)
        assert.is_false(ok)
        assert.is_true(corral.is_error(err, "TimeoutError"), tostring(err))
        assert.is_true(cond:locked())
        assert.are.equal(0.5, corral.now())
        repr_is(cond, "locked")
      end))
  end)

  describe("wait_for", function()
    -- test_wait_for
    it("waits until the predicate is true (test_wait_for)", async(function()
      local cond = corral.Condition()
      local presult = false
      local function predicate() return presult end
      local result = {}

      local t = corral.spawn(function()
        cond:acquire()
        if cond:wait_for(predicate) then
          result[#result + 1] = 1
          cond:release()
        end
        return true
      end)

      tick()
      assert.are.same({}, result)

      cond:acquire()
      cond:notify()
      cond:release()
      tick()
      assert.are.same({}, result)

      presult = true
      cond:acquire()
      cond:notify()
      cond:release()
      tick()
      assert.are.same({ 1 }, result)

      assert.is_true(t:done())
      assert.is_true(t:result())
    end))

    -- test_wait_for_unacquired
    it("returns a true predicate at once, even without the lock", async(function()
      local cond = corral.Condition()
      local value = { 1, 2, 3 }
      local res = cond:wait_for(function() return value end)
      assert.is_true(rawequal(value, res))
      assert_misuse("cannot wait on un-acquired lock", cond.wait_for, cond,
        function() return false end)
    end))

    it("does not yield when the predicate is already true", async(function()
      local cond = corral.Condition()
      local events = {}
      local _ <close> = cond:acquire()
      corral.spawn(function() events[#events + 1] = "other" end)
      assert.are.equal("yes", cond:wait_for(function() return "yes" end))
      events[#events + 1] = "main"
      tick()
      assert.are.same({ "main", "other" }, events)
    end))

    it("an error raised by the predicate propagates with the lock still held",
      async(function()
        local cond = corral.Condition()
        local _ <close> = cond:acquire()
        local e = {}
        local ok, err = pcall(cond.wait_for, cond, function() error(e) end)
        assert.is_false(ok)
        assert.is_true(rawequal(e, err))
        assert.is_true(cond:locked())
        repr_is(cond, "locked")
      end))

    it("returns the predicate's last value, checking it first and after each wakeup",
      async(function()
        local cond = corral.Condition()
        local calls = {}
        local state = nil
        local function pred()
          calls[#calls + 1] = tostring(state)
          return state
        end
        local t = corral.spawn(function()
          local _ <close> = cond:acquire()
          return cond:wait_for(pred)
        end)
        tick()
        cond:with(cond.notify, cond)
        tick(2)
        state = false
        cond:with(cond.notify, cond)
        tick(2)
        state = 42
        cond:with(cond.notify, cond)
        assert.are.equal(42, t:await())
        assert.are.same({ "nil", "nil", "false", "42" }, calls)
      end))
  end)

  describe("notify", function()
    -- test_notify
    it("notify(n) wakes up to n waiters not already woken (test_notify)", async(function()
      local cond = corral.Condition()
      local result = {}
      local c = notified_appender(cond, result)
      local t1 = corral.spawn(c(1))
      local t2 = corral.spawn(c(2))
      local t3 = corral.spawn(c(3))

      tick()
      assert.are.same({}, result)

      cond:acquire()
      cond:notify(1)
      cond:release()
      tick()
      assert.are.same({ 1 }, result)

      cond:acquire()
      cond:notify(1)
      cond:notify(2048)
      cond:release()
      tick()
      assert.are.same({ 1, 2, 3 }, result)

      for _, t in ipairs({ t1, t2, t3 }) do
        assert.is_true(t:done())
        assert.is_true(t:result())
      end
    end))

    it("notify(0) wakes nobody; notify() defaults to one", async(function()
      local cond = corral.Condition()
      local result = {}
      for i = 1, 3 do
        corral.spawn(function()
          local _ <close> = cond:acquire()
          cond:wait()
          result[#result + 1] = i
        end)
      end
      tick()
      cond:with(cond.notify, cond, 0)
      tick(3)
      assert.are.same({}, result)
      cond:with(cond.notify, cond)
      tick(3)
      assert.are.same({ 1 }, result)
      cond:with(cond.notify_all, cond)
      tick(3)
      assert.are.same({ 1, 2, 3 }, result)
    end))

    -- test_notify_all
    it("notify_all wakes every waiter in order (test_notify_all)", async(function()
      local cond = corral.Condition()
      local result = {}
      local c = notified_appender(cond, result)
      local t1 = corral.spawn(c(1))
      local t2 = corral.spawn(c(2))

      tick()
      assert.are.same({}, result)

      cond:acquire()
      cond:notify_all()
      cond:release()
      tick()
      assert.are.same({ 1, 2 }, result)

      assert.is_true(t1:done())
      assert.is_true(t1:result())
      assert.is_true(t2:done())
      assert.is_true(t2:result())
    end))

    it("woken waiters re-acquire the lock one at a time, FIFO", async(function()
      local cond = corral.Condition()
      local order = {}
      local ts = {}
      for i = 1, 3 do
        ts[i] = corral.spawn(function()
          local _ <close> = cond:acquire()
          cond:wait()
          order[#order + 1] = i .. " in"
          tick()
          order[#order + 1] = i .. " out"
        end)
      end
      tick()
      cond:acquire()
      cond:notify_all()
      cond:release()
      for i = 1, 3 do ts[i]:await() end
      assert.are.same({ "1 in", "1 out", "2 in", "2 out", "3 in", "3 out" }, order)
    end))

    -- test_notify_unacquired, test_notify_all_unacquired
    it("notify and notify_all without the lock are misuse errors, anywhere", function()
      local cond = corral.Condition()
      assert_misuse("cannot notify on un-acquired lock", cond.notify, cond)
      assert_misuse("cannot notify on un-acquired lock", cond.notify, cond, 2)
      assert_misuse("cannot notify on un-acquired lock", cond.notify_all, cond)
    end)
  end)

  describe("cancellation", function()
    -- test_wait_cancel
    it("a cancelled waiter re-acquires the lock before raising (test_wait_cancel)",
      async(function()
        local cond = corral.Condition()
        cond:acquire()
        local wait = corral.spawn(cond.wait, cond)
        corral.call_soon(function() wait:cancel() end)
        local ok, err = pcall(wait.await, wait)
        assert.is_false(ok)
        assert_cancelled(err)
        repr_is(cond, "locked")
        assert.is_true(cond:locked())
      end))

    it("the CancelledError propagates only once the lock is held again", async(function()
      local cond = corral.Condition()
      local events = {}
      local t = corral.spawn(function()
        local _ <close> = cond:acquire()
        local ok, err = pcall(cond.wait, cond)
        events[#events + 1] = "t caught, locked=" .. tostring(cond:locked())
        error(err, 0)
      end)
      tick()
      cond:acquire()
      t:cancel()
      tick(3)
      -- t is waiting for the lock main holds
      assert.is_false(t:done())
      repr_is(cond, "locked")
      events[#events + 1] = "main release"
      cond:release()
      local ok, err = pcall(t.await, t)
      assert.is_false(ok)
      assert_cancelled(err)
      assert.are.same({ "main release", "t caught, locked=true" }, events)
      assert.is_false(cond:locked())
    end))

    -- test_wait_cancel_contested
    it("a notified waiter cancelled while re-acquiring still ends holding the lock",
      async(function()
        local cond = corral.Condition()
        cond:acquire()
        assert.is_true(cond:locked())

        local wait_task = corral.spawn(cond.wait, cond)
        tick()
        assert.is_false(cond:locked())

        cond:acquire()
        assert.is_true(cond:locked())
        cond:notify()
        corral.call_soon(function() wait_task:cancel() end)
        corral.call_soon(function() cond:release() end)

        local ok, err = pcall(wait_task.await, wait_task)
        assert.is_false(ok)
        assert_cancelled(err)
        assert.is_true(cond:locked())
      end))

    -- test_wait_cancel_after_notify (bpo-32841)
    it("cancelled after notify while the lock is contested (bpo-32841)", async(function()
      local waited = false
      local cond = corral.Condition()
      local waiter = corral.spawn(function()
        local _ <close> = cond:acquire()
        waited = true
        cond:wait()
      end)
      tick()             -- start waiting

      cond:acquire()
      cond:notify()
      tick()             -- waiter gets to acquire()
      waiter:cancel()
      tick()             -- activate the cancellation
      cond:release()
      tick()             -- the cancellation happens

      assert.is_true(waiter:cancelled())
      assert.is_true(waited)
      assert.is_false(cond:locked())
    end))

    -- The task waits on the condition until state.wake; cancel(cond, task, state)
    -- cancels it with "foo".
    for _, case in ipairs({
      -- test_cancelled_error_wakeup
      { "re-raises the same CancelledError when cancelled awaiting the wakeup",
        function(_, task)
          task:cancel("foo")
        end },
      -- test_cancelled_error_re_aquire
      { "re-raises the same CancelledError when cancelled re-acquiring the lock",
        function(cond, task, state)
          cond:acquire()
          state.wake = true
          cond:notify()
          tick()
          -- the task is now trying to re-acquire the lock: cancel it there
          task:cancel("foo")
          cond:release()
        end },
    }) do
      local name, cancel = case[1], case[2]
      it(name, async(function()
        local state = { wake = false }
        local raised
        local cond = corral.Condition()
        local task = corral.spawn(function()
          local _ <close> = cond:acquire()
          local ok, err = pcall(cond.wait_for, cond, function() return state.wake end)
          assert(not ok, "wait_for should have raised")
          raised = err
          error(err, 0)
        end)
        tick()
        cancel(cond, task, state)
        local ok, err = pcall(task.await, task)
        assert.is_false(ok)
        assert_cancelled(err)
        assert.are.equal("foo", err.message)
        assert.is_true(rawequal(raised, err))
        assert.is_false(cond:locked())
      end))
    end

    local function consumers_scenario(settle_before_cancel)
      return async(function()
        local cond = corral.Condition()
        local state = 0
        local function consumer()
          local _ <close> = cond:acquire()
          while true do
            cond:wait_for(function() return state ~= 0 end)
            if state < 0 then return end
            state = state - 1
          end
        end
        local c = { corral.spawn(consumer), corral.spawn(consumer) }
        tick()   -- let them settle
        do
          local _ <close> = cond:acquire()
          state = state + 1
          cond:notify(1)
          if settle_before_cancel then
            tick()  -- the woken consumer now waits to re-acquire the lock
          end
          c[1]:cancel()
          local ok, err = pcall(corral.timeout, 0.01, cond.wait_for, cond,
            function() return state == 0 end)
          assert(ok or corral.is_error(err, "TimeoutError"), tostring(err))
          assert.are.equal(0, state)
          state = -1
          cond:notify_all()
        end
        c[2]:await()
        assert.is_true(c[1]:cancelled())
      end)
    end

    -- test_cancelled_wakeup
    it("a waiter cancelled as it is notified passes the wakeup on (test_cancelled_wakeup)",
      consumers_scenario(false))

    -- test_cancelled_wakeup_relock
    it("a waiter cancelled while re-acquiring passes the wakeup on (..._relock)",
      consumers_scenario(true))

    it("a notified waiter cancelled before it runs passes its notification to the next",
      async(function()
        local cond = corral.Condition()
        local events = {}
        local function w(n)
          local _ <close> = cond:acquire()
          local ok, err = pcall(cond.wait, cond)
          if not ok then
            events[#events + 1] = n .. " cancelled, locked=" .. tostring(cond:locked())
            error(err, 0)
          end
          events[#events + 1] = n .. " woken"
        end
        local t1 = corral.spawn(w, 1)
        local t2 = corral.spawn(w, 2)
        local t3 = corral.spawn(w, 3)
        tick()
        cond:acquire()
        cond:notify(1)
        t1:cancel()
        repr_is(cond, "locked, waiters:3")
        cond:release()
        tick()
        assert.are.same({ "1 cancelled, locked=true" }, events)
        repr_is(cond, "unlocked, waiters:2")
        tick()
        assert.are.same({ "1 cancelled, locked=true", "2 woken" }, events)
        repr_is(cond, "unlocked, waiters:1")
        tick()
        assert.is_true(t1:cancelled())
        assert.is_true(t2:done())
        assert.is_false(t3:done())
        cond:with(cond.notify_all, cond)
        t3:await()
      end))

    it("any error leaving wait() passes one notification on (a spurious wakeup)",
      async(function()
        local cond = corral.Condition()
        local events = {}
        local function w(n)
          local _ <close> = cond:acquire()
          local ok, r = pcall(cond.wait, cond)
          if not ok then
            events[#events + 1] = n .. " cancelled, locked=" .. tostring(cond:locked())
            error(r, 0)
          end
          events[#events + 1] = n .. " woken " .. tostring(r)
        end
        local t1 = corral.spawn(w, 1)
        local t2 = corral.spawn(w, 2)
        local t3 = corral.spawn(w, 3)
        tick()
        repr_is(cond, "unlocked, waiters:3")
        t1:cancel()      -- never notified
        tick()
        assert.are.same({ "1 cancelled, locked=true" }, events)
        repr_is(cond, "unlocked, waiters:2")
        tick()
        assert.are.same({ "1 cancelled, locked=true", "2 woken true" }, events)
        repr_is(cond, "unlocked, waiters:1")
        tick(2)
        assert.is_false(t3:done())
        cond:with(cond.notify_all, cond)
        t3:await()
        assert.are.same({ "1 cancelled, locked=true", "2 woken true", "3 woken true" }, events)
      end))
  end)

  describe("outside a task", function()
    it("acquire and wait_for raise 'no running task' at top level", function()
      local cond = corral.Condition()
      assert_no_running_task(pcall(cond.acquire, cond))
      assert.is_false(cond:locked())
      assert_no_running_task(pcall(cond.wait_for, cond, function() return true end))
      assert_no_running_task(pcall(cond.with, cond, function() end))
    end)
  end)
end)
