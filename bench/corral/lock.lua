-- Contended lock round: 2 tasks each loop acquire, sleep(0), release; ns per
-- round (one task's acquire + sleep(0) + release).
-- Usage: lock.lua [rounds_per_task]
local benchlib = require "benchlib"
local rt = require(os.getenv("BENCH_RT") or "corral")

local ROUNDS = benchlib.size(30000)

local function worker(lock)
    local sleep = rt.sleep
    for _ = 1, ROUNDS do
        lock:acquire()
        sleep(0)
        lock:release()
    end
end

benchlib.measure("lock", function()
    return rt.run(function()
        local lock = rt.Lock()
        local t0 = benchlib.clock()
        rt.gather({ rt.spawn(worker, lock), rt.spawn(worker, lock) })
        return (benchlib.clock() - t0) * 1e9 / (2 * ROUNDS)
    end)
end)
