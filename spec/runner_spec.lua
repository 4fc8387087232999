-- The runner, build/corral: lua5.4's command line with corral built in, and
-- options that set the defaults of every corral.run.

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"exit=$?\""))
  local out = p:read("a")
  p:close()
  local code = tonumber(out:match("exit=(%d+)%s*$"))
  return out:gsub("exit=%d+%s*$", ""), code
end

local function script(src)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(src)
  f:close()
  return path
end

describe("the runner", function()
  it("runs a script with corral preloaded, passing arg and the script's arguments", function()
    local path = script([[print(type(corral), require("corral") == corral, arg[1], select("#", ...), #arg)]])
    local out, code = sh("build/corral " .. path .. " a b")
    os.remove(path)
    assert.are.equal("table\ttrue\ta\t2\t2\n", out)
    assert.are.equal(0, code)
  end)

  it("runs -e and -l in order, and - reads the script from stdin", function()
    local out, code = sh("echo 'print(x, string.format(\"%d\", 3))' | build/corral -e 'x = 1' -l string -")
    assert.are.equal("1\t3\n", out)
    assert.are.equal(0, code)
  end)

  it("exits 1 with the message and traceback of an uncaught error", function()
    local out, code = sh("build/corral -e 'corral.run(function() error(\"boom\") end)'")
    assert.are.equal(1, code)
    assert.is_truthy(out:find("boom", 1, true), out)
    assert.is_truthy(out:find("stack traceback", 1, true), out)
  end)

  it("exits 1 showing a corral error table as its type and message", function()
    local out, code = sh("build/corral -e 'corral.run(function() corral.Event():wait() end)'")
    assert.are.equal(1, code)
    assert.is_truthy(out:find("DeadlockError: no task can make progress", 1, true), out)
  end)

  it("exits 2 on bad usage", function()
    local _, code = sh("build/corral --no-such-option")
    assert.are.equal(2, code)
    _, code = sh("build/corral --clock=sundial -e 1")
    assert.are.equal(2, code)
    _, code = sh("build/corral --seed=x -e 1")
    assert.are.equal(2, code)
    _, code = sh("build/corral -e")
    assert.are.equal(2, code)
  end)

  it("--clock=virtual makes every corral.run use the virtual clock", function()
    local out = sh("build/corral --clock=virtual -e 'print(corral.run(function() corral.sleep(3600) return corral.now() end))'")
    assert.are.equal("3600.0\n", out)
  end)

  it("an explicit clock option still wins over --clock", function()
    local out = sh("build/corral --clock=virtual -e 'print(corral.run(function() corral.sleep(0.01) return corral.now() > 1000 end, {clock = \"monotonic\"}))'")
    assert.are.equal("true\n", out)
  end)

  it("--seed=N shuffles ready tasks the same way every time", function()
    local path = script([[
      local o = {}
      corral.run(function()
        for i = 1, 8 do corral.spawn(function() o[#o + 1] = i end) end
        corral.sleep(0)
      end)
      print(table.concat(o, ","))
    ]])
    local a = sh("build/corral --seed=7 " .. path)
    local b = sh("build/corral --seed=7 " .. path)
    local fifo = sh("build/corral " .. path)
    os.remove(path)
    assert.are.equal(a, b)
    assert.are.equal("1,2,3,4,5,6,7,8\n", fifo)
  end)

  it("--explore=N counts the distinct outputs of a racy script and names a seed for each", function()
    local path = script([[
      local counter = 0
      corral.run(function()
        local function a() local v = counter; corral.sleep(0); counter = v + 1 end
        local function b() corral.sleep(0); local v = counter; corral.sleep(0); counter = v + 1 end
        corral.gather(a, b, b)
      end)
      print(counter)
    ]])
    local out, code = sh("build/corral --explore=20 " .. path)
    assert.are.equal(0, code)
    local distinct = tonumber(out:match("(%d+) distinct outputs?"))
    assert.is_true(distinct >= 2, out)
    local seed = out:match("output %d+: %d+ runs?, first with %-%-seed=(%d+)\n  | 1\n")
    assert.is_not_nil(seed, out)
    -- replaying that seed gives that output
    local replay = sh("build/corral --clock=virtual --seed=" .. seed .. " " .. path)
    os.remove(path)
    assert.are.equal("1\n", replay)
  end)
end)
