-- Error tables (§2): the corral.Error metatable, type/message, tostring,
-- corral.is_error, the traceback of errors raised in tasks, exception(),
-- and errors nobody retrieves.

local corral = require "corral"
local support = require "support"

local vrun, has, error_of = support.vrun, support.has, support.error_of
local run_script = support.run_lua_script

-- A CancelledError and an InvalidStateError produced by corral itself.
local function real_errors()
  return vrun(function()
    local t = corral.spawn(function() corral.sleep(10) end)
    local invalid = error_of(t.result, t)
    corral.sleep(0)
    t:cancel("stop")
    local cancelled = error_of(t.await, t)
    local u = corral.spawn(function() corral.sleep(10) end)
    corral.sleep(0)
    u:cancel()
    local bare = error_of(u.await, u)
    return { cancelled = cancelled, invalid = invalid, bare = bare }
  end)
end

describe("error tables", function()
  it("corral raises tables with metatable corral.Error and string fields type and message", function()
    local errs = real_errors()
    assert.are.equal("table", type(corral.Error))
    for _, k in ipairs({ "cancelled", "invalid", "bare" }) do
      local e = errs[k]
      assert.are.equal("table", type(e), k)
      assert.are.equal(corral.Error, getmetatable(e), k)
      assert.are.equal("string", type(e.type), k)
      assert.are.equal("string", type(e.message), k)
    end
    assert.are.equal("CancelledError", errs.cancelled.type)
    assert.are.equal("stop", errs.cancelled.message)
    assert.are.equal("InvalidStateError", errs.invalid.type)
    assert.are.equal("CancelledError", errs.bare.type)
  end)

  it("tostring gives 'Type: message', or just the type when the message is empty", function()
    local errs = real_errors()
    assert.are.equal("CancelledError: stop", tostring(errs.cancelled))
    assert.are.equal("CancelledError", tostring(errs.bare))
    if errs.invalid.message == "" then
      assert.are.equal("InvalidStateError", tostring(errs.invalid))
    else
      assert.are.equal("InvalidStateError: " .. errs.invalid.message, tostring(errs.invalid))
    end
    local made = setmetatable({ type = "TimeoutError", message = "too late" }, corral.Error)
    assert.are.equal("TimeoutError: too late", tostring(made))
    local empty = setmetatable({ type = "QueueEmpty", message = "" }, corral.Error)
    assert.are.equal("QueueEmpty", tostring(empty))
  end)

  it("corral.is_error(err [, type]) recognises corral error tables and their type", function()
    local errs = real_errors()
    assert.is_true(corral.is_error(errs.cancelled))
    assert.is_true(corral.is_error(errs.cancelled, "CancelledError"))
    assert.is_false(corral.is_error(errs.cancelled, "TimeoutError"))
    assert.is_true(corral.is_error(errs.invalid, "InvalidStateError"))
    assert.is_false(corral.is_error(errs.invalid, "CancelledError"))
    local made = setmetatable({ type = "TimeoutError", message = "" }, corral.Error)
    assert.is_true(corral.is_error(made))
    assert.is_true(corral.is_error(made, "TimeoutError"))
    assert.is_false(corral.is_error({ type = "CancelledError", message = "" }))
    assert.is_false(corral.is_error({ type = "CancelledError", message = "" }, "CancelledError"))
    assert.is_false(corral.is_error("CancelledError"))
    assert.is_false(corral.is_error("CancelledError", "CancelledError"))
    assert.is_false(corral.is_error(nil))
    assert.is_false(corral.is_error(42))
  end)

  it("an error table raised inside a task gets the task's traceback as a string", function()
    local made = setmetatable({ type = "TimeoutError", message = "late" }, corral.Error)
    local r = vrun(function()
      local function deep_failure() error(made) end
      local t = corral.spawn(function()
        corral.sleep(1)
        deep_failure()
      end)
      local pending = corral.spawn(function() corral.sleep(5) end)
      local u = corral.spawn(function()
        corral.sleep(1)
        pending:result() -- InvalidStateError, raised by corral, not caught
      end)
      local a = error_of(t.await, t)
      local b = error_of(u.await, u)
      pending:cancel()
      return { a = a, b = b }
    end)
    assert.is_true(rawequal(made, r.a))
    assert.are.equal("string", type(r.a.traceback))
    assert.is_true(has(r.a.traceback, "errors_spec.lua"), r.a.traceback)
    assert.is_true(corral.is_error(r.b, "InvalidStateError"))
    assert.are.equal("string", type(r.b.traceback))
    assert.is_true(has(r.b.traceback, "errors_spec.lua"), r.b.traceback)
  end)

  it("main's error table reaches corral.run's caller with its traceback", function()
    local made = setmetatable({ type = "TimeoutError", message = "main" }, corral.Error)
    local err = error_of(vrun, function()
      corral.sleep(1)
      error(made)
    end)
    assert.is_true(rawequal(made, err))
    assert.are.equal("string", type(err.traceback))
  end)

  it("exception() returns the error as raised", function()
    local made = setmetatable({ type = "TimeoutError", message = "x" }, corral.Error)
    local plain = { "plain table" }
    local r = vrun(function()
      local a = corral.spawn(function() error(made) end)
      local b = corral.spawn(function() corral.sleep(1); error(plain) end)
      local c = corral.spawn(function() error("just text", 0) end)
      local d = corral.spawn(function() error(404) end)
      corral.sleep(2)
      return { a:exception(), b:exception(), c:exception(), d:exception() }
    end)
    assert.is_true(rawequal(made, r[1]))
    assert.is_true(rawequal(plain, r[2]))
    assert.are.equal("just text", r[3])
    assert.are.equal(404, r[4])
  end)
end)

describe("errors nobody retrieves", function()
  it("are printed as 'Task exception was never retrieved' with the error when the loop closes", function()
    local out = run_script([[
      local corral = require "corral"
      corral.run(function()
        corral.spawn(function() error("lost boom 4711", 0) end)
        corral.sleep(0)
        corral.sleep(0)
      end, { clock = "virtual" })
      collectgarbage()
      collectgarbage()
      print("END")
    ]])
    assert.is_true(has(out, "Task exception was never retrieved"), out)
    assert.is_true(has(out, "lost boom 4711"), out)
    assert.is_true(has(out, "END"), out)
  end)

  it("are not printed once await, exception, result or gather handed the error out", function()
    local out = run_script([[
      local corral = require "corral"
      corral.run(function()
        local a = corral.spawn(function() error("kept boom a", 0) end)
        local b = corral.spawn(function() error("kept boom b", 0) end)
        local c = corral.spawn(function() error("kept boom c", 0) end)
        local d = corral.spawn(function() error("kept boom d", 0) end)
        corral.sleep(0)
        corral.sleep(0)
        pcall(a.await, a)
        b:exception()
        pcall(c.result, c)
        pcall(corral.gather, d)
      end, { clock = "virtual" })
      collectgarbage()
      collectgarbage()
      print("END")
    ]])
    assert.is_false(has(out, "never retrieved"), out)
    assert.is_false(has(out, "kept boom"), out)
    assert.is_true(has(out, "END"), out)
  end)
end)
