-- corral.Future: results with several values, errors, await, the states
-- (done/cancelled/cancel(msg)/result/exception), InvalidStateError, and done
-- callbacks through the loop. Orders were checked against the same programs
-- under CPython asyncio.

local corral = require "corral"
local support = require "support"

local vrun, error_of, recorder = support.vrun, support.error_of, support.recorder
local ticker = support.ticker

describe("corral.Future", function()
  it("needs a running loop", function()
    local err = error_of(corral.Future)
    assert.is_truthy(tostring(err):find("no running loop", 1, true), tostring(err))
  end)

  it("starts pending: not done, not cancelled", function()
    local r = vrun(function()
      local f = corral.Future()
      return { f:done(), f:cancelled() }
    end)
    assert.are.same({ false, false }, r)
  end)

  it("set_result hands every value, nils included, to await and result", function()
    local r = vrun(function()
      local f = corral.Future()
      f:set_result(1, nil, "three", nil)
      return { table.pack(f:await()), table.pack(f:result()), f:done(), f:cancelled(),
               f:exception() == nil }
    end)
    assert.are.same({ { n = 4, 1, nil, "three", nil }, { n = 4, 1, nil, "three", nil },
                      true, false, true }, r)
  end)

  it("set_result() with no values makes await return nothing", function()
    local n = vrun(function()
      local f = corral.Future()
      f:set_result()
      return select("#", f:await())
    end)
    assert.are.equal(0, n)
  end)

  it("set_exception makes await and result raise the error as given, and exception return it", function()
    local e = { why = "table error" }
    local r = vrun(function()
      local f = corral.Future()
      f:set_exception(e)
      local g = corral.Future()
      g:set_exception("plain text")
      return { error_of(f.await, f), error_of(f.result, f), f:exception(),
               error_of(g.await, g), g:exception(), f:done(), f:cancelled() }
    end)
    assert.is_true(rawequal(e, r[1]))
    assert.is_true(rawequal(e, r[2]))
    assert.is_true(rawequal(e, r[3]))
    assert.are.equal("plain text", r[4])
    assert.are.equal("plain text", r[5])
    assert.is_true(r[6])
    assert.is_false(r[7])
  end)

  it("set_exception keeps a corral error table as it is", function()
    local r = vrun(function()
      local made = corral.Future()
      local t = corral.spawn(function() corral.sleep(10) end)
      local timeout_err = error_of(corral.wait_for, t, 1)
      local f = corral.Future()
      f:set_exception(timeout_err)
      return { timeout_err, error_of(f.await, f) }
    end)
    assert.is_true(corral.is_error(r[1], "TimeoutError"))
    assert.is_true(rawequal(r[1], r[2]))
  end)

  it("result and exception raise InvalidStateError while pending", function()
    local r = vrun(function()
      local f = corral.Future()
      return { error_of(f.result, f), error_of(f.exception, f) }
    end)
    assert.is_true(corral.is_error(r[1], "InvalidStateError"), tostring(r[1]))
    assert.is_true(corral.is_error(r[2], "InvalidStateError"), tostring(r[2]))
  end)

  it("cancel(msg) returns true, makes it done and cancelled, and await/result/exception raise CancelledError with msg", function()
    local r = vrun(function()
      local f = corral.Future()
      local first = f:cancel("stop it")
      return { first, f:done(), f:cancelled(), error_of(f.await, f), error_of(f.result, f),
               error_of(f.exception, f), f:cancel("again") }
    end)
    assert.is_true(r[1])
    assert.is_true(r[2])
    assert.is_true(r[3])
    for i = 4, 6 do
      assert.is_true(corral.is_error(r[i], "CancelledError"), tostring(r[i]))
      assert.are.equal("stop it", r[i].message)
    end
    assert.is_false(r[7])
  end)

  it("cancel() without a message gives a CancelledError with an empty message", function()
    local err = vrun(function()
      local f = corral.Future()
      f:cancel()
      return error_of(f.await, f)
    end)
    assert.is_true(corral.is_error(err, "CancelledError"))
    assert.are.equal("CancelledError", tostring(err))
  end)

  it("cancel on a future with a result or an error returns false and changes nothing", function()
    local r = vrun(function()
      local a, b = corral.Future(), corral.Future()
      a:set_result("v")
      b:set_exception("e")
      return { a:cancel(), b:cancel(), a:cancelled(), b:cancelled(), a:result(), b:exception() }
    end)
    assert.are.same({ false, false, false, false, "v", "e" }, r)
  end)

  it("setting a done future raises InvalidStateError and keeps the first outcome", function()
    local r = vrun(function()
      local out = {}
      local a = corral.Future()
      a:set_result("first")
      out[#out + 1] = error_of(a.set_result, a, "second")
      out[#out + 1] = error_of(a.set_exception, a, "boom")
      local b = corral.Future()
      b:set_exception("first error")
      out[#out + 1] = error_of(b.set_result, b, 1)
      out[#out + 1] = error_of(b.set_exception, b, "second error")
      local c = corral.Future()
      c:cancel()
      out[#out + 1] = error_of(c.set_result, c, 1)
      out[#out + 1] = error_of(c.set_exception, c, "x")
      return { errors = out, a = a:result(), b = b:exception(), c = c:cancelled() }
    end)
    assert.are.equal(6, #r.errors)
    for i = 1, 6 do
      assert.is_true(corral.is_error(r.errors[i], "InvalidStateError"), tostring(r.errors[i]))
    end
    assert.are.equal("first", r.a)
    assert.are.equal("first error", r.b)
    assert.is_true(r.c)
  end)

  it("works outside a task for everything that does not block", function()
    local r = vrun(function()
      local out
      local f = corral.Future()
      corral.call_soon(function()
        f:set_result("from callback")
        out = { f:done(), f:result(), f:cancelled() }
      end)
      return { f:await(), out }
    end)
    assert.are.same({ "from callback", { true, "from callback", false } }, r)
  end)

  it("await outside a task raises 'no running task', even when done", function()
    local err = vrun(function()
      local f = corral.Future()
      f:set_result(1)
      local e
      corral.call_soon(function() e = error_of(f.await, f) end)
      corral.sleep(0)
      return e
    end)
    assert.is_truthy(tostring(err):find("await: no running task", 1, true), tostring(err))
  end)
end)

describe("Future:await", function()
  it("suspends until the future is set, and every waiter gets the values", function()
    local r = vrun(function()
      local f = corral.Future()
      local w1 = corral.spawn(function() return table.pack(f:await()) end)
      local w2 = corral.spawn(function() return table.pack(f:await()) end)
      corral.call_later(5, function() f:set_result("v", 2) end)
      return { w1:await(), w2:await(), corral.now() }
    end)
    assert.are.same({ { n = 2, "v", 2 }, { n = 2, "v", 2 }, 5 }, r)
  end)

  it("resumes its waiters one iteration after the future completes, in order, before later callbacks", function()
    -- asyncio: set t0 'w1 got 5' 'w2 got 5' cb1 cb2 main1 t1 main2 t2 t3
    local ev, rec = recorder()
    vrun(function()
      local f = corral.Future()
      local function waiter(n)
        return function() rec("w" .. n .. " got " .. f:await()) end
      end
      corral.spawn(waiter(1))
      corral.spawn(waiter(2))
      corral.sleep(0)
      local tk = corral.spawn(function()
        for i = 0, 3 do
          rec("t" .. i)
          corral.sleep(0)
        end
      end)
      f:add_done_callback(function() rec("cb1") end)
      f:set_result(5)
      f:add_done_callback(function() rec("cb2") end)
      rec("set")
      corral.sleep(0)
      rec("main1")
      corral.sleep(0)
      rec("main2")
      tk:await()
    end)
    assert.are.same({ "set", "t0", "w1 got 5", "w2 got 5", "cb1", "cb2", "main1", "t1",
                      "main2", "t2", "t3" }, ev)
  end)

  it("does not suspend when the future is already done", function()
    local ev, rec = recorder()
    vrun(function()
      local f = corral.Future()
      f:set_result("x")
      corral.spawn(ticker(rec, 2))
      corral.sleep(0)
      rec("before")
      rec("got " .. f:await())
      corral.sleep(0)
      rec("end")
    end)
    assert.are.same({ "t1", "before", "got x", "t2", "end" }, ev)
  end)

  it("raises CancelledError in the waiter when the future is cancelled", function()
    local r = vrun(function()
      local f = corral.Future()
      local w = corral.spawn(function()
        local err = error_of(f.await, f)
        return err
      end)
      corral.sleep(0)
      f:cancel("gone")
      local err = w:await()
      return { corral.is_error(err, "CancelledError"), err.message, w:cancelled() }
    end)
    -- The waiter caught the CancelledError and returned it: it is not cancelled.
    assert.are.same({ true, "gone", false }, r)
  end)

  it("cancelling the waiting task cancels the future", function()
    local r = vrun(function()
      local f = corral.Future()
      local w = corral.spawn(function() return f:await() end)
      corral.sleep(0)
      w:cancel()
      local err = error_of(w.await, w)
      return { f:cancelled(), w:cancelled(), corral.is_error(err, "CancelledError") }
    end)
    assert.are.same({ true, true, true }, r)
  end)

  it("cancel(msg) on the waiting task passes msg to the future and back to the task", function()
    -- asyncio: Task.cancel(msg) calls fut_waiter.cancel(msg=msg); the task
    -- then raises CancelledError('stop'), and the future's result() too.
    local r = vrun(function()
      local f = corral.Future()
      local w = corral.spawn(function() return f:await() end)
      corral.sleep(0)
      w:cancel("stop")
      local err = error_of(w.await, w)
      local ferr = error_of(f.result, f)
      return { err.message, ferr.message }
    end)
    assert.are.same({ "stop", "stop" }, r)
  end)
end)

describe("Future:add_done_callback", function()
  it("calls fn(future) through the loop, never inline, in registration order", function()
    local ev, rec = recorder()
    vrun(function()
      local f = corral.Future()
      f:add_done_callback(function(x) rec("cb1 " .. tostring(rawequal(x, f))) end)
      f:add_done_callback(function() rec("cb2") end)
      f:set_result(1)
      rec("after set")
      corral.sleep(0)
      rec("after one iteration")
    end)
    assert.are.same({ "after set", "cb1 true", "cb2", "after one iteration" }, ev)
  end)

  it("queues a callback added to a done future for the next iteration", function()
    local ev, rec = recorder()
    vrun(function()
      local f = corral.Future()
      f:set_exception("e")
      f:add_done_callback(function(x) rec("cb " .. tostring(x:exception())) end)
      rec("added")
      corral.sleep(0)
      rec("next")
    end)
    assert.are.same({ "added", "cb e", "next" }, ev)
  end)

  it("calls the callbacks of a cancelled future", function()
    local ev, rec = recorder()
    vrun(function()
      local f = corral.Future()
      f:add_done_callback(function(x) rec("cancelled " .. tostring(x:cancelled())) end)
      f:cancel()
      corral.sleep(0)
    end)
    assert.are.same({ "cancelled true" }, ev)
  end)

  it("remove_done_callback removes every registration of fn and returns the count", function()
    local ev, rec = recorder()
    local n = vrun(function()
      local f = corral.Future()
      local function cb() rec("removed one ran") end
      f:add_done_callback(cb)
      f:add_done_callback(function() rec("kept") end)
      f:add_done_callback(cb)
      local count = f:remove_done_callback(cb)
      f:set_result()
      corral.sleep(0)
      return count
    end)
    assert.are.equal(2, n)
    assert.are.same({ "kept" }, ev)
  end)
end)
