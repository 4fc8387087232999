-- corral.busted: corral.test runs `it` bodies as the main task of a loop.

local corral = require "corral.busted"

local function failure_of(f)
  local ok, err = pcall(f)
  assert.is_false(ok, "the test should have failed")
  return tostring(err)
end

describe("corral.test", function()
  it("runs the body as a task on the virtual clock", corral.test(function()
    assert.is_not_nil(corral.current_task())
    corral.sleep(3600)
    assert.are.equal(3600, corral.now())
  end))

  it("passes when the body awaits what it spawns", corral.test(function()
    local t = corral.spawn(function() corral.sleep(1) return 7 end)
    assert.are.equal(7, t:await())
  end, { timeout = 5 }))

  it("fails with the body's error", function()
    local msg = failure_of(corral.test(function() error("boom", 0) end))
    assert.is_truthy(msg:find("the test body raised: boom", 1, true), msg)
  end)

  it("fails a body that takes longer than its timeout", function()
    local msg = failure_of(corral.test(function() corral.sleep(10) end, { timeout = 1 }))
    assert.is_truthy(msg:find("longer than its timeout of 1 s", 1, true), msg)
  end)

  it("fails a body that deadlocks, naming what it waits on", function()
    local msg = failure_of(corral.test(function() corral.Event():wait() end))
    assert.is_truthy(msg:find("deadlock", 1, true), msg)
    assert.is_truthy(msg:find("Event", 1, true), msg)
  end)

  it("fails a body that leaves tasks pending, and still cleans them up", function()
    local closed = false
    local msg = failure_of(corral.test(function()
      corral.spawn(function()
        local _ <close> = setmetatable({}, { __close = function() closed = true end })
        corral.sleep(100)
      end)
      corral.sleep(0)
    end))
    assert.is_truthy(msg:find("left 1 task pending", 1, true), msg)
    assert.is_true(closed)
  end)

  it("treats a non-function as misuse", function()
    assert.has_error(function() corral.test(42) end,
      "bad argument #1 to 'test' (function expected, got number)")
  end)
end)
