-- corral.group, asyncio.TaskGroup as a function: results, waiting for
-- children, the first child error cancelling the body and the siblings,
-- GroupError and its `errors`, cancellation from outside, and spawning on a
-- finished group. Cases ported from CPython's
-- Lib/test/test_asyncio/test_taskgroups.py (3.13); orders were checked
-- against the same programs under CPython asyncio.

local corral = require "corral"
local support = require "support"

local vrun, has, error_of = support.vrun, support.has, support.error_of
local recorder, at, is_cancel = support.recorder, support.at, support.is_cancel
local closer = support.closer

-- The errors of a GroupError as strings.
local function error_strings(err)
  local out = {}
  for i, e in ipairs(err.errors) do out[i] = tostring(e) end
  return out
end

describe("corral.group", function()
  it("returns every value the body returns once every child is done", function()
    -- test_taskgroup_01
    local r = vrun(function()
      local t1, t2
      local res = table.pack(corral.group(function(g)
        t1 = g:spawn(function() corral.sleep(1); return 42 end)
        t2 = g:spawn(function() corral.sleep(2); return 11 end)
        return "body", nil, "end"
      end))
      return { res, t1:result(), t2:result(), corral.now() }
    end)
    assert.are.same({ { n = 3, "body", nil, "end" }, 42, 11, 2 }, r)
  end)

  it("passes its extra arguments to the body, and g:spawn its extra arguments to the child", function()
    local r = vrun(function()
      local t
      local v = corral.group(function(g, a, b)
        t = g:spawn(function(x, y) return x .. y end, a, b)
        return a + 0
      end, "1", "2")
      return { v, t:result() }
    end)
    assert.are.same({ 1, "12" }, r)
  end)

  it("waits for children spawned later, by the body or by other children", function()
    -- test_taskgroup_02, test_taskgroup_24
    local ev, rec = recorder()
    vrun(function()
      corral.group(function(g)
        g:spawn(function()
          corral.sleep(0.1)
          g:spawn(function() corral.sleep(0.1); rec("grandchild 1 at " .. at()) end)
          g:spawn(function() corral.sleep(0.2); rec("grandchild 2 at " .. at()) end)
        end)
        corral.sleep(0.15)
        g:spawn(function() corral.sleep(0.2); rec("late child at " .. at()) end)
      end)
      rec("group done at " .. at())
    end)
    assert.are.same({ "grandchild 1 at 0.2", "grandchild 2 at 0.3", "late child at 0.35",
                      "group done at 0.35" }, ev)
  end)

  it("with no children returns without suspending", function()
    -- asyncio: tick body 'after group' tick
    local ev, rec = recorder()
    vrun(function()
      local function tick() rec("tick") end
      corral.spawn(tick)
      corral.sleep(0)
      local b = corral.spawn(function()
        corral.group(function() rec("body") end)
        rec("after group")
      end)
      local t2 = corral.spawn(tick)
      b:await()
      t2:await()
    end)
    assert.are.same({ "tick", "body", "after group", "tick" }, ev)
  end)

  it("ignores a child that is cancelled explicitly", function()
    -- test_taskgroup_03
    local r = vrun(function()
      local t1, t2
      corral.group(function(g)
        t1 = g:spawn(function() corral.sleep(1); return 42 end)
        corral.sleep(0.15)
        t1:cancel()
        t2 = g:spawn(function() corral.sleep(0.2); return 11 end)
      end)
      return { t1:cancelled(), t2:result() }
    end)
    assert.are.same({ true, 11 }, r)
  end)

  it("the first child error cancels the body and the siblings, runs their <close> variables, and raises GroupError", function()
    -- asyncio: c1 fails, c2 cleanup, c3 cleanup + raises, body cleanup,
    -- ExceptionGroup [c1, c3]; cancelling() back to 0
    local ev, rec = recorder()
    local r = vrun(function()
      local err = error_of(corral.group, function(g)
        g:spawn(function()
          corral.sleep(1)
          rec("c1 fails")
          error("c1", 0)
        end)
        g:spawn(function()
          local _ <close> = closer(rec, "c2 cleanup")
          corral.sleep(10)
        end)
        g:spawn(function()
          local ok, e = pcall(corral.sleep, 10)
          rec("c3 cleanup, raises")
          error("c3", 0)
        end)
        local _ <close> = closer(rec, "body cleanup")
        corral.sleep(10)
        rec("body not cancelled")
      end)
      return { corral.is_error(err, "GroupError"), error_strings(err), corral.now(),
               corral.current_task():cancelling(), err.message }
    end)
    assert.are.same({ "c1 fails", "c2 cleanup", "c3 cleanup, raises", "body cleanup" }, ev)
    assert.are.same({ true, { "c1", "c3" }, 1, 0, "unhandled errors in a TaskGroup (2 sub-exceptions)" }, r)
  end)

  it("puts the body's own error last", function()
    -- asyncio: ExceptionGroup [ValueError('c1'), RuntimeError('body')]
    local ev, rec = recorder()
    local r = vrun(function()
      local err = error_of(corral.group, function(g)
        g:spawn(function() corral.sleep(1); error("c1", 0) end)
        g:spawn(function()
          local _ <close> = closer(rec, "c2 cleanup")
          corral.sleep(10)
        end)
        local ok = pcall(corral.sleep, 10)
        rec("body cancelled, raises")
        error("body", 0)
      end)
      return { error_strings(err), corral.current_task():cancelling() }
    end)
    assert.are.same({ "c2 cleanup", "body cancelled, raises" }, ev)
    assert.are.same({ { "c1", "body" }, 0 }, r)
  end)

  it("a body error cancels the children and raises GroupError with it", function()
    -- test_taskgroup_09, test_taskgroup_10
    local r = vrun(function()
      local out = {}
      for _, first_sleep in ipairs({ 0.1, false }) do
        local t1, t2
        local err = error_of(corral.group, function(g)
          t1 = g:spawn(function() corral.sleep(1); return 42 end)
          t2 = g:spawn(function() corral.sleep(2); return 11 end)
          if first_sleep then corral.sleep(first_sleep) end
          error("body failed", 0)
        end)
        out[#out + 1] = { error_strings(err), t1:cancelled(), t2:cancelled() }
      end
      return out
    end)
    assert.are.same({ { { "body failed" }, true, true }, { { "body failed" }, true, true } }, r)
  end)

  it("keeps error values as raised in `errors`", function()
    local e = { mine = true }
    local r = vrun(function()
      return error_of(corral.group, function(g)
        g:spawn(function() error(e) end)
      end)
    end)
    assert.is_true(corral.is_error(r, "GroupError"))
    assert.are.equal(1, #r.errors)
    assert.is_true(rawequal(e, r.errors[1]))
    assert.is_true(has(tostring(r), "GroupError"))
  end)

  it("the caller goes on after catching GroupError: not cancelled, cancelling() 0", function()
    -- test_cancelling_level_preserved, test_taskgroup_04
    local r = vrun(function()
      local num = 0
      local t = corral.spawn(function()
        corral.group(function(g)
          g:spawn(function() corral.sleep(0.1); error("zero division", 0) end)
          g:spawn(function() corral.sleep(1); num = num + 1 end)
        end)
        num = num + 10
      end)
      local err = error_of(t.await, t)
      local err2 = error_of(corral.group, function(g)
        g:spawn(function() error("runtime", 0) end)
      end)
      local later = error_of(corral.sleep, 1)
      return { error_strings(err), num, error_strings(err2), corral.current_task():cancelling(), later }
    end)
    assert.are.same({ { "zero division" }, 0, { "runtime" }, 0, nil }, r)
  end)

  it("refuses g:spawn after the group finished: 'TaskGroup is finished'", function()
    -- test_taskgroup_finished
    local r = vrun(function()
      local saved
      corral.group(function(g) saved = g end)
      local ran = false
      local err = error_of(saved.spawn, saved, function() ran = true end)
      corral.sleep(0)
      return { err, ran }
    end)
    assert.is_true(has(r[1], "TaskGroup is finished"), tostring(r[1]))
    assert.is_false(r[2])
  end)

  it("refuses g:spawn while the group is shutting down after a failure", function()
    -- test_taskgroup_no_create_task_after_failure
    local r = vrun(function()
      local spawn_err
      local err = error_of(corral.group, function(g)
        g:spawn(function() corral.sleep(0.001); error("zero division", 0) end)
        g:spawn(function()
          local ok = pcall(corral.sleep, 1)
          spawn_err = error_of(g.spawn, g, function() end)
        end)
      end)
      return { error_strings(err), spawn_err }
    end)
    assert.are.same({ "zero division" }, r[1])
    assert.is_true(has(r[2], "TaskGroup is shutting down"), tostring(r[2]))
  end)

  it("raises 'no running task' outside a task", function()
    local err
    vrun(function()
      corral.call_soon(function() err = error_of(corral.group, function() end) end)
      corral.sleep(0)
    end)
    assert.is_true(has(tostring(err), "corral.group: no running task"), tostring(err))
  end)

  it("keeps its children going while new ones arrive until one fails (hydra)", function()
    -- test_taskgroup_25
    local nhydras = 0
    local r = vrun(function()
      local function hydra(g)
        nhydras = nhydras + 1
        corral.sleep(0.01)
        g:spawn(hydra, g)
        g:spawn(hydra, g)
      end
      return error_of(corral.group, function(g)
        g:spawn(hydra, g)
        g:spawn(function()
          while nhydras < 10 do corral.sleep(0.015) end
          error("hercules", 0)
        end)
      end)
    end)
    assert.are.same({ "hercules" }, error_strings(r))
    assert.is_true(nhydras >= 10)
  end)

  describe("cancelled from outside", function()
    it("cancels every child and raises the CancelledError with its message", function()
      -- test_cancellation (the body waits for the children)
      local r = vrun(function()
        local num = 0
        local runner = corral.spawn(function()
          corral.group(function(g)
            for _ = 1, 5 do
              g:spawn(function()
                local ok, err = pcall(corral.sleep, 5)
                if not ok then num = num + 1; error(err, 0) end
              end)
            end
          end)
        end)
        corral.sleep(0.1)
        runner:cancel("test")
        local err = error_of(runner.await, runner)
        return { err.type, err.message, num, runner:cancelled() }
      end)
      assert.are.same({ "CancelledError", "test", 5, true }, r)
    end)

    it("cancels the body and every child", function()
      -- test_taskgroup_07, test_taskgroup_17, test_cancellation_in_body
      local r = vrun(function()
        local num = 0
        local runner = corral.spawn(function()
          corral.group(function(g)
            for _ = 1, 5 do
              g:spawn(function()
                local ok, err = pcall(corral.sleep, 5)
                if not ok then num = num + 1; error(err, 0) end
              end)
            end
            local ok, err = pcall(corral.sleep, 10)
            if not ok then num = num + 10; error(err, 0) end
          end)
        end)
        corral.sleep(0.1)
        runner:cancel("test")
        local err = error_of(runner.await, runner)
        return { err.type, err.message, num }
      end)
      assert.are.same({ "CancelledError", "test", 15 }, r)
    end)

    it("a body that turns the cancellation into its own error gives GroupError", function()
      -- test_taskgroup_18
      local r = vrun(function()
        local runner = corral.spawn(function()
          corral.group(function()
            local ok = pcall(corral.sleep, 10)
            error("MyExc", 0)
          end)
        end)
        corral.sleep(0.1)
        runner:cancel()
        return error_strings(error_of(runner.await, runner))
      end)
      assert.are.same({ "MyExc" }, r)
    end)

    it("a child failing while the body handles the outside cancellation: the child error wins", function()
      -- test_taskgroup_15, test_taskgroup_16 (3.13: ExceptionGroup, no longer CancelledError)
      local r = vrun(function()
        local function nested_runner()
          corral.group(function(g)
            g:spawn(function() corral.sleep(0.3); error("crash soon", 0) end)
            local ok, err = pcall(corral.sleep, 10)
            if not ok then
              corral.sleep(0.5)
              error(err, 0)
            end
          end)
        end
        local out = {}
        for _, wrapped in ipairs({ false, true }) do
          local runner = corral.spawn(function()
            if wrapped then return corral.spawn(nested_runner):await() end
            return nested_runner()
          end)
          corral.sleep(0.1)
          runner:cancel()
          local err = error_of(runner.await, runner)
          out[#out + 1] = { err.type, error_strings(err), runner:cancelled() }
        end
        return out
      end)
      assert.are.same({ { "GroupError", { "crash soon" }, false },
                        { "GroupError", { "crash soon" }, false } }, r)
    end)

    it("child errors win over the outside cancellation, and the caller is cancelled again afterwards", function()
      -- test_error_and_cancel (3.13)
      local ev, rec = recorder()
      vrun(function()
        local event = corral.Event()
        local inner = corral.spawn(function()
          local err = error_of(corral.group, function(g)
            g:spawn(function()
              event:set()
              corral.sleep(0)
              error("RuntimeError", 0)
            end)
            corral.sleep(1)
            rec("sleep in group not cancelled")
          end)
          local me = corral.current_task()
          rec("group raised " .. tostring(err.type) .. " " .. table.concat(error_strings(err), ",")
              .. " cancelling " .. me:cancelling())
          local later = error_of(corral.sleep, 1)
          rec("sleep after group raised " .. tostring(later))
          error(later, 0)
        end)
        event:wait()
        rec("cancelling before " .. inner:cancelling())
        inner:cancel()
        rec("cancelling after " .. inner:cancelling())
        local err = error_of(inner.await, inner)
        rec("inner " .. tostring(err) .. " cancelled " .. tostring(inner:cancelled()))
      end)
      assert.are.same({
        "cancelling before 0",
        "cancelling after 1",
        "group raised GroupError RuntimeError cancelling 1",
        "sleep after group raised CancelledError",
        "inner CancelledError cancelled true",
      }, ev)
    end)
  end)

  describe("nested", function()
    it("both groups failing: each raises its own errors and cancelling() ends at 0", function()
      -- test_nested_groups_both_cancelled
      local ev, rec = recorder()
      vrun(function()
        local me = corral.current_task()
        local outer_err = error_of(corral.group, function(outer_g)
          local inner_err = error_of(corral.group, function(inner_g)
            inner_g:spawn(function() corral.sleep(0); error("RuntimeError", 0) end)
            outer_g:spawn(function() corral.sleep(0); error("ValueError", 0) end)
          end)
          rec("inner " .. table.concat(error_strings(inner_err), ",") .. " cancelling " .. me:cancelling())
        end)
        rec("outer " .. table.concat(error_strings(outer_err), ",") .. " cancelling " .. me:cancelling())
      end)
      assert.are.same({ "inner RuntimeError cancelling 1", "outer ValueError cancelling 0" }, ev)
    end)

    it("an outer child failing cancels the inner group, whose CancelledError the outer absorbs", function()
      -- test_taskgroup_13
      local r = vrun(function()
        local err = error_of(corral.group, function(g1)
          g1:spawn(function() corral.sleep(0.1); error("ValueError 0.1", 0) end)
          corral.group(function(g2)
            g2:spawn(function() corral.sleep(10); error("ValueError 10", 0) end)
          end)
        end)
        return { error_strings(err), corral.now(), corral.current_task():cancelling() }
      end)
      assert.are.same({ { "ValueError 0.1" }, 0.1, 0 }, r)
    end)

    it("an inner child failing makes the outer GroupError hold the inner GroupError", function()
      -- test_taskgroup_14
      local r = vrun(function()
        local err = error_of(corral.group, function(g1)
          g1:spawn(function() corral.sleep(10); error("ValueError 10", 0) end)
          corral.group(function(g2)
            g2:spawn(function() corral.sleep(0.1); error("ValueError 0.1", 0) end)
          end)
        end)
        return { #err.errors, err.errors[1].type, error_strings(err.errors[1]), corral.now() }
      end)
      assert.are.same({ 1, "GroupError", { "ValueError 0.1" }, 0.1 }, r)
    end)

    it("cancelling the caller of nested groups raises CancelledError", function()
      -- test_taskgroup_11, test_taskgroup_12
      local r = vrun(function()
        local runner = corral.spawn(function()
          corral.group(function(g1)
            g1:spawn(corral.sleep, 10)
            corral.group(function(g2)
              for _ = 1, 5 do g2:spawn(function() corral.sleep(0.1); error("zero", 0) end) end
              corral.sleep(10)
            end)
          end)
        end)
        corral.sleep(0.05)
        runner:cancel()
        local err = error_of(runner.await, runner)
        return { is_cancel(err), runner:cancelled() }
      end)
      assert.are.same({ true, true }, r)
    end)
  end)
end)
