-- Nested coroutines: a task's generators built with coroutine.wrap /
-- coroutine.create may call blocking corral functions; the whole task
-- suspends and resumes right there, while the generator's own yields still
-- go to its resumer. Errors and cancellation cross the boundary as usual.

local corral = require "corral"

local function vrun(fn)
  return corral.run(fn, { clock = "virtual" })
end

local function has(s, sub)
  return type(s) == "string" and s:find(sub, 1, true) ~= nil
end

-- The error a call raises, or nil if it returned.
local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then return nil end
  return err
end

local function recorder()
  local ev = {}
  return ev, function(x) ev[#ev + 1] = x end
end

local function at() return ("%g"):format(corral.now()) end

describe("nested coroutines in a task", function()
  it("a coroutine.wrap generator may sleep between its yields", function()
    local ev, rec = recorder()
    vrun(function()
      local gen = coroutine.wrap(function()
        for i = 1, 3 do
          corral.sleep(1)
          coroutine.yield(i)
        end
        return nil
      end)
      for v in gen do rec(v .. " at " .. at()) end
    end)
    assert.are.same({ "1 at 1", "2 at 2", "3 at 3" }, ev)
  end)

  it("other tasks run while the generator's task is suspended inside it", function()
    local ev, rec = recorder()
    vrun(function()
      local other = corral.spawn(function()
        for i = 1, 3 do
          rec("other " .. i)
          corral.sleep(0)
        end
      end)
      local gen = coroutine.wrap(function()
        corral.sleep(0)
        coroutine.yield("g1")
        corral.sleep(0)
        coroutine.yield("g2")
      end)
      rec(gen())
      rec(gen())
      other:await()
    end)
    assert.are.same({ "other 1", "g1", "other 2", "g2", "other 3" }, ev)
  end)

  it("a blocking lock:acquire inside a generator waits for the lock and resumes right there", function()
    local ev, rec = recorder()
    vrun(function()
      local lock = corral.Lock()
      local holder = corral.spawn(function()
        local _ <close> = lock:acquire()
        rec("holder has the lock")
        corral.sleep(2)
        rec("holder releases")
      end)
      corral.sleep(0)
      local gen = coroutine.wrap(function()
        local l = lock:acquire()
        rec("generator got the lock at " .. at() .. " " .. tostring(rawequal(l, lock)))
        coroutine.yield("locked")
        lock:release()
        coroutine.yield("released")
      end)
      rec(gen())
      rec(gen())
      holder:await()
    end)
    assert.are.same({ "holder has the lock", "holder releases", "generator got the lock at 2 true",
                      "locked", "released" }, ev)
  end)

  it("coroutine.resume returns the generator's own yields and results, not corral's suspensions", function()
    local r = vrun(function()
      local co = coroutine.create(function(a)
        corral.sleep(1)
        local b = coroutine.yield(a + 1)
        corral.sleep(1)
        return b * 2, "done"
      end)
      local out = {}
      out[1] = table.pack(coroutine.resume(co, 1))
      out[2] = coroutine.status(co)
      out[3] = table.pack(coroutine.resume(co, 10))
      out[4] = coroutine.status(co)
      out[5] = corral.now()
      return out
    end)
    assert.are.same({ { n = 2, true, 2 }, "suspended", { n = 3, true, 20, "done" }, "dead", 2 }, r)
  end)

  it("works two levels deep", function()
    local ev, rec = recorder()
    vrun(function()
      local outer = coroutine.wrap(function()
        local inner = coroutine.wrap(function()
          corral.sleep(1)
          coroutine.yield("inner value")
          corral.sleep(1)
          coroutine.yield("inner value 2")
        end)
        coroutine.yield("outer got " .. inner())
        corral.sleep(1)
        coroutine.yield("outer got " .. inner())
      end)
      rec(outer() .. " at " .. at())
      rec(outer() .. " at " .. at())
    end)
    assert.are.same({ "outer got inner value at 1", "outer got inner value 2 at 3" }, ev)
  end)

  it("gives the generator the task as current_task", function()
    local r = vrun(function()
      local me = corral.current_task()
      local gen = coroutine.wrap(function()
        corral.sleep(0)
        coroutine.yield(corral.current_task())
      end)
      return rawequal(gen(), me)
    end)
    assert.is_true(r)
  end)

  it("propagates an error raised after a suspension through coroutine.wrap", function()
    local e = { mine = true }
    local r = vrun(function()
      local g1 = coroutine.wrap(function()
        corral.sleep(1)
        error("generator boom")
      end)
      local g2 = coroutine.wrap(function()
        corral.sleep(1)
        error(e)
      end)
      return { error_of(g1), error_of(g2) }
    end)
    assert.is_true(has(r[1], "generator boom"), tostring(r[1]))
    assert.is_true(rawequal(e, r[2]))
  end)

  it("returns an error raised after a suspension from coroutine.resume as false, err", function()
    local r = vrun(function()
      local co = coroutine.create(function()
        corral.sleep(1)
        error("resume boom", 0)
      end)
      local ok, err = coroutine.resume(co)
      return { ok, err, coroutine.status(co) }
    end)
    assert.are.same({ false, "resume boom", "dead" }, r)
  end)

  it("delivers a cancellation of the task inside the generator, where pcall can catch it", function()
    local ev, rec = recorder()
    vrun(function()
      local t = corral.spawn(function()
        local gen = coroutine.wrap(function()
          local ok, err = pcall(corral.sleep, 10)
          rec("generator caught " .. tostring(err))
          coroutine.yield("after cancel")
        end)
        rec(gen())
        return "task done"
      end)
      corral.sleep(1)
      t:cancel()
      rec(t:await())
    end)
    assert.are.same({ "generator caught CancelledError", "after cancel", "task done" }, ev)
  end)

  it("an uncaught cancellation inside the generator ends the task cancelled", function()
    local r = vrun(function()
      local t = corral.spawn(function()
        local gen = coroutine.wrap(function() corral.sleep(10) end)
        gen()
      end)
      corral.sleep(1)
      t:cancel()
      local err = error_of(t.await, t)
      return { corral.is_error(err, "CancelledError"), t:cancelled() }
    end)
    assert.are.same({ true, true }, r)
  end)

  it("a timeout inside a generator converts at the generator's suspension", function()
    local r = vrun(function()
      local gen = coroutine.wrap(function()
        local err = error_of(corral.timeout, 1, corral.sleep, 10)
        coroutine.yield(tostring(err) .. " at " .. at())
      end)
      return gen()
    end)
    assert.are.equal("TimeoutError at 1", r)
  end)
end)

describe("coroutine.resume and coroutine.wrap without corral suspensions", function()
  it("behave as Lua's: yields, results, dead coroutines, errors", function()
    local gen = coroutine.wrap(function(a)
      local b = coroutine.yield(a, "y")
      return b, "r"
    end)
    assert.are.same({ n = 2, 1, "y" }, table.pack(gen(1)))
    assert.are.same({ n = 2, 2, "r" }, table.pack(gen(2)))
    assert.is_true(has(error_of(gen), "cannot resume dead coroutine"))
    local co = coroutine.create(function() error("plain", 0) end)
    assert.are.same({ n = 2, false, "plain" }, table.pack(coroutine.resume(co)))
    assert.are.same({ n = 2, false, "cannot resume dead coroutine" }, table.pack(coroutine.resume(co)))
  end)

  it("a corral blocking call in a coroutine outside any task fails with 'no running task'", function()
    local co = coroutine.create(function() corral.sleep(0) end)
    local ok, err = coroutine.resume(co)
    assert.is_false(ok)
    assert.is_true(has(err, "corral.sleep: no running task"), tostring(err))
  end)
end)
