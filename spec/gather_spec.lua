-- corral.gather: item kinds, result layout, duplicates, errors, cancellation,
-- and its timing. Orders were checked against the same programs under
-- CPython 3.13 asyncio.

local corral = require "corral"
local support = require "support"

local vrun, has, error_of = support.vrun, support.has, support.error_of
local recorder, ticker = support.recorder, support.ticker

-- A function item: sleeps d virtual seconds, returns v and an extra value.
local function after(d, v)
  return function()
    corral.sleep(d)
    return v, "extra"
  end
end

describe("corral.gather", function()
  it("takes items as arguments and returns their first values in argument order, with r.n", function()
    local r = vrun(function()
      local a = corral.spawn(after(3, "a"))
      local b = corral.spawn(after(1, "b"))
      return corral.gather(a, b, after(2, "c"))
    end)
    assert.are.same({ n = 3, "a", "b", "c" }, r)
  end)

  it("takes a list of items", function()
    local r = vrun(function()
      return corral.gather({ after(2, "x"), corral.spawn(after(1, "y")), after(0, "z") })
    end)
    assert.are.same({ n = 3, "x", "y", "z" }, r)
  end)

  it("counts items that returned nothing or nil in r.n", function()
    local r = vrun(function()
      return corral.gather(function() end, after(1, 2), function() return nil, 5 end)
    end)
    assert.are.equal(3, r.n)
    assert.is_nil(r[1])
    assert.are.equal(2, r[2])
    assert.is_nil(r[3])
  end)

  it("returns r.n == 0 for no items", function()
    local a, b = vrun(function()
      return corral.gather(), corral.gather({})
    end)
    assert.are.same({ n = 0 }, a)
    assert.are.same({ n = 0 }, b)
  end)

  it("accepts Tasks, functions, not-yet-started coroutines and Futures", function()
    local r = vrun(function()
      local fut = corral.Future()
      corral.spawn(function()
        corral.sleep(2)
        fut:set_result("future")
      end)
      local co = coroutine.create(function()
        corral.sleep(1)
        return "coroutine"
      end)
      return corral.gather(corral.spawn(after(3, "task")), after(1, "function"), co, fut)
    end)
    assert.are.same({ n = 4, "task", "function", "coroutine", "future" }, r)
  end)

  it("spawns each function item as a new task, in argument order, the same function twice running twice", function()
    local runs = 0
    local names, mine
    vrun(function()
      mine = corral.current_task()
      local function item()
        runs = runs + 1
        local me = corral.current_task()
        corral.sleep(0)
        return me
      end
      local r = corral.gather(item, item, item)
      names = { r[1]:get_name(), r[2]:get_name(), r[3]:get_name(), r[1] ~= mine }
    end)
    assert.are.equal(3, runs)
    assert.are.same({ "Task-2", "Task-3", "Task-4", true }, names)
  end)

  it("starts function items on later iterations, FIFO with tasks spawned before", function()
    -- asyncio: 'before gather' 'X start' 'F1 start' 'F2 start' 'X end' 'F1 end' 'F2 end'
    local ev, rec = recorder()
    local r = vrun(function()
      local function it(name)
        return function()
          rec(name .. " start")
          corral.sleep(0)
          rec(name .. " end")
          return name
        end
      end
      local x = corral.spawn(it("X"))
      rec("before gather")
      return corral.gather(it("F1"), x, it("F2"), x)
    end)
    assert.are.same({ "before gather", "X start", "F1 start", "F2 start",
                      "X end", "F1 end", "F2 end" }, ev)
    assert.are.same({ n = 4, "F1", "X", "F2", "X" }, r)
  end)

  it("awaits the same Task twice only once and puts its result at both places", function()
    local runs = 0
    local r = vrun(function()
      local t = corral.spawn(function()
        runs = runs + 1
        corral.sleep(1)
        return "same"
      end)
      return corral.gather(t, after(2, "other"), t)
    end)
    assert.are.equal(1, runs)
    assert.are.same({ n = 3, "same", "other", "same" }, r)
  end)

  it("each child completing adds one iteration before the gathering task sees the result", function()
    -- asyncio: t1 t2 'c1 done' t3 t4 'c2 done' t5 t6 'gathered c1,c2' t7 t8
    local ev, rec = recorder()
    vrun(function()
      local function child(name, n)
        return function()
          for _ = 1, n do corral.sleep(0) end
          rec(name .. " done")
          return name
        end
      end
      local tk = corral.spawn(ticker(rec, 8))
      local r = corral.gather(child("c1", 1), child("c2", 3))
      rec("gathered " .. r[1] .. "," .. r[2])
      tk:await()
    end)
    assert.are.same({ "t1", "t2", "c1 done", "t3", "t4", "c2 done", "t5", "t6",
                      "gathered c1,c2", "t7", "t8" }, ev)
  end)

  it("completes at once when every item is already done (asyncio 3.12+)", function()
    -- asyncio 3.13: 'c done' 'c done true' 'gathered c' 'awaited c' t1 t2 t3 t4
    local ev, rec = recorder()
    vrun(function()
      local c = corral.spawn(function() rec("c done"); return "c" end)
      corral.sleep(0)
      rec("c done " .. tostring(c:done()))
      local tk = corral.spawn(ticker(rec, 4))
      local r = corral.gather(c)
      rec("gathered " .. r[1])
      rec("awaited " .. c:await())
      tk:await()
    end)
    assert.are.same({ "c done", "c done true", "gathered c", "awaited c",
                      "t1", "t2", "t3", "t4" }, ev)
  end)

  it("raises the first error at once while the other items keep running", function()
    local ev, rec = recorder()
    local e = { "boom" }
    vrun(function()
      local slow = corral.spawn(function()
        corral.sleep(5)
        rec("slow done")
        return "slow"
      end)
      local err = error_of(corral.gather, function()
        corral.sleep(2)
        rec("fail 2")
        error("second", 0)
      end, function()
        corral.sleep(1)
        rec("fail 1")
        error(e)
      end, slow)
      rec("caught " .. tostring(rawequal(err, e)) .. " at " .. corral.now()
          .. " slow done " .. tostring(slow:done()))
      corral.sleep(10)
      rec("later " .. tostring(slow:done()) .. " " .. slow:result())
    end)
    assert.are.same({ "fail 1", "caught true at 1.0 slow done false", "fail 2",
                      "slow done", "later true slow" }, ev)
  end)

  it("raises the error two iterations after the child failed", function()
    -- asyncio: t1 t2 fail t3 t4 'caught boom' t5 t6 'slow done' t7 t8
    local ev, rec = recorder()
    vrun(function()
      local tk = corral.spawn(ticker(rec, 8))
      local err = error_of(corral.gather, function()
        corral.sleep(0)
        rec("fail")
        error("boom", 0)
      end, function()
        for _ = 1, 5 do corral.sleep(0) end
        rec("slow done")
        return "slow"
      end)
      rec("caught " .. tostring(err))
      tk:await()
    end)
    assert.are.same({ "t1", "t2", "fail", "t3", "t4", "caught boom", "t5", "t6",
                      "slow done", "t7", "t8" }, ev)
  end)

  it("raises CancelledError when an item is cancelled; the gathering task is not cancelled", function()
    -- asyncio: 'gather raised cancelled' 'g finished false false' 'B done' B
    local ev, rec = recorder()
    vrun(function()
      local function sleeper(name)
        return function()
          corral.sleep(10)
          rec(name .. " done")
          return name
        end
      end
      local a = corral.spawn(sleeper("A"))
      local b = corral.spawn(sleeper("B"))
      local g = corral.spawn(function()
        local err = error_of(corral.gather, a, b)
        if corral.is_error(err, "CancelledError") then rec("gather raised cancelled") end
        corral.sleep(0)
        return "g finished"
      end)
      corral.sleep(1)
      a:cancel()
      local r = g:await()
      rec(r .. " " .. tostring(g:cancelled()) .. " " .. tostring(b:done()))
      rec(b:await())
    end)
    assert.are.same({ "gather raised cancelled", "g finished false false", "B done", "B" }, ev)
  end)

  it("with return_exceptions = true stores errors in r, CancelledError included", function()
    local e = { "bad" }
    local r, cdone = vrun(function()
      local a = corral.spawn(function() corral.sleep(10); return "A" end)
      corral.spawn(function()
        corral.sleep(1)
        a:cancel()
      end)
      local r = corral.gather({ a, function() error(e) end, after(3, "C") },
                             { return_exceptions = true })
      return r, corral.now()
    end)
    assert.are.equal(3, r.n)
    assert.is_true(corral.is_error(r[1], "CancelledError"))
    assert.is_true(rawequal(e, r[2]))
    assert.are.equal("C", r[3])
    assert.are.equal(3, cdone)
  end)

  it("cancelling the gathering task cancels every item", function()
    -- asyncio: 'cancel true' 'A cancelled' 'B cancelled' t1 t2 'G cancelled' t3
    --          'await g raised' 'true true true' t4 t5
    local ev, rec = recorder()
    vrun(function()
      local function item(name)
        return function()
          local ok, err = pcall(corral.sleep, 10)
          if corral.is_error(err, "CancelledError") then rec(name .. " cancelled") end
          error(err)
        end
      end
      local a = corral.spawn(item("A"))
      local b = corral.spawn(item("B"))
      local g = corral.spawn(function()
        local ok, err = pcall(corral.gather, a, b)
        if corral.is_error(err, "CancelledError") then rec("G cancelled") end
        error(err)
      end)
      corral.sleep(1)
      rec("cancel " .. tostring(g:cancel()))
      local tk = corral.spawn(ticker(rec, 5))
      if corral.is_error(error_of(g.await, g), "CancelledError") then rec("await g raised") end
      rec(tostring(a:cancelled()) .. " " .. tostring(b:cancelled()) .. " " .. tostring(g:cancelled()))
      tk:await()
    end)
    assert.are.same({ "cancel true", "A cancelled", "B cancelled", "t1", "t2", "G cancelled",
                      "t3", "await g raised", "true true true", "t4", "t5" }, ev)
  end)

  it("cancelling the gathering task cancels its function items too", function()
    local ev, rec = recorder()
    vrun(function()
      local function item(name)
        return function()
          local ok, err = pcall(corral.sleep, 10)
          rec(name .. (corral.is_error(err, "CancelledError") and " cancelled" or " finished"))
          error(err)
        end
      end
      local g = corral.spawn(corral.gather, item("F1"), item("F2"))
      corral.sleep(1)
      g:cancel("enough")
      local err = error_of(g.await, g)
      rec("g " .. tostring(corral.is_error(err, "CancelledError")))
      corral.sleep(0)
    end)
    table.sort(ev)
    assert.are.same({ "F1 cancelled", "F2 cancelled", "g true" }, ev)
  end)

  it("cancelling the gathering task raises CancelledError in it even when every item swallows the cancellation", function()
    -- asyncio: 'A swallowed' 'B swallowed' 'G cancelled' 'await raised' 'true A swallowed B swallowed'
    local ev, rec = recorder()
    vrun(function()
      local function swallow(name)
        return function()
          local ok = pcall(corral.sleep, 10)
          if ok then return name .. " normal" end
          rec(name .. " swallowed")
          return name .. " swallowed"
        end
      end
      local a = corral.spawn(swallow("A"))
      local b = corral.spawn(swallow("B"))
      local g = corral.spawn(function()
        local ok, r = pcall(corral.gather, a, b)
        if ok then
          rec("G got " .. tostring(r[1]))
          return
        end
        if corral.is_error(r, "CancelledError") then rec("G cancelled") end
        error(r)
      end)
      corral.sleep(1)
      g:cancel()
      if corral.is_error(error_of(g.await, g), "CancelledError") then rec("await raised") end
      rec(tostring(g:cancelled()) .. " " .. a:result() .. " " .. b:result())
    end)
    assert.are.same({ "A swallowed", "B swallowed", "G cancelled", "await raised",
                      "true A swallowed B swallowed" }, ev)
  end)

  -- g gathers one child that finishes in its second step; main cancels g
  -- after k sleep(0)s. Returns the events.
  local function cancel_gatherer_after(k)
    local ev, rec = recorder()
    vrun(function()
      local g = corral.spawn(function()
        local ok, r = pcall(corral.gather, function()
          corral.sleep(0)
          rec("child done")
          return "c"
        end)
        if ok then
          rec("G got " .. r[1])
          return "G normal"
        end
        if corral.is_error(r, "CancelledError") then rec("G cancelled") end
        return "G caught"
      end)
      for _ = 1, k do corral.sleep(0) end
      rec("cancel " .. tostring(g:cancel()))
      rec(g:await())
    end)
    return ev
  end

  it("cancelling the gathering task after its last item finished, before gather saw it, still cancels it", function()
    -- asyncio: 'child done' 'cancel true' 'G cancelled' 'G caught'
    assert.are.same({ "child done", "cancel true", "G cancelled", "G caught" }, cancel_gatherer_after(3))
  end)

  it("cancelling the gathering task after gather's result is set, before it resumed, throws at that step", function()
    -- asyncio: 'child done' 'cancel true' 'G cancelled' 'G caught'
    assert.are.same({ "child done", "cancel true", "G cancelled", "G caught" }, cancel_gatherer_after(4))
  end)

  it("cancelling the gathering task after it resumed returns false", function()
    -- asyncio: 'child done' 'G got c' 'cancel false' 'G normal'
    assert.are.same({ "child done", "G got c", "cancel false", "G normal" }, cancel_gatherer_after(5))
  end)

  it("rejects an item that is not a Task, Future, function or coroutine with a misuse error", function()
    local err = vrun(function()
      return error_of(function() corral.gather(42) end)
    end)
    assert.are.equal("string", type(err))
    assert.is_true(has(err, "bad argument #1 to '"), err)
  end)

  it("gathers thousands of items", function()
    local r = vrun(function()
      local items = {}
      for i = 1, 3000 do
        items[i] = function()
          corral.sleep(i % 3)
          return i
        end
      end
      return corral.gather(items)
    end)
    assert.are.equal(3000, r.n)
    for i = 1, 3000 do
      if r[i] ~= i then assert.are.equal(i, r[i]) end
    end
  end)

  it("raises 'corral.gather: no running task' outside a task, even when it would not suspend", function()
    local done_task = vrun(function()
      local t = corral.spawn(function() return 1 end)
      t:await()
      return t
    end)
    for _, call in ipairs({
      function() return corral.gather() end,
      function() return corral.gather({}) end,
      function() return corral.gather(done_task) end,
    }) do
      local err = error_of(call)
      assert.is_true(has(tostring(err), "corral.gather: no running task"), tostring(err))
    end
  end)
end)
