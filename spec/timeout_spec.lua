-- corral.timeout, corral.wait_for and corral.shield. Cases ported from
-- CPython's Lib/test/test_asyncio/test_timeouts.py and test_waitfor.py
-- (wait_for is built on timeout since 3.12); orders and outcomes were
-- checked against the same programs under CPython asyncio.

local corral = require "corral"
local support = require "support"

local vrun, has, error_of = support.vrun, support.has, support.error_of
local recorder, at, is_cancel = support.recorder, support.at, support.is_cancel

local function is_timeout(err) return corral.is_error(err, "TimeoutError") end

-- A function that sleeps d seconds, recording a CancelledError it sees
-- (then re-raising it), and returns v.
local function sleeper(rec, name, d, v)
  return function()
    local ok, err = pcall(corral.sleep, d)
    if not ok then
      if is_cancel(err) then rec(name .. " cancelled") end
      error(err, 0)
    end
    return v
  end
end

describe("corral.timeout", function()
  it("returns every value fn returns when the deadline is not reached", function()
    local r = vrun(function()
      return table.pack(corral.timeout(10, function(a, b)
        corral.sleep(1)
        return a, nil, b
      end, "x", "y"))
    end)
    assert.are.same({ n = 3, "x", nil, "y" }, r)
  end)

  it("on expiry cancels fn at its current suspension and raises TimeoutError", function()
    -- test_timeout_basic, test_waiter_cancelled
    local ev, rec = recorder()
    local r = vrun(function()
      local err = error_of(corral.timeout, 1, sleeper(rec, "fn", 10))
      return { is_timeout(err), tostring(err), corral.now(), corral.current_task():cancelling() }
    end)
    assert.are.same({ "fn cancelled" }, ev)
    assert.are.same({ true, "TimeoutError", 1, 0 }, r)
  end)

  it("on expiry the task is not cancelled: it goes on after catching TimeoutError", function()
    -- test_outer_task_is_not_cancelled
    local r = vrun(function()
      local t = corral.spawn(function()
        local err = error_of(corral.timeout, 0.5, corral.sleep, 10)
        corral.sleep(1)
        return is_timeout(err)
      end)
      local v = t:await()
      return { v, t:cancelled(), t:done(), t:cancelling() }
    end)
    assert.are.same({ true, false, true, 0 }, r)
  end)

  it("runs fn's <close> variables before raising TimeoutError", function()
    local ev, rec = recorder()
    vrun(function()
      local err = error_of(corral.timeout, 1, function()
        local _ <close> = setmetatable({}, { __close = function() rec("closed") end })
        corral.sleep(10)
      end)
      rec(tostring(err))
    end)
    assert.are.same({ "closed", "TimeoutError" }, ev)
  end)

  it("a deadline of 0 hits the first suspension, sleep(0) included", function()
    -- test_timeout_zero, test_timeout_zero_sleep_zero
    local ev, rec = recorder()
    local r = vrun(function()
      local a = error_of(corral.timeout, 0, function()
        rec("before sleep(0)")
        corral.sleep(0)
        rec("after sleep(0)")
      end)
      local b = error_of(corral.timeout, 0, corral.sleep, 10)
      return { is_timeout(a), is_timeout(b), corral.now(), corral.current_task():cancelling() }
    end)
    assert.are.same({ "before sleep(0)" }, ev)
    assert.are.same({ true, true, 0, 0 }, r)
  end)

  it("a deadline in the past hits the first suspension, sleep(0) included", function()
    -- test_timeout_in_the_past_sleep_zero
    local r = vrun(function()
      return is_timeout(error_of(corral.timeout, -11, corral.sleep, 0))
    end)
    assert.is_true(r)
  end)

  it("a function that never suspends returns normally even with a deadline already passed", function()
    local r = vrun(function()
      local a = table.pack(corral.timeout(0, function() return 1, 2 end))
      local b = table.pack(corral.timeout(-5, function()
        local e = corral.Event()
        e:set()
        return e:wait()   -- does not suspend: the event is set
      end))
      -- no late cancellation either
      local late = error_of(corral.sleep, 0)
      corral.sleep(5)
      return { a, b, late, corral.current_task():cancelling() }
    end)
    assert.are.same({ { n = 2, 1, 2 }, { n = 1, true }, nil, 0 }, r)
  end)

  it("leaves no timer behind: the task is not cancelled after fn returned", function()
    -- test_timeout_not_called
    local r = vrun(function()
      corral.timeout(10, corral.sleep, 1)
      local err = error_of(corral.sleep, 100)
      return { err, corral.now(), corral.current_task():cancelling() }
    end)
    assert.are.same({ nil, 101, 0 }, r)
  end)

  it("nil seconds means no deadline", function()
    -- test_timeout_disabled
    local r = vrun(function()
      return { corral.timeout(nil, function() corral.sleep(3600); return "done" end), corral.now() }
    end)
    assert.are.same({ "done", 3600 }, r)
  end)

  it("accepts a numeric string", function()
    local r = vrun(function()
      local err = error_of(corral.timeout, "0.5", corral.sleep, 10)
      return { is_timeout(err), corral.now() }
    end)
    assert.are.same({ true, 0.5 }, r)
  end)

  it("passes fn's own error through unchanged", function()
    -- test_foreign_exception_passed
    local e = { mine = true }
    local r = vrun(function()
      local a = error_of(corral.timeout, 1, function() error(e) end)
      local b = error_of(corral.timeout, 1, function() corral.sleep(0.5); error("text", 0) end)
      return { a, b }
    end)
    assert.is_true(rawequal(e, r[1]))
    assert.are.equal("text", r[2])
  end)

  it("passes through another error raised by fn while handling the expiry", function()
    -- test_foreign_exception_on_timeout
    local r = vrun(function()
      return error_of(corral.timeout, 1, function()
        local ok = pcall(corral.sleep, 10)
        error("crash in cleanup", 0)
      end)
    end)
    assert.are.equal("crash in cleanup", r)
  end)

  it("returns fn's results when fn catches the expiry's cancellation and returns", function()
    local r = vrun(function()
      local v = corral.timeout(1, function()
        local ok, err = pcall(corral.sleep, 10)
        return is_cancel(err) and "caught" or "not caught"
      end)
      return { v, corral.now(), corral.current_task():cancelling(), error_of(corral.sleep, 0) }
    end)
    assert.are.same({ "caught", 1, 0, nil }, r)
  end)

  it("lets a cancellation from outside pass through unchanged when it has not expired", function()
    -- test_foreign_cancel_doesnt_timeout_if_not_expired, and from another task
    local r = vrun(function()
      local self_err = error_of(corral.timeout, 10, function()
        corral.current_task():cancel("self")
        corral.sleep(10)
      end)
      corral.current_task():uncancel()
      local t = corral.spawn(function()
        return error_of(corral.timeout, 10, corral.sleep, 20)
      end)
      corral.sleep(1)
      t:cancel("from outside")
      local other_err = t:await()
      return { self_err.type, self_err.message, other_err.type, other_err.message, corral.now() }
    end)
    assert.are.same({ "CancelledError", "self", "CancelledError", "from outside", 1 }, r)
  end)

  it("lets an outside cancellation pass through when it lands in the same iteration as the expiry", function()
    -- both cancel requests are pending: uncancel() leaves 1 > 0, so the
    -- CancelledError is not ours to convert
    local r = vrun(function()
      local t = corral.spawn(function()
        local err = error_of(corral.timeout, 1, corral.sleep, 10)
        return { err.type, err.message, corral.current_task():cancelling() }
      end)
      corral.call_at(1, function() t:cancel("outside") end)
      return t:await()
    end)
    assert.are.same({ "CancelledError", "outside", 1 }, r)
  end)

  it("with the expiry first in the same iteration, the outside cancel still passes through (message of the first cancel)", function()
    -- asyncio: the timeout's cancel() reaches the sleep first, so the
    -- error is CancelledError() without a message; cancelling() stays 1
    local r = vrun(function()
      local t = corral.spawn(function()
        local me = corral.current_task()
        local err = error_of(corral.timeout, 1, function()
          corral.call_at(1, function() me:cancel("outside") end)
          corral.sleep(10)
        end)
        return { err.type, err.message, corral.current_task():cancelling() }
      end)
      return t:await()
    end)
    assert.are.same({ "CancelledError", "", 1 }, r)
  end)

  it("after an earlier cancellation was caught, a new timeout still expires as TimeoutError", function()
    -- test_timeout_after_cancellation: cancelling() is 1 on entry
    local r = vrun(function()
      local me = corral.current_task()
      me:cancel()
      local first = error_of(corral.sleep, 1)
      local err = error_of(corral.timeout, 0, corral.sleep, 1)
      return { is_cancel(first), is_timeout(err), me:cancelling() }
    end)
    assert.are.same({ true, true, 1 }, r)
  end)

  it("after an earlier cancellation was caught, a new cancel inside a timeout passes through", function()
    -- test_cancel_in_timeout_after_cancellation
    local r = vrun(function()
      local me = corral.current_task()
      me:cancel()
      error_of(corral.sleep, 1)
      local err = error_of(corral.timeout, 1, function()
        me:cancel()
        corral.sleep(2)
      end)
      return { is_cancel(err), me:cancelling() }
    end)
    assert.are.same({ true, 2 }, r)
  end)

  describe("nested", function()
    it("with the same deadline: only the outer converts, the inner passes CancelledError", function()
      -- test_nested_timeouts
      local ev, rec = recorder()
      local r = vrun(function()
        local err = error_of(corral.timeout, 1, function()
          local inner = error_of(corral.timeout, 1, corral.sleep, 10)
          rec("inner raised " .. tostring(inner))
          error(inner, 0)
        end)
        return { tostring(err), corral.current_task():cancelling() }
      end)
      assert.are.same({ "inner raised CancelledError" }, ev)
      assert.are.same({ "TimeoutError", 0 }, r)
    end)

    it("the outer expires first: the inner passes CancelledError, the outer converts", function()
      local ev, rec = recorder()
      local r = vrun(function()
        local err = error_of(corral.timeout, 1, function()
          local inner = error_of(corral.timeout, 5, corral.sleep, 10)
          rec("inner raised " .. tostring(inner) .. " at " .. at())
          error(inner, 0)
        end)
        return { tostring(err), corral.now() }
      end)
      assert.are.same({ "inner raised CancelledError at 1" }, ev)
      assert.are.same({ "TimeoutError", 1 }, r)
    end)

    it("the inner expires first: the inner converts, the outer goes on and later expires itself", function()
      -- test_nested_timeouts_loop_busy, on the virtual clock
      local ev, rec = recorder()
      local r = vrun(function()
        local err = error_of(corral.timeout, 5, function()
          local inner = error_of(corral.timeout, 1, corral.sleep, 10)
          rec("inner raised " .. tostring(inner) .. " at " .. at())
          corral.sleep(10)
          rec("not reached")
        end)
        return { tostring(err), corral.now(), corral.current_task():cancelling() }
      end)
      assert.are.same({ "inner raised TimeoutError at 1" }, ev)
      assert.are.same({ "TimeoutError", 5, 0 }, r)
    end)

    it("a timeout inside the cleanup of an expired one expires on its own", function()
      -- test_nested_timeout_in_finally
      local ev, rec = recorder()
      local r = vrun(function()
        return tostring(error_of(corral.timeout, 1, function()
          local ok, err = pcall(corral.sleep, 10)
          local inner = error_of(corral.timeout, 1, corral.sleep, 10)
          rec("cleanup timeout " .. tostring(inner) .. " at " .. at())
          error(err, 0)
        end))
      end)
      assert.are.same({ "cleanup timeout TimeoutError at 2" }, ev)
      assert.are.equal("TimeoutError", r)
    end)
  end)

  it("raises 'no running task' outside a task", function()
    local err
    vrun(function()
      corral.call_soon(function() err = error_of(corral.timeout, 1, function() end) end)
      corral.sleep(0)
    end)
    assert.is_true(has(tostring(err), "corral.timeout: no running task"), tostring(err))
  end)

  it("treats a non-number, NaN or a non-function as misuse", function()
    local r = vrun(function()
      return { error_of(corral.timeout, "soon", function() end),
               error_of(corral.timeout, 0 / 0, function() end),
               error_of(corral.timeout, 1, 42) }
    end)
    for i = 1, 3 do
      assert.are.equal("string", type(r[i]), tostring(r[i]))
      assert.is_true(has(r[i], "bad argument"), r[i])
    end
  end)
end)

describe("corral.wait_for", function()
  it("returns every value of a task that finishes in time", function()
    local r = vrun(function()
      local t = corral.spawn(function() corral.sleep(1); return "a", nil, "c" end)
      return table.pack(corral.wait_for(t, 2))
    end)
    assert.are.same({ n = 3, "a", nil, "c" }, r)
  end)

  it("returns a future's values when it is set before the deadline", function()
    -- test_wait_for_race_condition
    local r = vrun(function()
      local f = corral.Future()
      corral.call_later(1, function() f:set_result("ok") end)
      return { corral.wait_for(f, 2), corral.now() }
    end)
    assert.are.same({ "ok", 1 }, r)
  end)

  it("on expiry cancels the task, waits for it to finish, and raises TimeoutError", function()
    -- test_wait_for
    local ev, rec = recorder()
    local r = vrun(function()
      local running
      local t = corral.spawn(function()
        running = true
        local _ <close> = setmetatable({}, { __close = function() running = false end })
        corral.sleep(10)
        return "done"
      end)
      local err = error_of(corral.wait_for, t, 1)
      return { is_timeout(err), t:done(), t:cancelled(), running, corral.now(),
               corral.current_task():cancelling() }
    end)
    assert.are.same({ true, true, true, false, 1, 0 }, r)
  end)

  it("waits until the cancelled task has finished its cleanup", function()
    -- test_wait_for_waits_for_task_cancellation
    local ev, rec = recorder()
    local r = vrun(function()
      local t = corral.spawn(function()
        local ok, err = pcall(corral.sleep, 10)
        rec("inner cancelled at " .. at())
        corral.sleep(0.5)
        rec("inner re-raises at " .. at())
        error(err, 0)
      end)
      local err = error_of(corral.wait_for, t, 1)
      rec("wait_for raised " .. tostring(err) .. " at " .. at())
      return t:cancelled()
    end)
    assert.are.same({ "inner cancelled at 1", "inner re-raises at 1.5",
                      "wait_for raised TimeoutError at 1.5" }, ev)
    assert.is_true(r)
  end)

  it("returns the task's results when it catches the cancellation and returns", function()
    -- test_wait_for_cancel_suppressed, with a Task
    local ev, rec = recorder()
    local r = vrun(function()
      local t = corral.spawn(function()
        local ok = pcall(corral.sleep, 10)
        rec("inner cancelled at " .. at())
        corral.sleep(0.5)
        rec("inner returns")
        return 42, "more"
      end)
      local res = table.pack(corral.wait_for(t, 1))
      return { res, corral.now(), corral.current_task():cancelling(), t:cancelled(),
               error_of(corral.sleep, 0) }
    end)
    assert.are.same({ "inner cancelled at 1", "inner returns" }, ev)
    assert.are.same({ { n = 2, 42, "more" }, 1.5, 0, false, nil }, r)
  end)

  it("returns a function's results when it catches the cancellation and returns", function()
    -- test_wait_for_cancellation_race_condition, test_wait_for_cancel_suppressed
    local r = vrun(function()
      local v = corral.wait_for(function()
        local ok, err = pcall(corral.sleep, 10)
        return is_cancel(err) and 42 or 0
      end, 0.1)
      return { v, corral.current_task():cancelling(), error_of(corral.sleep, 0) }
    end)
    assert.are.same({ 42, 0, nil }, r)
  end)

  it("raises the other error the task raised while being cancelled", function()
    -- test_wait_for_reraises_exception_during_cancellation
    local e = { foo = true }
    local r = vrun(function()
      local t = corral.spawn(function()
        pcall(corral.sleep, 0.2)
        error(e)
      end)
      return error_of(corral.wait_for, t, 0.1)
    end)
    assert.is_true(rawequal(e, r))
  end)

  it("raises CancelledError when someone else cancels the task before the deadline; the caller is not cancelled", function()
    local r = vrun(function()
      local t = corral.spawn(function() corral.sleep(10) end)
      corral.call_later(1, function() t:cancel() end)
      local err = error_of(corral.wait_for, t, 5)
      local me = corral.current_task()
      return { tostring(err), corral.now(), me:cancelling(), error_of(corral.sleep, 0) }
    end)
    assert.are.same({ "CancelledError", 1, 0, nil }, r)
  end)

  it("raises the error a task raises before the deadline", function()
    local r = vrun(function()
      local t = corral.spawn(function() corral.sleep(0.5); error("early", 0) end)
      return { error_of(corral.wait_for, t, 1), corral.now() }
    end)
    assert.are.same({ "early", 0.5 }, r)
  end)

  it("runs a function in the caller's task under the deadline", function()
    local r = vrun(function()
      local me = corral.current_task()
      local ntasks = #corral.all_tasks()
      local inside, ninside
      local err = error_of(corral.wait_for, function()
        inside = corral.current_task()
        ninside = #corral.all_tasks()
        corral.sleep(10)
      end, 1)
      return { rawequal(inside, me), ninside == ntasks, is_timeout(err), corral.now() }
    end)
    assert.are.same({ true, true, true, 1 }, r)
  end)

  it("spawns a coroutine as a task", function()
    local r = vrun(function()
      local co = coroutine.create(function() return corral.current_task() end)
      local me = corral.current_task()
      local t = corral.wait_for(co, 1)
      return { t ~= nil, rawequal(t, me) }
    end)
    assert.are.same({ true, false }, r)
  end)

  it("with seconds = 0 or less never runs a function", function()
    -- test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started
    local ran = false
    local r = vrun(function()
      local a = error_of(corral.wait_for, function() ran = true end, 0)
      local b = error_of(corral.wait_for, function() ran = true end, -1)
      corral.sleep(0)
      corral.sleep(0)
      return { is_timeout(a), is_timeout(b), corral.now() }
    end)
    assert.is_false(ran)
    assert.are.same({ true, true, 0 }, r)
  end)

  it("with seconds = 0 or less cancels a pending task, waits for it, and raises TimeoutError", function()
    -- test_wait_for_timeout_less_then_0_or_0
    local r = vrun(function()
      local out = {}
      for _, s in ipairs({ 0, -1 }) do
        local running
        local t = corral.spawn(function()
          running = true
          local _ <close> = setmetatable({}, { __close = function() running = false end })
          corral.sleep(10)
          return "done"
        end)
        corral.sleep(0)
        local err = error_of(corral.wait_for, t, s)
        out[#out + 1] = { is_timeout(err), t:done(), t:cancelled(), running, corral.now() }
      end
      return out
    end)
    assert.are.same({ { true, true, true, false, 0 }, { true, true, true, false, 0 } }, r)
  end)

  it("with seconds = 0 returns at once what an already done task or future holds", function()
    -- test_wait_for_timeout_less_then_0_or_0_future_done
    local r = vrun(function()
      local f = corral.Future()
      f:set_result("done", 2)
      local t = corral.spawn(function() return "t" end)
      corral.sleep(0)
      local bad = corral.spawn(function() error("bad", 0) end)
      corral.sleep(0)
      return { table.pack(corral.wait_for(f, 0)), corral.wait_for(t, -1),
               error_of(corral.wait_for, bad, 0) }
    end)
    assert.are.same({ { n = 2, "done", 2 }, "t", "bad" }, r)
  end)

  it("with seconds = 0 returns the task's result when it catches the cancellation", function()
    local r = vrun(function()
      local t = corral.spawn(function()
        pcall(corral.sleep, 10)
        return "survived"
      end)
      corral.sleep(0)
      return corral.wait_for(t, 0)
    end)
    assert.are.equal("survived", r)
  end)

  it("with seconds = nil waits forever", function()
    -- test_wait_for_blocking
    local r = vrun(function()
      local t = corral.spawn(function() corral.sleep(3600); return "late" end)
      return { corral.wait_for(t), corral.wait_for(function() return "fn" end, nil), corral.now() }
    end)
    assert.are.same({ "late", "fn", 3600 }, r)
  end)

  it("on expiry cancels a future and raises TimeoutError", function()
    local r = vrun(function()
      local f = corral.Future()
      local err = error_of(corral.wait_for, f, 1)
      return { is_timeout(err), f:cancelled() }
    end)
    assert.are.same({ true, true }, r)
  end)

  it("cancelling the caller cancels the awaited task and raises CancelledError, with or without a deadline", function()
    -- _test_cancel_wait_for (Python issue #23219)
    local r = vrun(function()
      local out = {}
      for _, seconds in ipairs({ 60, false }) do
        local t = corral.spawn(function() corral.Future():await() end)
        local w = corral.spawn(function() return corral.wait_for(t, seconds or nil) end)
        corral.call_soon(function() w:cancel() end)
        local err = error_of(w.await, w)
        out[#out + 1] = { is_cancel(err), w:cancelled(), t:cancelled() }
      end
      return out
    end)
    assert.are.same({ { true, true, true }, { true, true, true } }, r)
  end)

  it("cancelling the caller running a function aw raises CancelledError, not TimeoutError", function()
    local ev, rec = recorder()
    local r = vrun(function()
      local w = corral.spawn(function()
        return corral.wait_for(sleeper(rec, "fn", 10), 5)
      end)
      corral.sleep(1)
      w:cancel("stop")
      local err = error_of(w.await, w)
      return { err.type, err.message, w:cancelled() }
    end)
    assert.are.same({ "fn cancelled" }, ev)
    assert.are.same({ "CancelledError", "stop", true }, r)
  end)

  it("a caller cancelled before its first step never starts the inner task's wait", function()
    -- test_wait_for_self_cancellation
    local r = vrun(function()
      local inner = corral.spawn(function()
        if not pcall(corral.sleep, 0.3) then
          if not pcall(corral.sleep, 0.3) then corral.sleep(0.3) end
        end
        return 42
      end)
      local w = corral.spawn(function() return corral.wait_for(inner, 0.1) end)
      w:cancel()
      local err = error_of(w.await, w)
      return { is_cancel(err), inner:await() }
    end)
    assert.are.same({ true, 42 }, r)
  end)

  it("a cancel after a quick wait_for lands at the next suspension", function()
    -- test_wait_for_issue86296
    local reached_end = false
    local r = vrun(function()
      local t = corral.spawn(function()
        corral.wait_for(function() return nil end, 100)
        corral.sleep(1)
        reached_end = true
      end)
      corral.sleep(0)
      local done_before = t:done()
      t:cancel()
      return { done_before, is_cancel(error_of(t.await, t)) }
    end)
    assert.are.same({ false, true }, r)
    assert.is_false(reached_end)
  end)

  it("raises 'no running task' outside a task", function()
    local err
    vrun(function()
      local f = corral.Future()
      corral.call_soon(function() err = error_of(corral.wait_for, f, 1) end)
      corral.sleep(0)
    end)
    assert.is_true(has(tostring(err), "corral.wait_for: no running task"), tostring(err))
  end)

  it("treats a value that is not awaitable, or a bad number, as misuse", function()
    local r = vrun(function()
      return { error_of(corral.wait_for, 42, 1), error_of(corral.wait_for, function() end, "x") }
    end)
    for i = 1, 2 do
      assert.are.equal("string", type(r[i]), tostring(r[i]))
      assert.is_true(has(r[i], "bad argument"), r[i])
    end
  end)
end)

describe("corral.shield", function()
  it("returns every value the inner task returns", function()
    local r = vrun(function()
      local t = corral.spawn(function() corral.sleep(1); return 1, nil, 3 end)
      return table.pack(corral.shield(t))
    end)
    assert.are.same({ n = 3, 1, nil, 3 }, r)
  end)

  it("raises the inner error", function()
    local e = {}
    local r = vrun(function()
      return error_of(corral.shield, function() corral.sleep(1); error(e) end)
    end)
    assert.is_true(rawequal(e, r))
  end)

  it("cancelling the caller raises CancelledError in it but does not cancel the inner task", function()
    local ev, rec = recorder()
    local r = vrun(function()
      local inner = corral.spawn(function()
        corral.sleep(2)
        rec("inner finished at " .. at())
        return "inner result"
      end)
      local caller = corral.spawn(function() return corral.shield(inner) end)
      corral.sleep(1)
      caller:cancel("stop")
      local err = error_of(caller.await, caller)
      rec("caller " .. tostring(err) .. " at " .. at())
      return { caller:cancelled(), inner:cancelled(), inner:await(), corral.now() }
    end)
    assert.are.same({ "caller CancelledError: stop at 1", "inner finished at 2" }, ev)
    assert.are.same({ true, false, "inner result", 2 }, r)
  end)

  it("spawns a function and protects it the same way", function()
    local ev, rec = recorder()
    vrun(function()
      local caller = corral.spawn(function()
        return corral.shield(function()
          corral.sleep(2)
          rec("inner done")
        end)
      end)
      corral.sleep(1)
      caller:cancel()
      pcall(caller.await, caller)
      rec("caller cancelled")
      corral.sleep(5)
    end)
    assert.are.same({ "caller cancelled", "inner done" }, ev)
  end)

  it("under wait_for: the deadline raises TimeoutError and the inner task keeps running", function()
    local r = vrun(function()
      local inner = corral.spawn(function() corral.sleep(5); return "finished" end)
      local err = error_of(corral.wait_for, function() return corral.shield(inner) end, 1)
      return { is_timeout(err), corral.now(), inner:done(), inner:await(), corral.now() }
    end)
    assert.are.same({ true, 1, false, "finished", 5 }, r)
  end)

  it("raises CancelledError when the inner task is cancelled by someone else", function()
    local r = vrun(function()
      local inner = corral.spawn(function() corral.sleep(5) end)
      local caller = corral.spawn(function() return error_of(corral.shield, inner) end)
      corral.sleep(1)
      inner:cancel()
      local err = caller:await()
      return { is_cancel(err), caller:cancelled() }
    end)
    assert.are.same({ true, false }, r)
  end)

  it("returns at once for an inner task already done", function()
    local r = vrun(function()
      local inner = corral.spawn(function() return "early" end)
      corral.sleep(0)
      return corral.shield(inner)
    end)
    assert.are.equal("early", r)
  end)
end)
