-- corral.Loop, the loop as an object for hosts that drive it themselves:
-- spawn, step([timeout]) and its count of callbacks, next_deadline,
-- run_until_complete, time, close. Orders were checked against the same
-- programs under CPython asyncio (loop.run_until_complete, _run_once).

local corral = require "corral"
local support = require "support"

local has, error_of, recorder = support.has, support.error_of, support.recorder

local function vloop()
  return corral.Loop({ clock = "virtual" })
end

describe("corral.Loop", function()
  local loops = {}
  local function new_loop()
    local loop = vloop()
    loops[#loops + 1] = loop
    return loop
  end
  after_each(function()
    for _, loop in ipairs(loops) do loop:close() end
    loops = {}
  end)

  it("starts with nothing scheduled: next_deadline() is nil and the virtual clock reads 0", function()
    local loop = new_loop()
    assert.is_nil(loop:next_deadline())
    assert.are.equal(0, loop:time())
    assert.are.equal(0, loop:step())
  end)

  it("rejects an unknown clock", function()
    local err = error_of(corral.Loop, { clock = "sundial" })
    assert.is_true(has(err, "sundial"), tostring(err))
  end)

  it("spawn returns a pending task that starts on the next step", function()
    local loop = new_loop()
    local ran = false
    local t = loop:spawn(function(a, b) ran = true; return a .. b end, "x", "y")
    assert.are.equal("corral.Task", getmetatable(t).__name)
    assert.is_false(ran)
    assert.is_false(t:done())
    assert.are.equal(0, loop:next_deadline())
    assert.are.equal(1, loop:step())
    assert.is_true(ran)
    assert.is_true(t:done())
    assert.are.equal("xy", t:result())
  end)

  it("step runs one iteration and returns the number of callbacks it ran", function()
    local loop = new_loop()
    local ev, rec = recorder()
    for _, name in ipairs({ "a", "b" }) do
      loop:spawn(function()
        rec(name .. "1")
        corral.sleep(0)
        rec(name .. "2")
      end)
    end
    assert.are.equal(2, loop:step())
    assert.are.same({ "a1", "b1" }, ev)
    assert.are.equal(2, loop:step())
    assert.are.same({ "a1", "b1", "a2", "b2" }, ev)
    assert.are.equal(0, loop:step())
    assert.is_nil(loop:next_deadline())
  end)

  it("next_deadline() gives the seconds until the next timer, 0 when something is ready", function()
    local loop = new_loop()
    local t = loop:spawn(function() corral.sleep(5); return "slept" end)
    assert.are.equal(0, loop:next_deadline())
    loop:step()
    assert.are.equal(5, loop:next_deadline())
  end)

  it("step(timeout) on the virtual clock jumps to a timer due within timeout; the task resumes one step later", function()
    local loop = new_loop()
    local t = loop:spawn(function() corral.sleep(5); return "slept" end)
    assert.are.equal(1, loop:step())                 -- the first step: sets the timer
    assert.are.equal(0, loop:step(0))                -- nothing ready, no waiting
    assert.are.equal(0, loop:time())
    assert.are.equal(0, loop:step(1))                -- the timer is not due within 1
    assert.is_true(loop:time() < 5)
    assert.are.equal(1, loop:step(10))               -- jumps to 5 and fires the timer
    assert.are.equal(5, loop:time())
    assert.is_false(t:done())
    assert.are.equal(0, loop:next_deadline())
    assert.are.equal(1, loop:step())                 -- the task's step
    assert.is_true(t:done())
    assert.are.equal("slept", t:result())
    assert.is_nil(loop:next_deadline())
  end)

  it("step counts call_soon callbacks and done callbacks too", function()
    local loop = new_loop()
    local ev, rec = recorder()
    local t = loop:spawn(function()
      corral.call_soon(rec, "soon")
      corral.current_task():add_done_callback(function() rec("done cb") end)
    end)
    assert.are.equal(1, loop:step())
    assert.are.equal(2, loop:step())                 -- the call_soon and the done callback
    assert.are.same({ "soon", "done cb" }, ev)
  end)

  it("run_until_complete(fn) spawns fn and returns every value it returns", function()
    local loop = new_loop()
    local r = table.pack(loop:run_until_complete(function()
      corral.sleep(2)
      return corral.now(), nil, "x"
    end))
    assert.are.same({ n = 3, 2, nil, "x" }, r)
    assert.are.equal(2, loop:time())
  end)

  it("run_until_complete(task) returns the task's results, or raises its error", function()
    local loop = new_loop()
    local a = loop:spawn(function() corral.sleep(1); return "a", 1 end)
    local b = loop:spawn(function() corral.sleep(2); error("b failed", 0) end)
    assert.are.same({ n = 2, "a", 1 }, table.pack(loop:run_until_complete(a)))
    assert.are.equal("b failed", error_of(loop.run_until_complete, loop, b))
    assert.are.equal(2, loop:time())
  end)

  it("run_until_complete stops one iteration after the task is done; other tasks stay pending", function()
    -- asyncio: t1 'main start' t2 'main end' t3 returned
    local loop = new_loop()
    local ev, rec = recorder()
    local tk = loop:spawn(function()
      for i = 1, 7 do
        rec("t" .. i)
        corral.sleep(0)
      end
    end)
    local r = table.pack(loop:run_until_complete(function()
      rec("main start")
      corral.sleep(0)
      rec("main end")
      return "m", 2
    end))
    rec("returned")
    assert.are.same({ n = 2, "m", 2 }, r)
    assert.are.same({ "t1", "main start", "t2", "main end", "t3", "returned" }, ev)
    assert.is_false(tk:done())
    -- the loop can go on
    loop:run_until_complete(tk)
    assert.are.same({ "t1", "main start", "t2", "main end", "t3", "returned", "t4", "t5", "t6", "t7" }, ev)
  end)

  it("gives the running loop's clock to corral.now() inside its tasks", function()
    local loop = new_loop()
    local r = loop:run_until_complete(function()
      corral.sleep(3)
      return corral.now()
    end)
    assert.are.equal(3, r)
    assert.are.equal(loop:time(), r)
  end)

  it("numbers its tasks Task-1, Task-2, ...", function()
    local loop = new_loop()
    local a = loop:spawn(function() end)
    local b = loop:spawn(function() end)
    assert.are.same({ "Task-1", "Task-2" }, { a:get_name(), b:get_name() })
  end)

  it("refuses step and run_until_complete from inside a running loop", function()
    local loop, other = new_loop(), new_loop()
    local r = loop:run_until_complete(function()
      return { error_of(loop.step, loop), error_of(other.step, other),
               error_of(other.run_until_complete, other, function() end) }
    end)
    for i = 1, 3 do
      assert.is_true(has(r[i], "running loop"), tostring(r[i]))
    end
  end)

  it("runs alongside corral.run in the same Lua state", function()
    local loop = new_loop()
    local t = loop:spawn(function() corral.sleep(1); return "loop task" end)
    local r = corral.run(function() corral.sleep(1); return "run main" end, { clock = "virtual" })
    assert.are.equal("run main", r)
    assert.are.equal("loop task", loop:run_until_complete(t))
  end)

  describe("close", function()
    it("cancels the pending tasks and runs their <close> variables", function()
      local loop = vloop()
      local ev, rec = recorder()
      local a = loop:spawn(function()
        local _ <close> = setmetatable({}, { __close = function() rec("a closed") end })
        corral.sleep(100)
      end)
      local b = loop:spawn(function()
        local _ <close> = setmetatable({}, { __close = function() rec("b closed") end })
        corral.Future():await()
      end)
      local never = loop:spawn(function() rec("never started ran") end)
      loop:step()
      -- `never` ran in that step; spawn another that has not started
      local unstarted = loop:spawn(function() rec("unstarted ran") end)
      loop:close()
      assert.are.same({ "never started ran", "a closed", "b closed" }, ev)
      assert.is_true(a:cancelled())
      assert.is_true(b:cancelled())
      assert.is_true(unstarted:cancelled())
      assert.is_true(never:done())
      assert.is_false(never:cancelled())
    end)

    it("lets a task that catches the cancellation finish its cleanup", function()
      local loop = vloop()
      local ev, rec = recorder()
      local t = loop:spawn(function()
        local ok, err = pcall(corral.sleep, 100)
        rec("caught " .. tostring(err))
        corral.sleep(0)
        rec("cleanup done")
        return "graceful"
      end)
      loop:step()
      loop:close()
      assert.are.same({ "caught CancelledError", "cleanup done" }, ev)
      assert.are.equal("graceful", t:result())
    end)

    it("makes step, spawn and run_until_complete errors afterwards; close again does nothing", function()
      local loop = vloop()
      loop:close()
      assert.is_true(has(error_of(loop.step, loop), "closed"))
      assert.is_true(has(error_of(loop.spawn, loop, function() end), "closed"))
      assert.is_true(has(error_of(loop.run_until_complete, loop, function() end), "closed"))
      assert.is_nil(error_of(loop.close, loop))
    end)
  end)
end)
