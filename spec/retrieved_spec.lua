-- Errors nobody retrieves: a task that fails and whose error no one asked
-- for has "Task exception was never retrieved", the task and its error and
-- traceback printed to stderr (when it is collected or the loop closes);
-- once await, result, exception, gather or wait handed the error out (or a
-- helper built on them: wait_for, shield, group), nothing is printed.
-- Each case runs a script in a child process: build/corral script.lua.

local support = require "support"

local has, run_script = support.has, support.run_script

-- A script: `body` runs as corral.run's main on the virtual clock; END is
-- printed after the run and a full collection.
local function script(body)
  return "corral.run(function()\n" .. body .. "\nend, { clock = 'virtual' })\n"
    .. "collectgarbage()\ncollectgarbage()\nprint('END')\n"
end

local NEVER = "Task exception was never retrieved"

describe("errors nobody retrieves", function()
  it("are printed to stderr with the task, the error and its traceback", function()
    local out = run_script(script([[
      local t = corral.spawn(function()
        corral.sleep(1)
        error("lost boom 4711")
      end)
      t:set_name("lost-worker")
      corral.sleep(2)
    ]]))
    assert.is_true(has(out, NEVER), out)
    assert.is_true(has(out, "lost-worker"), out)
    assert.is_true(has(out, "lost boom 4711"), out)
    assert.is_true(has(out, "stack traceback"), out)
    assert.is_true(has(out, "END"), out)
  end)

  it("go to stderr, not stdout", function()
    local out = run_script(script([[
      corral.spawn(function() error("lost boom 4712", 0) end)
      corral.sleep(0)
      corral.sleep(0)
    ]]), "/dev/null")
    assert.is_false(has(out, NEVER), out)
    assert.is_false(has(out, "lost boom 4712"), out)
    assert.is_true(has(out, "END"), out)
  end)

  it("are printed for an error table, with its tostring", function()
    local out = run_script(script([[
      corral.spawn(function()
        error(setmetatable({}, { __tostring = function() return "table boom 4713" end }))
      end)
      corral.sleep(0)
      corral.sleep(0)
    ]]))
    assert.is_true(has(out, NEVER), out)
    assert.is_true(has(out, "table boom 4713"), out)
  end)

  it("are printed for each failed task nobody looked at, and only those", function()
    local out = run_script(script([[
      local a = corral.spawn(function() error("lost A 4714", 0) end)
      local b = corral.spawn(function() error("seen B 4715", 0) end)
      local c = corral.spawn(function() error("lost C 4716", 0) end)
      corral.sleep(0)
      corral.sleep(0)
      pcall(b.await, b)
    ]]))
    local _, count = out:gsub(NEVER, "")
    assert.are.equal(2, count, out)
    assert.is_true(has(out, "lost A 4714"), out)
    assert.is_true(has(out, "lost C 4716"), out)
    assert.is_false(has(out, "seen B 4715"), out)
  end)

  it("are not printed for a cancelled task or a task that returned", function()
    local out = run_script(script([[
      local a = corral.spawn(function() corral.sleep(10) end)
      local b = corral.spawn(function() return "fine" end)
      corral.sleep(0)
      a:cancel()
      corral.sleep(0)
      corral.sleep(0)
    ]]))
    assert.is_false(has(out, NEVER), out)
    assert.is_true(has(out, "END"), out)
  end)

  it("are printed for a task that fails in a loop run to its end and cancelled tasks around it", function()
    local out = run_script(script([[
      corral.spawn(function() corral.sleep(1); error("late boom 4717", 0) end)
      corral.spawn(function() corral.sleep(100) end)
      corral.sleep(5)
    ]]))
    assert.is_true(has(out, NEVER), out)
    assert.is_true(has(out, "late boom 4717"), out)
  end)

  it("are printed for a shielded task that fails after its caller was cancelled (as asyncio)", function()
    -- asyncio's shield drops its callback on the inner task when the outer
    -- future is cancelled, so nobody looks at the inner task's error
    local out = run_script(script([[
      local inner = corral.spawn(function() corral.sleep(2); error("shielded boom 4718", 0) end)
      local caller = corral.spawn(function() return corral.shield(inner) end)
      corral.sleep(1)
      caller:cancel()
      pcall(caller.await, caller)
      corral.sleep(5)
    ]]))
    assert.is_true(has(out, NEVER), out)
    assert.is_true(has(out, "shielded boom 4718"), out)
  end)

  -- Scripts that print END themselves; every error they raise contains `kept`.
  for _, case in ipairs({
    { "are not printed for main's error, which corral.run raises to its caller", "kept main", [[
      local ok, err = pcall(corral.run, function() corral.sleep(1); error("kept main 4901", 0) end,
                            { clock = "virtual" })
      assert(err == "kept main 4901")
      collectgarbage()
      collectgarbage()
      print("END")
    ]] },
    { "are not printed for a task whose error loop:run_until_complete raised", "kept ", [[
      local loop = corral.Loop({ clock = "virtual" })
      local t = loop:spawn(function() corral.sleep(1); error("kept task 4902", 0) end)
      assert(not pcall(loop.run_until_complete, loop, t))
      assert(not pcall(loop.run_until_complete, loop, function() error("kept fn 4903", 0) end))
      loop:close()
      collectgarbage()
      collectgarbage()
      print("END")
    ]] },
  }) do
    local name, kept, src = case[1], case[2], case[3]
    it(name, function()
      local out = run_script(src)
      assert.is_false(has(out, NEVER), out)
      assert.is_false(has(out, kept), out)
      assert.is_true(has(out, "END"), out)
    end)
  end

  describe("are not printed once the error was handed out by", function()
    local cases = {
      ["await"] = [[
        local t = corral.spawn(function() error("kept 4801", 0) end)
        pcall(t.await, t)
      ]],
      ["result"] = [[
        local t = corral.spawn(function() error("kept 4802", 0) end)
        corral.sleep(0)
        pcall(t.result, t)
      ]],
      ["exception"] = [[
        local t = corral.spawn(function() error("kept 4803", 0) end)
        corral.sleep(0)
        assert(t:exception() == "kept 4803")
      ]],
      ["exception in a done callback"] = [[
        local t = corral.spawn(function() error("kept 4804", 0) end)
        t:add_done_callback(function(task) task:exception() end)
        corral.sleep(0)
        corral.sleep(0)
      ]],
      ["gather, for the error it raised"] = [[
        local t = corral.spawn(function() error("kept 4805", 0) end)
        pcall(corral.gather, t)
      ]],
      ["gather, for an item failing after the gather raised"] = [[
        local a = corral.spawn(function() corral.sleep(1); error("kept 4806a", 0) end)
        local b = corral.spawn(function() corral.sleep(2); error("kept 4806b", 0) end)
        pcall(corral.gather, a, b)
        corral.sleep(5)
      ]],
      ["gather with return_exceptions"] = [[
        local r = corral.gather({ function() error("kept 4807a", 0) end,
                                  function() corral.sleep(1); error("kept 4807b", 0) end },
                                { return_exceptions = true })
        assert(r[1] == "kept 4807a" and r[2] == "kept 4807b")
      ]],
      ["wait (ALL_COMPLETED)"] = [[
        local t = corral.spawn(function() error("kept 4808", 0) end)
        local done = corral.wait({ t })
        assert(done[1] == t)
      ]],
      ["wait (FIRST_COMPLETED)"] = [[
        local t = corral.spawn(function() corral.sleep(1); error("kept 4809", 0) end)
        local u = corral.spawn(function() corral.sleep(2) end)
        local done = corral.wait({ t, u }, { return_when = "FIRST_COMPLETED" })
        assert(done[1] == t)
        u:await()
      ]],
      ["wait (FIRST_EXCEPTION)"] = [[
        local t = corral.spawn(function() corral.sleep(1); error("kept 4810", 0) end)
        local done = corral.wait({ t }, { return_when = "FIRST_EXCEPTION" })
      ]],
      ["wait_for"] = [[
        local t = corral.spawn(function() corral.sleep(1); error("kept 4811", 0) end)
        pcall(corral.wait_for, t, 5)
      ]],
      ["wait_for, for an error raised while being cancelled at the deadline"] = [[
        local t = corral.spawn(function() pcall(corral.sleep, 10); error("kept 4812", 0) end)
        pcall(corral.wait_for, t, 1)
      ]],
      ["shield"] = [[
        local inner = corral.spawn(function() corral.sleep(2); error("kept 4813", 0) end)
        pcall(corral.shield, inner)
      ]],
      ["group"] = [[
        pcall(corral.group, function(g)
          g:spawn(function() error("kept 4814a", 0) end)
          g:spawn(function() pcall(corral.sleep, 5); error("kept 4814b", 0) end)
        end)
      ]],
    }
    local names = {}
    for name in pairs(cases) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      it(name, function()
        local out = run_script(script(cases[name]))
        assert.is_false(has(out, NEVER), out)
        assert.is_false(has(out, "kept 48"), out)
        assert.is_true(has(out, "END"), out)
      end)
    end
  end)
end)
