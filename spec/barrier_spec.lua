-- corral.Barrier: API.md §5, SEMANTICS.md "Primitives", ported from CPython
-- 3.13's Lib/test/test_asyncio/test_locks.py (BarrierTests). Arrival indices
-- are 1..parties where asyncio's are 0..parties-1. Every test runs on the
-- virtual clock; `tick()` is `await asyncio.sleep(0)`.

local corral = require "corral"
local support = require "support"

local async, tick, assert_cancelled = support.async, support.tick, support.assert_cancelled
local assert_no_running_task = support.assert_no_running_task
local repr_is = support.repr_checker("Barrier")

local function is_broken_error(err)
  return corral.is_error(err, "BrokenBarrierError")
end

-- A task body w(n) that waits on barrier and records "<n>: <index>", or
-- "<n>: broken" for a BrokenBarrierError, in events.
local function broken_recorder(barrier, events)
  return function(n)
    local ok, r = pcall(barrier.wait, barrier)
    if ok then
      events[#events + 1] = n .. ": " .. r
    elseif is_broken_error(r) then
      events[#events + 1] = n .. ": broken"
    else
      error(r, 0)
    end
  end
end

local function repr_has(obj, word)
  return tostring(obj):find(word, 1, true) ~= nil
end

-- Spawns n tasks running fn and returns them.
local function make_tasks(n, fn)
  local tasks = {}
  for i = 1, n do tasks[i] = corral.spawn(fn) end
  return tasks
end

-- Spawns n tasks running fn and gathers them: returns the results array.
local function gather_tasks(n, fn)
  return corral.gather(make_tasks(n, fn))
end

local function sorted(t)
  local c = {}
  for i = 1, #t do c[i] = t[i] end
  table.sort(c)
  return c
end

local function range(n)
  local t = {}
  for i = 1, n do t[i] = i end
  return t
end

local function count(t, v)
  local c = 0
  for _, x in ipairs(t) do if x == v then c = c + 1 end end
  return c
end

local N = 5

-- The body of the abort tests (test_abort_barrier_when_exception...): waits
-- on barrier twice and appends true to passed; the middle arrival raises
-- instead and aborts the barrier, the others then append true to broken.
local function pass_or_abort(barrier, passed, broken)
  local boom = {}
  local ok, err = pcall(function()
    local i = barrier:wait()
    if i == N // 2 + 1 then error(boom) end
    barrier:wait()
    passed[#passed + 1] = true
  end)
  if not ok then
    if is_broken_error(err) then
      broken[#broken + 1] = true
    elseif rawequal(err, boom) then
      barrier:abort()
    else
      error(err, 0)
    end
  end
end

describe("corral.Barrier", function()
  describe("basics", function()
    -- test_barrier, test_barrier_parties
    it("is created filling, with parties(), n_waiting() and broken()", function()
      local barrier = corral.Barrier(N)
      repr_is(barrier, "filling, waiters:0/5")
      assert.are.equal(N, barrier:parties())
      assert.are.equal(0, barrier:n_waiting())
      assert.is_false(barrier:broken())
    end)

    it("parties must be > 0 (an argument error)", function()
      for _, bad in ipairs({ 0, -4 }) do
        local ok, err = pcall(function() return corral.Barrier(bad) end)
        assert.is_false(ok)
        assert.is_string(err)
        local a = "bad argument #1 to 'Barrier' (parties must be > 0)"
        local b = "bad argument #1 to 'Barrier' (parties must be >= 1)"
        assert(err:sub(-#a) == a or err:sub(-#b) == b,
          "expected " .. a .. ", got " .. err)
      end
    end)

    it("parties must be a number", function()
      for _, bad in ipairs({ "x", {} }) do
        local ok, err = pcall(function() return corral.Barrier(bad) end)
        assert.is_false(ok)
        assert.is_string(err)
        assert.is_truthy(err:find("bad argument #1 to 'Barrier'", 1, true), err)
      end
      local ok = pcall(function() return corral.Barrier() end)
      assert.is_false(ok)
    end)

    it("accepts a numeric string for parties", function()
      assert.are.equal(3, corral.Barrier("3"):parties())
    end)

    -- test_repr
    it("repr goes through filling, draining, resetting and broken (test_repr)",
      async(function()
        local barrier = corral.Barrier(N)
        repr_is(barrier, "filling, waiters:0/5")
        local waiters = {}
        local function wait() barrier:wait() end

        local incr = 2
        for _ = 1, incr do waiters[#waiters + 1] = corral.spawn(wait) end
        tick()
        repr_is(barrier, "filling, waiters:2/5")

        -- create the missing waiters
        for _ = 1, barrier:parties() - barrier:n_waiting() do
          waiters[#waiters + 1] = corral.spawn(wait)
        end
        tick()
        repr_is(barrier, "draining, waiters:0/5")

        -- add a part of the waiters
        for _ = 1, incr do waiters[#waiters + 1] = corral.spawn(wait) end
        tick()
        repr_is(barrier, "filling, waiters:2/5")
        -- and reset
        barrier:reset()
        repr_is(barrier, "resetting, waiters:0/5")

        -- add a part of the waiters again
        for _ = 1, incr do waiters[#waiters + 1] = corral.spawn(wait) end
        tick()
        repr_is(barrier, "filling, waiters:2/5")
        -- and abort
        barrier:abort()
        repr_is(barrier, "broken")
        assert.is_true(barrier:broken())

        local r = corral.gather(waiters, { return_exceptions = true })
        assert.are.equal(9, r.n)
        for i = 1, 5 do assert.is_nil(r[i]) end
        for i = 6, 9 do assert.is_true(is_broken_error(r[i]), tostring(r[i])) end
        repr_is(barrier, "broken")
      end))
  end)

  describe("filling and draining", function()
    it("returns each caller's arrival index, 1..parties", async(function()
      local barrier = corral.Barrier(4)
      local out = {}
      local tasks = {}
      for n = 1, 4 do
        tasks[n] = corral.spawn(function()
          local i = barrier:wait()
          out[#out + 1] = { n, i }
          local j = barrier:wait()
          return i, j
        end)
      end
      local second = {}
      for n = 1, 4 do
        local i, j = tasks[n]:await()
        assert.are.equal(n, i)   -- arrival order is spawn order
        second[n] = j
      end
      -- the last arrival passes first, without suspending
      assert.are.same({ 4, 4 }, out[1])
      assert.are.same(range(4), sorted(second))
      assert.are.equal(0, barrier:n_waiting())
      assert.is_false(barrier:broken())
    end))

    it("the last arrival passes without suspending and sees the barrier draining",
      async(function()
        local barrier = corral.Barrier(3)
        local events = {}
        local t1 = corral.spawn(barrier.wait, barrier)
        local t2 = corral.spawn(barrier.wait, barrier)
        tick()
        repr_is(barrier, "filling, waiters:2/3")
        corral.spawn(function() events[#events + 1] = "other" end)
        local i = barrier:wait()
        events[#events + 1] = "main"
        assert.are.equal(3, i)
        repr_is(barrier, "draining, waiters:0/3")
        assert.are.equal(0, barrier:n_waiting())
        tick()
        repr_is(barrier, "filling, waiters:0/3")
        assert.are.same({ "main", "other" }, events)
        assert.is_true(t1:done())
        assert.is_true(t2:done())
        assert.are.equal(1, t1:result())
        assert.are.equal(2, t2:result())
      end))

    -- test_context_manager
    it("gives the N parties the indices 1..N", async(function()
      local barrier = corral.Barrier(3)
      local results = {}
      gather_tasks(3, function()
        local i = barrier:wait()
        results[#results + 1] = i
      end)
      assert.are.same(range(3), sorted(results))
      assert.are.equal(0, barrier:n_waiting())
      assert.is_false(barrier:broken())
    end))

    -- test_filling_one_task
    it("a barrier of one passes at once (test_filling_one_task)", async(function()
      local barrier = corral.Barrier(1)
      local events = {}
      corral.spawn(function() events[#events + 1] = "other" end)
      assert.are.equal(1, barrier:wait())
      events[#events + 1] = "main"
      tick()
      assert.are.same({ "main", "other" }, events)
      assert.are.equal(0, barrier:n_waiting())
      assert.is_false(barrier:broken())
      repr_is(barrier, "filling, waiters:0/1")
    end))

    -- test_filling_one_task_twice
    it("a barrier of one passes twice (test_filling_one_task_twice)", async(function()
      local barrier = corral.Barrier(1)
      local t1 = corral.spawn(barrier.wait, barrier)
      tick()
      assert.are.equal(0, barrier:n_waiting())
      local t2 = corral.spawn(barrier.wait, barrier)
      tick()
      assert.are.equal(1, t1:result())
      assert.are.equal(1, t2:result())
      assert.are.equal(t1:done(), t2:done())
      assert.are.equal(0, barrier:n_waiting())
      assert.is_false(barrier:broken())
    end))

    -- test_filling_task_by_task
    it("counts the waiters as they arrive (test_filling_task_by_task)", async(function()
      local barrier = corral.Barrier(3)
      local t1 = corral.spawn(barrier.wait, barrier)
      tick()
      assert.are.equal(1, barrier:n_waiting())
      assert.is_true(repr_has(barrier, "filling"))

      local t2 = corral.spawn(barrier.wait, barrier)
      tick()
      assert.are.equal(2, barrier:n_waiting())
      assert.is_true(repr_has(barrier, "filling"))

      local t3 = corral.spawn(barrier.wait, barrier)
      tick()
      corral.wait({ t1, t2, t3 })

      assert.are.equal(0, barrier:n_waiting())
      assert.is_false(barrier:broken())
    end))

    -- test_filling_tasks_wait_twice
    it("can be passed twice by the same tasks (test_filling_tasks_wait_twice)",
      async(function()
        local barrier = corral.Barrier(N)
        local results = {}
        gather_tasks(N, function()
          barrier:wait()
          results[#results + 1] = true
          barrier:wait()
          results[#results + 1] = false
        end)
        assert.are.equal(N * 2, #results)
        assert.are.equal(N, count(results, true))
        assert.are.equal(N, count(results, false))
        assert.are.equal(0, barrier:n_waiting())
        assert.is_false(barrier:broken())
      end))

    -- test_filling_tasks_check_return_value
    it("returns fresh indices on the second pass (..._check_return_value)",
      async(function()
        local barrier = corral.Barrier(N)
        local results1, results2 = {}, {}
        local res = gather_tasks(N, function()
          barrier:wait()
          results1[#results1 + 1] = true
          local i = barrier:wait()
          results2[#results2 + 1] = true
          return i
        end)
        assert.are.equal(N, #results1)
        assert.are.equal(N, #results2)
        local idx = {}
        for k = 1, res.n do idx[k] = res[k] end
        assert.are.same(range(N), sorted(idx))
        assert.are.equal(0, barrier:n_waiting())
        assert.is_false(barrier:broken())
      end))

    -- test_draining_state
    it("stays draining until the last task leaves (test_draining_state)", async(function()
      local barrier = corral.Barrier(N)
      local results = {}
      gather_tasks(N, function()
        barrier:wait()
        -- the state flips back to filling as the last task leaves
        results[#results + 1] = repr_has(barrier, "draining")
      end)
      assert.are.same({ true, true, true, true, false }, results)
      assert.are.equal(0, barrier:n_waiting())
      assert.is_false(barrier:broken())
    end))

    -- test_blocking_tasks_while_draining
    it("blocks new arrivals while draining (test_blocking_tasks_while_draining)",
      async(function()
        local rewait = 2
        local barrier = corral.Barrier(N)
        local barrier_nowaiting = corral.Barrier(N - rewait)
        local rewait_n = rewait
        gather_tasks(N, function()
          -- first time waiting
          barrier:wait()
          -- after waiting once for all tasks
          if rewait_n > 0 then
            rewait_n = rewait_n - 1
            -- wait again only for the rewait tasks
            barrier:wait()
          else
            -- wait for the end of the draining state
            barrier_nowaiting:wait()
            -- wait for the other waiting tasks
            barrier:wait()
          end
        end)
        assert.are.equal(0, barrier:n_waiting())
        assert.are.equal(0, barrier_nowaiting:n_waiting())
      end))

    it("wait() raises 'no running task' outside a task; the queries work anywhere",
      function()
        local barrier = corral.Barrier(1)
        assert_no_running_task(pcall(barrier.wait, barrier))
        assert_no_running_task(pcall(barrier.reset, barrier))
        assert_no_running_task(pcall(barrier.abort, barrier))
        assert.is_false(barrier:broken())
        assert.are.equal(0, barrier:n_waiting())
        assert.are.equal(1, barrier:parties())
        repr_is(barrier, "filling, waiters:0/1")
      end)
  end)

  describe("cancellation", function()
    -- test_filling_tasks_cancel_one
    it("a cancelled waiter leaves the count (test_filling_tasks_cancel_one)",
      async(function()
        local barrier = corral.Barrier(3)
        local results = {}
        local function coro()
          barrier:wait()
          results[#results + 1] = true
        end

        local t1 = corral.spawn(coro)
        tick()
        assert.are.equal(1, barrier:n_waiting())

        local t2 = corral.spawn(coro)
        tick()
        assert.are.equal(2, barrier:n_waiting())

        t1:cancel()
        tick()
        assert.are.equal(1, barrier:n_waiting())
        repr_is(barrier, "filling, waiters:1/3")
        local ok, err = pcall(t1.await, t1)
        assert.is_false(ok)
        assert_cancelled(err)
        assert.is_true(t1:cancelled())

        local t3 = corral.spawn(coro)
        tick()
        assert.are.equal(2, barrier:n_waiting())

        local t4 = corral.spawn(coro)
        corral.gather(t2, t3, t4)

        assert.are.equal(3, #results)
        assert.are.equal(0, barrier:n_waiting())
        assert.is_false(barrier:broken())
      end))
  end)

  describe("cancellation while draining", function()
    it("a released waiter cancelled before it resumes still leaves the barrier reusable",
      async(function()
        local barrier = corral.Barrier(3)
        local events = {}
        local function w(n)
          local ok, r = pcall(barrier.wait, barrier)
          if not ok then
            events[#events + 1] = n .. ": " .. (corral.is_error(r) and r.type or tostring(r))
            error(r, 0)
          end
          events[#events + 1] = n .. ": " .. r
        end
        local t1 = corral.spawn(w, "t1")
        local t2 = corral.spawn(w, "t2")
        tick()
        assert.are.equal(3, barrier:wait())
        repr_is(barrier, "draining, waiters:0/3")
        t1:cancel()
        tick()
        assert.are.same({ "t1: CancelledError", "t2: 2" }, events)
        repr_is(barrier, "filling, waiters:0/3")
        assert.is_true(t1:cancelled())
        assert.is_true(t2:done())

        -- the next round works as usual
        local t3 = corral.spawn(barrier.wait, barrier)
        local t4 = corral.spawn(barrier.wait, barrier)
        assert.are.equal(1, barrier:wait())
        assert.are.equal(2, t3:await())
        assert.are.equal(3, t4:await())
        assert.is_false(barrier:broken())
      end))
  end)

  describe("reset", function()
    -- test_reset_barrier
    it("reset of an idle barrier keeps it filling (test_reset_barrier)", async(function()
      local barrier = corral.Barrier(1)
      corral.spawn(barrier.reset, barrier)
      tick()
      assert.are.equal(0, barrier:n_waiting())
      assert.is_false(barrier:broken())
      repr_is(barrier, "filling, waiters:0/1")
    end))

    -- test_reset_barrier_while_tasks_waiting
    it("reset raises BrokenBarrierError in the waiters (..._while_tasks_waiting)",
      async(function()
        local barrier = corral.Barrier(N)
        local results = {}
        local tasks = make_tasks(N - 1, function()
          local ok, err = pcall(barrier.wait, barrier)
          if not ok and is_broken_error(err) then results[#results + 1] = true end
        end)
        tick()
        repr_is(barrier, "filling, waiters:4/5")

        corral.spawn(barrier.reset, barrier)
        tick()
        repr_is(barrier, "resetting, waiters:0/5")
        corral.gather(tasks)

        assert.are.equal(N - 1, #results)
        assert.are.equal(0, barrier:n_waiting())
        assert.is_false(repr_has(barrier, "resetting"))
        repr_is(barrier, "filling, waiters:0/5")
        assert.is_false(barrier:broken())
      end))

    it("BrokenBarrierError is a corral error table", async(function()
      local barrier = corral.Barrier(2)
      local t = corral.spawn(barrier.wait, barrier)
      tick()
      barrier:reset()
      local ok, err = pcall(t.await, t)
      assert.is_false(ok)
      assert.is_true(corral.is_error(err))
      assert.are.equal("BrokenBarrierError", err.type)
      assert.is_string(err.message)
      assert.are.equal(corral.Error, getmetatable(err))
      assert.is_truthy(tostring(err):find("^BrokenBarrierError"))
    end))

    it("reset breaks even waiters already released but not yet resumed", async(function()
      local barrier = corral.Barrier(3)
      local events = {}
      local w = broken_recorder(barrier, events)
      local t1 = corral.spawn(w, "t1")
      local t2 = corral.spawn(w, "t2")
      tick()
      assert.are.equal(3, barrier:wait())
      repr_is(barrier, "draining, waiters:0/3")
      barrier:reset()
      repr_is(barrier, "resetting, waiters:0/3")
      t1:await()
      t2:await()
      assert.are.same({ "t1: broken", "t2: broken" }, events)
      repr_is(barrier, "filling, waiters:0/3")
      assert.is_false(barrier:broken())
    end))

    -- test_reset_barrier_when_tasks_half_draining
    it("reset while half the tasks have drained (..._when_tasks_half_draining)",
      async(function()
        local barrier = corral.Barrier(N)
        local results1 = {}
        local rest_of_tasks = N // 2
        local passed = 0
        gather_tasks(N, function()
          local ok, err = pcall(barrier.wait, barrier)
          if not ok then
            assert(is_broken_error(err), tostring(err))
            -- catch the waiting tasks here
            results1[#results1 + 1] = true
          else
            -- a drained task, outside the barrier
            passed = passed + 1
            if N - passed == rest_of_tasks then
              barrier:reset()
            end
          end
        end)
        assert.are.same({ true, true }, results1)
        assert.are.equal(0, barrier:n_waiting())
        assert.is_false(repr_has(barrier, "resetting"))
        assert.is_false(barrier:broken())
      end))

    -- test_reset_barrier_when_tasks_half_draining_half_blocking
    it("reset while half draining, half blocking (..._half_draining_half_blocking)",
      async(function()
        local barrier = corral.Barrier(N)
        local results1, results2 = {}, {}
        local blocking_tasks = N // 2
        local cnt = 0
        gather_tasks(N, function()
          local ok, err = pcall(barrier.wait, barrier)
          if not ok then
            assert(is_broken_error(err), tostring(err))
            -- here catch the still waiting tasks
            results1[#results1 + 1] = true
            -- so now wait again to reach nb_parties
            barrier:wait()
          else
            cnt = cnt + 1
            if cnt > blocking_tasks then
              -- reset now: raises BrokenBarrierError in the waiting tasks
              barrier:reset()
              -- so now wait again to reach nb_parties
              barrier:wait()
            else
              local ok2, err2 = pcall(barrier.wait, barrier)
              if not ok2 then
                assert(is_broken_error(err2), tostring(err2))
                -- here no catch: the blocked tasks go on waiting
                results2[#results2 + 1] = true
              end
            end
          end
        end)
        assert.are.same({ true, true }, results1)
        assert.are.same({}, results2)
        assert.are.equal(0, barrier:n_waiting())
        assert.is_false(repr_has(barrier, "resetting"))
        assert.is_false(barrier:broken())
      end))

    -- test_reset_barrier_while_tasks_waiting_and_waiting_again
    it("waiters broken by reset can wait again (..._waiting_and_waiting_again)",
      async(function()
        local barrier = corral.Barrier(N)
        local results1, results2 = {}, {}
        local function coro1()
          local ok, err = pcall(barrier.wait, barrier)
          if not ok then
            assert(is_broken_error(err), tostring(err))
            results1[#results1 + 1] = true
          end
          barrier:wait()
          results2[#results2 + 1] = true
        end
        local function coro2()
          barrier:wait()
          results2[#results2 + 1] = true
        end

        local tasks = make_tasks(N - 1, coro1)

        -- reset the barrier: the N-1 waiting tasks raise BrokenBarrierError
        corral.spawn(barrier.reset, barrier)
        tick()

        -- complete the waiting tasks in their second wait
        local last = corral.spawn(coro2)

        corral.gather(tasks)
        last:await()

        assert.is_false(barrier:broken())
        assert.are.equal(N - 1, #results1)
        assert.are.equal(N, #results2)
        assert.are.equal(0, barrier:n_waiting())
      end))

    -- test_reset_barrier_while_tasks_draining
    it("reset by the last task out while draining (..._while_tasks_draining)",
      async(function()
        local barrier = corral.Barrier(N)
        local results1, results2, results3 = {}, {}, {}
        local cnt = 0
        gather_tasks(N, function()
          barrier:wait()
          cnt = cnt + 1
          if cnt == N then
            -- the last task out of the barrier
            barrier:reset()
            -- wait here to reach the parties
            barrier:wait()
          else
            -- second waiting
            local ok = pcall(barrier.wait, barrier)
            if ok then
              -- N-1 tasks here
              results1[#results1 + 1] = true
            else
              -- never goes here
              results2[#results2 + 1] = true
            end
          end
          -- now pass the barrier again: the last wait must complete
          barrier:wait()
          results3[#results3 + 1] = true
        end)
        assert.is_false(barrier:broken())
        assert.are.equal(N - 1, #results1)
        assert.are.equal(0, #results2)
        assert.are.equal(N, #results3)
        assert.are.equal(0, barrier:n_waiting())
      end))
  end)

  describe("abort", function()
    -- test_abort_barrier
    it("abort breaks the barrier (test_abort_barrier)", async(function()
      local barrier = corral.Barrier(1)
      corral.spawn(barrier.abort, barrier)
      tick()
      assert.are.equal(0, barrier:n_waiting())
      assert.is_true(barrier:broken())
      repr_is(barrier, "broken")
    end))

    it("abort raises BrokenBarrierError in every waiter", async(function()
      local barrier = corral.Barrier(3)
      local caught = {}
      local tasks = {}
      for n = 1, 2 do
        tasks[n] = corral.spawn(function()
          local ok, err = pcall(barrier.wait, barrier)
          assert(not ok and is_broken_error(err), tostring(err))
          caught[#caught + 1] = n
        end)
      end
      tick()
      barrier:abort()
      repr_is(barrier, "broken")
      assert.are.equal(0, barrier:n_waiting())
      corral.gather(tasks)
      assert.are.same({ 1, 2 }, caught)
    end))

    it("abort breaks even waiters already released but not yet resumed", async(function()
      local barrier = corral.Barrier(3)
      local events = {}
      local w = broken_recorder(barrier, events)
      local t1 = corral.spawn(w, "t1")
      local t2 = corral.spawn(w, "t2")
      tick()
      assert.are.equal(3, barrier:wait())
      barrier:abort()
      repr_is(barrier, "broken")
      t1:await()
      t2:await()
      assert.are.same({ "t1: broken", "t2: broken" }, events)
      assert.is_true(barrier:broken())
      assert.are.equal(0, barrier:n_waiting())
    end))

    it("waiting on a broken barrier raises at once; reset() mends it", async(function()
      local barrier = corral.Barrier(2)
      barrier:abort()
      local ok, err = pcall(barrier.wait, barrier)
      assert.is_false(ok)
      assert.is_true(is_broken_error(err), tostring(err))
      repr_is(barrier, "broken")
      assert.are.equal(0, barrier:n_waiting())

      barrier:reset()
      repr_is(barrier, "filling, waiters:0/2")
      assert.is_false(barrier:broken())
      local t = corral.spawn(barrier.wait, barrier)
      -- main arrives first (t has not started yet) and t is the last arrival
      assert.are.equal(1, barrier:wait())
      assert.are.equal(2, t:await())
    end))

    -- test_abort_barrier_when_tasks_half_draining_half_blocking
    it("abort while half draining, half blocking (..._half_draining_half_blocking)",
      async(function()
        local barrier = corral.Barrier(N)
        local results1, results2 = {}, {}
        local blocking_tasks = N // 2
        local cnt = 0
        gather_tasks(N, function()
          local ok, err = pcall(barrier.wait, barrier)
          if not ok then
            assert(is_broken_error(err), tostring(err))
            -- here catch the tasks waiting to drain
            results1[#results1 + 1] = true
          else
            cnt = cnt + 1
            if cnt > blocking_tasks then
              -- abort now: BrokenBarrierError for every task
              barrier:abort()
            else
              local ok2, err2 = pcall(barrier.wait, barrier)
              if not ok2 then
                assert(is_broken_error(err2), tostring(err2))
                -- here catch the blocked tasks (already drained)
                results2[#results2 + 1] = true
              end
            end
          end
        end)
        assert.is_true(barrier:broken())
        assert.are.same({ true, true }, results1)
        assert.are.same({ true, true }, results2)
        assert.are.equal(0, barrier:n_waiting())
        assert.is_false(repr_has(barrier, "resetting"))
      end))

    -- test_abort_barrier_when_exception
    it("abort from a failing task breaks the others (..._when_exception)", async(function()
      local barrier = corral.Barrier(N)
      local results1, results2 = {}, {}
      gather_tasks(N, function()
        pass_or_abort(barrier, results1, results2)
      end)
      assert.is_true(barrier:broken())
      assert.are.equal(0, #results1)
      assert.are.equal(N - 1, #results2)
      assert.are.equal(0, barrier:n_waiting())
    end))

    -- test_abort_barrier_when_exception_then_resetting
    it("abort, then a reset between two other barriers (..._then_resetting)",
      async(function()
        local barrier1 = corral.Barrier(N)
        local barrier2 = corral.Barrier(N)
        local results1, results2, results3 = {}, {}, {}
        gather_tasks(N, function()
          pass_or_abort(barrier1, results1, results2)

          -- Synchronize and reset the barrier. Synchronize first so that
          -- everyone has left it when we reset, and after so that no one
          -- enters it before the reset.
          local i = barrier2:wait()
          if i == N // 2 + 1 then
            barrier1:reset()
          end
          barrier2:wait()
          barrier1:wait()
          results3[#results3 + 1] = true
        end)
        assert.is_false(barrier1:broken())
        assert.are.equal(0, #results1)
        assert.are.equal(N - 1, #results2)
        assert.are.equal(N, #results3)
        assert.are.equal(0, barrier1:n_waiting())
      end))
  end)
end)
