-- Tutorial ex_4_2: N tasks each do, holding one Lock,
--   v = counter; sleep(0); counter = v + 1
-- Total time of the whole run() call, in ns.
-- Usage: ex42.lua [tasks]
local benchlib = require "benchlib"
local rt = require(os.getenv("BENCH_RT") or "corral")

local N = benchlib.size(10000)
local counter

local function worker(lock)
    local _ <close> = lock:acquire()
    local v = counter
    rt.sleep(0)
    counter = v + 1
end

benchlib.measure("ex42", function()
    counter = 0
    local t0 = benchlib.clock()
    rt.run(function()
        local lock = rt.Lock()
        local tasks = {}
        for i = 1, N do tasks[i] = rt.spawn(worker, lock) end
        rt.gather(tasks)
    end)
    local t1 = benchlib.clock()
    assert(counter == N, "counter is " .. counter)
    return (t1 - t0) * 1e9
end)
