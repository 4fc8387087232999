-- The sandbox, through the runner: limits end a script with LimitError and
-- exit status 3; --sandbox cuts the globals down; --preempt keeps one
-- runaway task from freezing the others.

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"exit=$?\""))
  local out = p:read("a")
  p:close()
  local code = tonumber(out:match("exit=(%d+)%s*$"))
  return out:gsub("exit=%d+%s*$", ""), code
end

local function corral(args, code)
  return sh("build/corral " .. args .. " -e '" .. code .. "'")
end

describe("limits", function()
  it("--max-memory ends a script that allocates too much with LimitError, status 3", function()
    local out, code = corral("--max-memory=2M",
      [[local t = {} for i = 1, 1e7 do t[i] = ("x"):rep(100) .. i end]])
    assert.are.equal(3, code)
    assert.is_truthy(out:find("LimitError: memory limit exceeded", 1, true), out)
  end)

  it("--max-memory also bounds string.rep", function()
    local out, code = corral("--max-memory=1M", [[local s = ("x"):rep(1e8)]])
    assert.are.equal(3, code)
    assert.is_truthy(out:find("memory limit exceeded", 1, true), out)
  end)

  it("--max-instructions ends a runaway loop, even one that catches the error", function()
    local out, code = corral("--max-instructions=100000",
      [[print(pcall(function() while true do end end)) while true do end]])
    assert.are.equal(3, code)
    assert.is_truthy(out:find("false\tLimitError: instructions limit exceeded", 1, true), out)
  end)

  it("the LimitError is an error table with its limit", function()
    local out = corral("--max-instructions=50000",
      [[local ok, e = pcall(function() while true do end end) print(e.type, e.limit, corral.is_error(e, "LimitError"))]])
    assert.is_truthy(out:find("LimitError\tinstructions\ttrue", 1, true), out)
  end)

  it("--deadline ends a script that sleeps past it", function()
    local out, code = corral("--deadline=0.2", [[corral.run(function() corral.sleep(30) end)]])
    assert.are.equal(3, code)
    assert.is_truthy(out:find("LimitError: deadline limit exceeded", 1, true), out)
  end)

  it("--deadline ends a busy script", function()
    local _, code = corral("--deadline=0.2", [[while true do end]])
    assert.are.equal(3, code)
  end)

  it("a script within its limits runs normally, status 0", function()
    local out, code = corral("--max-memory=64M --max-instructions=10000000 --deadline=30",
      [[print(corral.run(function() corral.sleep(0) return 42 end))]])
    assert.are.equal(0, code)
    assert.are.equal("42\n", out)
  end)

  it("bad limit values are bad usage", function()
    for _, opt in ipairs({ "--max-memory=lots", "--max-instructions=-1", "--deadline=0", "--preempt=x" }) do
      local _, code = sh("build/corral " .. opt .. " -e 1")
      assert.are.equal(2, code, opt)
    end
  end)
end)

describe("--sandbox", function()
  it("removes io, os (but time/clock/date), debug, package, dofile and loadfile", function()
    local out, code = corral("--sandbox",
      [[print(io, os.execute, os.getenv, debug, package, dofile, loadfile, type(os.time), type(os.clock), type(os.date))]])
    assert.are.equal(0, code)
    assert.are.equal("nil\tnil\tnil\tnil\tnil\tnil\tnil\tfunction\tfunction\tfunction\n", out)
  end)

  it("lets require load corral only, and load text chunks only", function()
    local out = corral("--sandbox",
      [[print(require("corral") == corral, pcall(require, "io"))
        print(load("return 1 + 1")(), load(string.dump(function() end)))]])
    assert.is_truthy(out:find("true\tfalse\t", 1, true), out)
    assert.is_truthy(out:find("module 'io' is not allowed in the sandbox", 1, true), out)
    assert.is_truthy(out:find("2\tnil\tattempt to load a binary chunk", 1, true), out)
  end)

  it("keeps load's environment argument", function()
    local out = corral("--sandbox", [[print(load("return x", "c", "t", { x = 7 })())]])
    assert.are.equal("7\n", out)
  end)
end)

describe("--preempt", function()
  it("keeps a task that never suspends from freezing the others", function()
    local out, code = corral("--preempt=1000",
      [[corral.run(function()
          local n = 0
          corral.spawn(function() while true do n = n + 1 end end)
          for i = 1, 3 do corral.sleep(0) end
          print("main ran", n > 0)
        end)]])
    assert.are.equal(0, code)
    assert.are.equal("main ran\ttrue\n", out)
  end)

  it("a preempted task can be cancelled: it raises CancelledError where it was, and cleans up", function()
    local out = corral("--preempt=1000",
      [[corral.run(function()
          local t = corral.spawn(function()
            local _ <close> = setmetatable({}, { __close = function() print("cleanup") end })
            while true do end
          end)
          corral.sleep(0)
          corral.sleep(0)
          t:cancel("stop")
          print(pcall(t.await, t))
        end)]])
    assert.are.equal("cleanup\nfalse\tCancelledError: stop\n", out)
  end)

  it("without --preempt a task runs until it suspends (atomic between suspension points)", function()
    local out = corral("",
      [[corral.run(function()
          local log = {}
          corral.spawn(function() for i = 1, 3 do log[#log + 1] = "a" .. i end end)
          corral.spawn(function() for i = 1, 3 do log[#log + 1] = "b" .. i end end)
          corral.sleep(0)
          print(table.concat(log, " "))
        end)]])
    assert.are.equal("a1 a2 a3 b1 b2 b3\n", out)
  end)
end)

describe("sandbox regressions", function()
  it("a script that catches a LimitError and then ends still exits with status 3", function()
    -- The script used to finish with status 0 when it ended before the
    -- hook's next check.
    local out, code = corral("--max-instructions=100000",
      [[print(pcall(function() while true do end end)) print("after")]])
    assert.are.equal(3, code)
    assert.is_truthy(out:find("after", 1, true), out)
  end)

  it("tasks that yield often cannot dodge the instruction budget under --preempt", function()
    -- Preemption restarted the hook's count at every step, so the budget
    -- was never reached and the script ran forever.
    local _, code = sh("timeout 20 build/corral --preempt=1000 --max-instructions=200000 -e "
      .. "'corral.run(function() while true do corral.sleep(0) end end)'")
    assert.are.equal(3, code)
  end)

  it("a script cannot lift the deadline with corral.run's options", function()
    -- {deadline = 0} in the options used to turn the sandbox's deadline off.
    local out, code = corral("--deadline=0.2",
      [[corral.run(function() corral.sleep(3) print("slept past") end, { deadline = 0, preempt = false })]])
    assert.are.equal(3, code)
    assert.is_nil(out:find("slept past", 1, true), out)
  end)

  it("a memory limit too small for the libraries ends with status 3, not an abort", function()
    -- Reporting the error allocated in an unprotected place and the
    -- process aborted.
    local _, code = corral("--max-memory=32K", [[print(1)]])
    assert.are.equal(3, code)
  end)
end)
