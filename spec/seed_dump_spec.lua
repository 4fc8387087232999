-- Seeing concurrency: schedule shuffling (seed) and corral.dump().

local corral = require "corral"

local function order(seed)
  local o = {}
  corral.run(function()
    for i = 1, 8 do corral.spawn(function() o[#o + 1] = i end) end
    corral.sleep(0)
  end, { clock = "virtual", seed = seed })
  return table.concat(o, ",")
end

describe("seed", function()
  it("without a seed, ready tasks run in FIFO order", function()
    local o = {}
    corral.run(function()
      for i = 1, 8 do corral.spawn(function() o[#o + 1] = i end) end
      corral.sleep(0)
    end, { clock = "virtual" })
    assert.are.equal("1,2,3,4,5,6,7,8", table.concat(o, ","))
  end)

  it("the same seed gives the same order, and seeds give different orders", function()
    assert.are.equal(order(1), order(1))
    assert.are.equal(order(42), order(42))
    local seen = {}
    for seed = 1, 10 do seen[order(seed)] = true end
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.is_true(n > 1)
  end)

  it("waiters of a primitive stay FIFO under shuffling", function()
    for seed = 1, 5 do
      local got = {}
      corral.run(function()
        local lock = corral.Lock()
        local _ <close> = lock:acquire()
        local ts = {}
        for i = 1, 5 do
          ts[i] = corral.spawn(function() local _ <close> = lock:acquire(); got[#got + 1] = i end)
          corral.sleep(0) -- each queues in turn
        end
        lock:release()
        corral.gather(table.unpack(ts))
        lock:acquire()
      end, { clock = "virtual", seed = seed })
      assert.are.equal("1,2,3,4,5", table.concat(got, ","))
    end
  end)

  it("a non-integer seed is misuse", function()
    assert.has_error(function() corral.run(function() end, { seed = "x" }) end)
  end)
end)

describe("corral.dump", function()
  it("lists every pending task with what it is doing", function()
    local text = corral.run(function()
      local lock = corral.Lock()
      local _ <close> = lock:acquire()
      corral.spawn(function() lock:acquire() end)
      corral.spawn(function() corral.sleep(5) end)
      corral.sleep(0)
      corral.spawn(function() end)
      return corral.dump()
    end, { clock = "virtual" })
    assert.is_truthy(text:find("4 tasks", 1, true), text)
    assert.is_truthy(text:find("'Task-1' running", 1, true), text)
    assert.is_truthy(text:find("'Task-2' waiting on Lock", 1, true), text)
    assert.is_truthy(text:find("'Task-3' sleeping until t=5", 1, true), text)
    assert.is_truthy(text:find("'Task-4' ready", 1, true), text)
  end)

  it("needs a running loop", function()
    assert.has_error(function() corral.dump() end, "corral.dump: no running loop")
  end)
end)

describe("trace", function()
  local function read(path)
    local f = assert(io.open(path))
    local text = f:read("a")
    f:close()
    os.remove(path)
    return text
  end

  it("writes a Chrome trace-event file: tracks, run slices, waits named after the primitive", function()
    local path = os.tmpname()
    corral.run(function()
      local lock = corral.Lock()
      local _ <close> = lock:acquire()
      local t = corral.spawn(function() local _ <close> = lock:acquire() end)
      corral.sleep(1)
      lock:release()
      t:await()
      lock:acquire()
    end, { clock = "virtual", trace = path })
    local text = read(path)
    assert.is_truthy(text:find('^{"displayTimeUnit":"ms","traceEvents":%['), text)
    assert.is_truthy(text:find('%]}\n$'), text)
    assert.is_truthy(text:find('{"name":"thread_name","ph":"M","pid":1,"tid":2,"args":{"name":"Task%-2"}}'), text)
    assert.is_truthy(text:find('{"name":"spawn","ph":"i"', 1, true), text)
    assert.is_truthy(text:find('{"name":"run","ph":"X"', 1, true), text)
    assert.is_truthy(text:find('{"name":"Lock","cat":"wait","ph":"X","pid":1,"tid":2,"ts":0.000,"dur":1000000.000}', 1, true), text)
    assert.is_truthy(text:find('{"name":"sleep","cat":"wait"', 1, true), text)
    assert.is_truthy(text:find('{"name":"wake","ph":"i"', 1, true), text)
  end)

  it("records cancellations", function()
    local path = os.tmpname()
    corral.run(function()
      local t = corral.spawn(function() corral.sleep(10) end)
      corral.sleep(0)
      t:cancel()
      pcall(t.await, t)
    end, { clock = "virtual", trace = path })
    local text = read(path)
    assert.is_truthy(text:find('{"name":"cancel","ph":"i","s":"t","pid":1,"tid":2', 1, true), text)
  end)

  it("a trace file that cannot be opened is misuse", function()
    assert.has_error(function()
      corral.run(function() end, { trace = "/nonexistent-dir/x.json" })
    end)
  end)
end)
