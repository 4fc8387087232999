-- Task objects: await, cancel and the cancellation rules, result/exception,
-- names, done callbacks, current_task/all_tasks, __tostring.
-- Orders were checked against the same programs under CPython 3.13 asyncio.

local corral = require "corral"
local support = require "support"

local vrun, has, error_of = support.vrun, support.has, support.error_of
local recorder, ticker = support.recorder, support.ticker

local function sorted_names(tasks)
  local names = {}
  for i, t in ipairs(tasks) do names[i] = t:get_name() end
  table.sort(names)
  return names
end

describe("Task:await", function()
  it("returns every value the task's function returned", function()
    local r = vrun(function()
      local t = corral.spawn(function()
        corral.sleep(1)
        return 1, nil, "three", nil
      end)
      return table.pack(t:await())
    end)
    assert.are.same({ n = 4, 1, nil, "three", nil }, r)
  end)

  it("raises the task's error as raised", function()
    local e = { why = "table error" }
    local s, tbl = vrun(function()
      local a = corral.spawn(function() corral.sleep(0); error("plain", 0) end)
      local b = corral.spawn(function() corral.sleep(0); error(e) end)
      return error_of(a.await, a), error_of(b.await, b)
    end)
    assert.are.equal("plain", s)
    assert.is_true(rawequal(e, tbl))
  end)

  it("raises CancelledError for a cancelled task: the same error table the task raised, with cancel's message", function()
    local inside, outside, outside2
    vrun(function()
      local t = corral.spawn(function()
        local ok, err = pcall(corral.sleep, 10)
        inside = err
        error(err)
      end)
      corral.sleep(0)
      assert(t:cancel("stop now"))
      outside = error_of(t.await, t)
      outside2 = error_of(t.await, t)
    end)
    assert.is_true(corral.is_error(inside, "CancelledError"))
    assert.are.equal("stop now", inside.message)
    assert.is_true(rawequal(inside, outside))
    assert.is_true(rawequal(inside, outside2))
  end)

  it("gives every awaiter the results", function()
    local got = vrun(function()
      local t = corral.spawn(function() corral.sleep(3); return "v", 2 end)
      local w1 = corral.spawn(function() return table.pack(t:await()) end)
      local w2 = corral.spawn(function() return table.pack(t:await()) end)
      return { w1:await(), w2:await(), table.pack(t:await()) }
    end)
    for i = 1, 3 do assert.are.same({ n = 2, "v", 2 }, got[i]) end
  end)

  it("resumes one iteration after the task completes", function()
    -- asyncio: t1 t2 t3 t4 'c2 done' t5 'awaited c2' t6 t7 t8
    local ev, rec = recorder()
    vrun(function()
      local tk = corral.spawn(ticker(rec, 8))
      local c = corral.spawn(function()
        for _ = 1, 3 do corral.sleep(0) end
        rec("c2 done")
        return "c2"
      end)
      rec("awaited " .. c:await())
      tk:await()
    end)
    assert.are.same({ "t1", "t2", "t3", "t4", "c2 done", "t5", "awaited c2",
                      "t6", "t7", "t8" }, ev)
  end)

  it("does not suspend when the task is already done", function()
    -- asyncio: 'c done' t1 'before await' 'after await c' t2 end
    local ev, rec = recorder()
    vrun(function()
      local c = corral.spawn(function() rec("c done"); return "c" end)
      corral.sleep(0)
      corral.spawn(ticker(rec, 2))
      corral.sleep(0)
      rec("before await")
      rec("after await " .. c:await())
      corral.sleep(0)
      rec("end")
    end)
    assert.are.same({ "c done", "t1", "before await", "after await c", "t2", "end" }, ev)
  end)

  it("cancelling the awaiting task cancels the awaited one", function()
    -- asyncio: t1 'cancel true' t2 'B cancelled' t3 'A cancelled' t4 'await a raised' 'true true'
    local ev, rec = recorder()
    vrun(function()
      local b = corral.spawn(function()
        local ok, err = pcall(corral.sleep, 10)
        if corral.is_error(err, "CancelledError") then rec("B cancelled") end
        error(err)
      end)
      local a = corral.spawn(function()
        local ok, err = pcall(b.await, b)
        if corral.is_error(err, "CancelledError") then rec("A cancelled") end
        error(err)
      end)
      corral.sleep(1)
      local tk = corral.spawn(ticker(rec, 4))
      corral.sleep(0)
      rec("cancel " .. tostring(a:cancel()))
      if corral.is_error(error_of(a.await, a), "CancelledError") then
        rec("await a raised")
      end
      rec(tostring(a:cancelled()) .. " " .. tostring(b:cancelled()))
      tk:await()
    end)
    assert.are.same({ "t1", "cancel true", "t2", "B cancelled", "t3", "A cancelled",
                      "t4", "await a raised", "true true" }, ev)
  end)

  it("when the awaited task swallows the cancellation and returns, the awaiter gets its result and goes on (as asyncio)", function()
    -- asyncio: 'cancel true' 'target caught' 'A got x' 'A continues' 'A done false 1 false'
    local ev, rec = recorder()
    vrun(function()
      local t = corral.spawn(function()
        local ok = pcall(corral.sleep, 10)
        if ok then return "normal" end
        rec("target caught")
        return "x"
      end)
      local a = corral.spawn(function()
        rec("A got " .. t:await())
        corral.sleep(0)
        rec("A continues")
        return "A done"
      end)
      corral.sleep(1)
      rec("cancel " .. tostring(a:cancel()))
      local r = a:await()
      rec(r .. " " .. tostring(a:cancelled()) .. " " .. a:cancelling() .. " " .. tostring(t:cancelled()))
    end)
    assert.are.same({ "cancel true", "target caught", "A got x", "A continues",
                      "A done false 1 false" }, ev)
  end)

  it("cancelling one of two awaiters cancels the awaited task, so the other awaiter gets CancelledError too", function()
    -- asyncio: 'w1 cancelled' 'w2 cancelled' 'true true true'
    local ev, rec = recorder()
    vrun(function()
      local t = corral.spawn(function() corral.sleep(10); return "slow" end)
      local function awaiter(name)
        return function()
          local ok, err = pcall(t.await, t)
          if corral.is_error(err, "CancelledError") then rec(name .. " cancelled") end
          error(err)
        end
      end
      local w1 = corral.spawn(awaiter("w1"))
      local w2 = corral.spawn(awaiter("w2"))
      corral.sleep(1)
      w1:cancel()
      corral.sleep(0); corral.sleep(0); corral.sleep(0)
      rec(tostring(t:cancelled()) .. " " .. tostring(w1:cancelled()) .. " " .. tostring(w2:cancelled()))
    end)
    assert.are.same({ "w1 cancelled", "w2 cancelled", "true true true" }, ev)
  end)

  it("raises an error when a task awaits itself", function()
    local err = vrun(function()
      return error_of(function() return corral.current_task():await() end)
    end)
    assert.is_not_nil(err)
  end)

  it("raises 'no running task' outside a task, even when the task is done", function()
    local done_task = vrun(function()
      local t = corral.spawn(function() return 1 end)
      t:await()
      return t
    end)
    assert.is_true(done_task:done())
    local err = error_of(done_task.await, done_task)
    assert.is_true(has(tostring(err), "await: no running task"), tostring(err))
  end)

  it("raises 'no running task' in a loop callback", function()
    local err
    vrun(function()
      local pending = corral.spawn(function() corral.sleep(5) end)
      local t = corral.spawn(function() end)
      t:add_done_callback(function() err = error_of(pending.await, pending) end)
      pending:await()
    end)
    assert.is_true(has(tostring(err), "await: no running task"), tostring(err))
  end)
end)

describe("Task:cancel and the cancellation rules", function()
  it("returns true while the task is not done and false once it is", function()
    local r = vrun(function()
      local t = corral.spawn(function() corral.sleep(10) end)
      corral.sleep(0)
      local first = t:cancel()
      pcall(t.await, t)
      return { first, t:cancel(), t:done(), t:cancelled() }
    end)
    assert.are.same({ true, false, true, true }, r)
  end)

  it("a task cancelled before its first step never runs its body", function()
    -- asyncio: 'cancel true 1' 'done true cancelled true'
    local ev, rec = recorder()
    vrun(function()
      local t = corral.spawn(function() rec("body ran") end)
      rec("cancel " .. tostring(t:cancel()) .. " " .. t:cancelling())
      corral.sleep(0)
      rec("done " .. tostring(t:done()) .. " cancelled " .. tostring(t:cancelled()))
    end)
    assert.are.same({ "cancel true 1", "done true cancelled true" }, ev)
  end)

  it("delivers CancelledError at the suspension point one iteration later", function()
    -- asyncio: 'v start' t1 cancel 'cancelled? false' t2 'v cancelled' 'm after 1' t3 'm after 2 true' t4
    local ev, rec = recorder()
    vrun(function()
      local v = corral.spawn(function()
        rec("v start")
        local ok, err = pcall(corral.sleep, 10)
        if corral.is_error(err, "CancelledError") then rec("v cancelled") end
        error(err)
      end)
      corral.sleep(0)
      local tk = corral.spawn(ticker(rec, 4))
      corral.sleep(0)
      rec("cancel")
      v:cancel()
      rec("cancelled? " .. tostring(v:cancelled()))
      corral.sleep(0)
      rec("m after 1")
      corral.sleep(0)
      rec("m after 2 " .. tostring(v:cancelled()))
      tk:await()
    end)
    assert.are.same({ "v start", "t1", "cancel", "cancelled? false", "t2", "v cancelled",
                      "m after 1", "t3", "m after 2 true", "t4" }, ev)
  end)

  it("cancel(msg): the message reaches the CancelledError", function()
    local msg, str = vrun(function()
      local t = corral.spawn(function()
        local ok, err = pcall(corral.sleep, 10)
        return err.message, tostring(err)
      end)
      corral.sleep(0)
      t:cancel("why")
      return t:await()
    end)
    assert.are.equal("why", msg)
    assert.are.equal("CancelledError: why", str)
  end)

  it("a task that catches CancelledError and returns normally is not cancelled and has its result", function()
    -- asyncio: "caught ('why',)" 'ok False 1'
    local ev, rec = recorder()
    vrun(function()
      local t = corral.spawn(function()
        local ok, err = pcall(corral.sleep, 10)
        rec("caught " .. tostring(corral.is_error(err, "CancelledError")) .. " " .. err.message)
        return "ok"
      end)
      corral.sleep(0)
      t:cancel("why")
      local r = t:await()
      rec(r .. " " .. tostring(t:cancelled()) .. " " .. t:cancelling())
      rec(t:result() .. " " .. tostring(t:exception()))
    end)
    assert.are.same({ "caught true why", "ok false 1", "ok nil" }, ev)
  end)

  it("a task that cancels itself and returns without suspending ends cancelled", function()
    local ev, rec = recorder()
    local t
    vrun(function()
      t = corral.spawn(function()
        rec("cancel " .. tostring(corral.current_task():cancel()))
        rec("still running")
        return 5
      end)
      corral.sleep(0)
      rec("done " .. tostring(t:done()) .. " cancelled " .. tostring(t:cancelled()))
      rec(tostring(corral.is_error(error_of(t.await, t), "CancelledError")))
    end)
    assert.are.same({ "cancel true", "still running", "done true cancelled true", "true" }, ev)
  end)

  it("uncancel() withdraws a self-cancel that was not delivered yet (asyncio 3.13)", function()
    -- asyncio 3.13: 'uncancel 0' 'after sleep' 'false 6'
    local ev, rec = recorder()
    vrun(function()
      local u = corral.spawn(function()
        local me = corral.current_task()
        me:cancel()
        rec("uncancel " .. me:uncancel())
        corral.sleep(0)
        rec("after sleep")
        return 6
      end)
      corral.sleep(0)
      corral.sleep(0)
      rec(tostring(u:cancelled()) .. " " .. tostring(u:result()))
    end)
    assert.are.same({ "uncancel 0", "after sleep", "false 6" }, ev)
  end)

  it("when the task's step is already queued, the error is thrown at that step and the result is dropped", function()
    -- asyncio: 'B returns' 'B done true' 'cancel true' 'A cancelled' 'A result A caught false'
    local ev, rec = recorder()
    vrun(function()
      local b = corral.spawn(function()
        corral.sleep(0)
        rec("B returns")
        return "val"
      end)
      local a = corral.spawn(function()
        local ok, r = pcall(b.await, b)
        if ok then
          rec("A got " .. tostring(r))
          return "A got"
        end
        if corral.is_error(r, "CancelledError") then rec("A cancelled") end
        return "A caught"
      end)
      corral.sleep(0) -- b sleeps, a waits on b
      corral.sleep(0) -- b returns before main runs here
      rec("B done " .. tostring(b:done()))
      rec("cancel " .. tostring(a:cancel()))
      local r = a:await()
      rec("A result " .. r .. " " .. tostring(a:cancelled()))
    end)
    assert.are.same({ "B returns", "B done true", "cancel true", "A cancelled",
                      "A result A caught false" }, ev)
  end)

  it("a task that catches CancelledError and raises another error fails with that error", function()
    local r = vrun(function()
      local t = corral.spawn(function()
        pcall(corral.sleep, 10)
        error("other", 0)
      end)
      corral.sleep(0)
      t:cancel()
      local err = error_of(t.await, t)
      return { err, t:cancelled(), t:exception() }
    end)
    assert.are.same({ "other", false, "other" }, r)
  end)

  it("a task that raises CancelledError by itself ends cancelled, with that error", function()
    local own = setmetatable({ type = "CancelledError", message = "on my own" }, corral.Error)
    local r = vrun(function()
      local t = corral.spawn(function()
        corral.sleep(0)
        error(own)
      end)
      local err = error_of(t.await, t)
      return { rawequal(err, own), t:cancelled(), t:cancelling() }
    end)
    assert.are.same({ true, true, 0 }, r)
  end)

  it("cancelling() counts requests, uncancel() subtracts, and one CancelledError is delivered", function()
    -- asyncio: 'true true 2 1 1' 'caught' 'true false 1'
    local ev, rec = recorder()
    vrun(function()
      local t = corral.spawn(function()
        local ok, err = pcall(corral.sleep, 10)
        if corral.is_error(err, "CancelledError") then rec("caught") end
        local ok2, err2 = pcall(corral.sleep, 0)
        if not ok2 then rec("caught again") end
        return "ok"
      end)
      corral.sleep(0)
      local c0 = t:cancelling()
      local a, b = t:cancel(), t:cancel()
      local n2 = t:cancelling()
      local u = t:uncancel()
      rec(table.concat({ c0, tostring(a), tostring(b), n2, u, t:cancelling() }, " "))
      corral.sleep(0)
      corral.sleep(0)
      corral.sleep(0)
      rec(tostring(t:done()) .. " " .. tostring(t:cancel()) .. " " .. t:cancelling())
    end)
    assert.are.same({ "0 true true 2 1 1", "caught", "true false 1" }, ev)
  end)

  it("cancelling() and uncancel() return integers and uncancel() stops at 0", function()
    local r = vrun(function()
      local t = corral.spawn(function() corral.sleep(1) end)
      local u0 = t:uncancel()
      t:cancel()
      local c1 = t:cancelling()
      local u1 = t:uncancel()
      local u2 = t:uncancel()
      t:cancel()
      pcall(t.await, t)
      return { u0, c1, u1, u2, math.type(c1), math.type(u1) }
    end)
    assert.are.same({ 0, 1, 0, 0, "integer", "integer" }, r)
  end)
end)

describe("Task state: done, cancelled, result, exception", function()
  it("done() and cancelled() follow the task's life", function()
    local r = vrun(function()
      local seen = {}
      local t
      t = corral.spawn(function()
        seen[#seen + 1] = { t:done(), t:cancelled() }
        corral.sleep(1)
      end)
      seen[#seen + 1] = { t:done(), t:cancelled() }
      t:await()
      seen[#seen + 1] = { t:done(), t:cancelled() }
      local c = corral.spawn(function() corral.sleep(1) end)
      corral.sleep(0)
      c:cancel()
      seen[#seen + 1] = { c:done(), c:cancelled() }
      pcall(c.await, c)
      seen[#seen + 1] = { c:done(), c:cancelled() }
      local f = corral.spawn(function() error("x") end)
      pcall(f.await, f)
      seen[#seen + 1] = { f:done(), f:cancelled() }
      return seen
    end)
    assert.are.same({
      { false, false }, { false, false }, { true, false },
      { false, false }, { true, true }, { true, false },
    }, r)
  end)

  it("result() raises InvalidStateError while the task is not done", function()
    local before, running = vrun(function()
      local t
      local running
      t = corral.spawn(function()
        running = error_of(t.result, t)
        corral.sleep(1)
      end)
      local before = error_of(t.result, t)
      t:await()
      return before, running
    end)
    assert.is_true(corral.is_error(before, "InvalidStateError"))
    assert.is_true(corral.is_error(running, "InvalidStateError"))
  end)

  it("result() returns the result, raises the error, or raises CancelledError", function()
    local e = { "boom" }
    local r = vrun(function()
      local ok = corral.spawn(function() return "v" end)
      local bad = corral.spawn(function() error(e) end)
      local gone = corral.spawn(function() corral.sleep(1) end)
      corral.sleep(0)
      gone:cancel()
      corral.sleep(0)
      corral.sleep(0)
      return { ok:result(), error_of(bad.result, bad), error_of(gone.result, gone) }
    end)
    assert.are.equal("v", r[1])
    assert.is_true(rawequal(e, r[2]))
    assert.is_true(corral.is_error(r[3], "CancelledError"))
  end)

  it("exception() is nil on success, the error as raised on failure, InvalidStateError when pending, CancelledError when cancelled", function()
    local e = setmetatable({ type = "TimeoutError", message = "late" }, corral.Error)
    local r = vrun(function()
      local ok = corral.spawn(function() return "v" end)
      local bad = corral.spawn(function() error(e) end)
      local str = corral.spawn(function() error("text", 0) end)
      local slow = corral.spawn(function() corral.sleep(1) end)
      local pending_err = error_of(slow.exception, slow)
      corral.sleep(0)
      slow:cancel()
      corral.sleep(0)
      corral.sleep(0)
      return {
        ok = ok:exception(), bad = bad:exception(), str = str:exception(),
        pending = pending_err, cancelled = error_of(slow.exception, slow),
      }
    end)
    assert.is_nil(r.ok)
    assert.is_true(rawequal(e, r.bad))
    assert.are.equal("text", r.str)
    assert.is_true(corral.is_error(r.pending, "InvalidStateError"))
    assert.is_true(corral.is_error(r.cancelled, "CancelledError"))
  end)
end)

describe("Task names", function()
  it("get_name() and set_name() read and change the name, inside and outside the task", function()
    local r = vrun(function()
      local t = corral.spawn(function()
        corral.sleep(0)
        return corral.current_task():get_name()
      end)
      local before = t:get_name()
      t:set_name("worker")
      return { before, t:get_name(), t:await() }
    end)
    assert.are.same({ "Task-2", "worker", "worker" }, r)
  end)
end)

describe("Task done callbacks", function()
  it("run as fn(task) through the loop, one iteration later, in registration order; a callback added when done is queued too", function()
    -- asyncio: body t1 'cb1 true' cb2 t2 t3 t4 added cb3 main
    local ev, rec = recorder()
    vrun(function()
      local t
      t = corral.spawn(function() rec("body") end)
      t:add_done_callback(function(x) rec("cb1 " .. tostring(rawequal(x, t))) end)
      t:add_done_callback(function() rec("cb2") end)
      local tk = corral.spawn(ticker(rec, 4))
      tk:await()
      t:add_done_callback(function() rec("cb3") end)
      rec("added")
      corral.sleep(0)
      rec("main")
    end)
    assert.are.same({ "body", "t1", "cb1 true", "cb2", "t2", "t3", "t4", "added", "cb3", "main" }, ev)
  end)

  it("run outside any task, also for failed and cancelled tasks", function()
    -- asyncio: m1 m2 'cb nil x' m3
    local ev, rec = recorder()
    vrun(function()
      local t = corral.spawn(function()
        corral.sleep(0)
        error("x", 0)
      end)
      t:add_done_callback(function(f)
        rec("cb " .. tostring(corral.current_task()) .. " " .. tostring(f:exception()))
      end)
      corral.sleep(0)
      rec("m1")
      corral.sleep(0)
      rec("m2")
      corral.sleep(0)
      rec("m3")
      local c = corral.spawn(function() corral.sleep(10) end)
      c:add_done_callback(function(f) rec("cancelled cb " .. tostring(f:cancelled())) end)
      corral.sleep(0)
      c:cancel()
      pcall(c.await, c)
      corral.sleep(0)
    end)
    assert.are.same({ "m1", "m2", "cb nil x", "m3", "cancelled cb true" }, ev)
  end)

  it("an error in a callback does not stop the loop (asyncio logs it and goes on)", function()
    local ev, rec = recorder()
    local r = vrun(function()
      local t = corral.spawn(function() end)
      t:add_done_callback(function() error("callback fails") end)
      t:add_done_callback(function() rec("next callback") end)
      t:await()
      corral.sleep(0)
      rec("main")
      return "main ok"
    end)
    assert.are.equal("main ok", r)
    assert.are.same({ "next callback", "main" }, ev)
  end)

  it("remove_done_callback returns how many were removed", function()
    local ev, rec = recorder()
    local counts
    vrun(function()
      local t = corral.spawn(function() corral.sleep(1) end)
      local f = function() rec("f") end
      local g = function() rec("g") end
      t:add_done_callback(f)
      t:add_done_callback(g)
      t:add_done_callback(f)
      counts = { t:remove_done_callback(f), t:remove_done_callback(f), t:remove_done_callback(function() end) }
      t:await()
      corral.sleep(0)
    end)
    assert.are.same({ 2, 0, 0 }, counts)
    assert.are.same({ "g" }, ev)
  end)
end)

describe("corral.current_task and corral.all_tasks", function()
  it("current_task() is the running task, nil outside a loop", function()
    local r = vrun(function()
      local main = corral.current_task()
      local t
      t = corral.spawn(function() return corral.current_task() == t end)
      return { main:get_name(), t:await(), corral.current_task() == main }
    end)
    assert.are.same({ "Task-1", true, true }, r)
    assert.is_nil(corral.current_task())
  end)

  it("all_tasks() lists the loop's tasks that are not done", function()
    local r = vrun(function()
      local a = corral.spawn(function() corral.sleep(1) end)
      local b = corral.spawn(function() end)
      local s1 = sorted_names(corral.all_tasks())
      corral.sleep(0)
      local s2 = sorted_names(corral.all_tasks())
      a:await()
      local s3 = sorted_names(corral.all_tasks())
      local list = corral.all_tasks()
      return { s1, s2, s3, #list == 1 and list[1] == corral.current_task() }
    end)
    assert.are.same({ { "Task-1", "Task-2", "Task-3" }, { "Task-1", "Task-2" }, { "Task-1" }, true }, r)
  end)
end)

describe("Task misuse", function()
  it("methods called on something that is not a Task raise a misuse error naming corral.Task", function()
    local errs = vrun(function()
      local t = corral.current_task()
      return { error_of(t.done), error_of(t.cancel, {}), error_of(t.get_name, "Task-1") }
    end)
    assert.are.equal(3, #errs)
    for i = 1, 3 do
      assert.are.equal("string", type(errs[i]))
      assert.is_true(has(errs[i], "corral.Task expected"), errs[i])
    end
  end)
end)

describe("Task lifetime", function()
  it("tasks nobody references keep running across garbage collections", function()
    local sum = 0
    local n = vrun(function()
      for i = 1, 200 do
        corral.spawn(function()
          local junk = {}
          for j = 1, 50 do junk[j] = { i, j } end
          corral.sleep(0)
          collectgarbage()
          corral.sleep(i % 7)
          sum = sum + i
        end)
      end
      collectgarbage()
      collectgarbage()
      corral.sleep(10)
      collectgarbage()
      return #corral.all_tasks()
    end)
    assert.are.equal(200 * 201 / 2, sum)
    assert.are.equal(1, n)
  end)
end)

describe("Task __tostring", function()
  it("shows name and state: pending, done, cancelled, failed", function()
    local r = vrun(function()
      local ts = {}
      for i = 2, 7 do ts[i] = corral.spawn(function() corral.sleep(1) end) end
      local t7 = ts[7]
      local out = { pending = tostring(t7), running = tostring(corral.current_task()) }
      local ok = corral.spawn(function() return 1 end)
      local bad = corral.spawn(function() error("no") end)
      local gone = corral.spawn(function() corral.sleep(1) end)
      ok:set_name("ok")
      corral.sleep(0)
      gone:cancel()
      pcall(bad.await, bad)
      pcall(gone.await, gone)
      out.done, out.failed, out.cancelled = tostring(ok), tostring(bad), tostring(gone)
      for i = 2, 7 do ts[i]:cancel() end
      return out
    end)
    assert.is_truthy(r.pending:match("^<corral%.Task 0x%x+ 'Task%-7' pending>$"), r.pending)
    assert.is_truthy(r.running:match("^<corral%.Task 0x%x+ 'Task%-1' pending>$"), r.running)
    assert.is_truthy(r.done:match("^<corral%.Task 0x%x+ 'ok' done>$"), r.done)
    assert.is_truthy(r.failed:match("^<corral%.Task 0x%x+ 'Task%-9' failed>$"), r.failed)
    assert.is_truthy(r.cancelled:match("^<corral%.Task 0x%x+ 'Task%-10' cancelled>$"), r.cancelled)
  end)
end)
