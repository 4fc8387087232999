-- Timer tasks: N tasks each sleep a random time in [0, 50 ms] (fixed seed),
-- gathered; wall time per task on the real monotonic clock.
-- Usage: timer.lua [tasks]
local benchlib = require "benchlib"
local rt = require(os.getenv("BENCH_RT") or "corral")

local N = benchlib.size(100000)

math.randomseed(42)
local delays = {}
for i = 1, N do delays[i] = math.random() * 0.05 end

local function sleeper(delay)
    rt.sleep(delay)
end

benchlib.measure("timer", function()
    return rt.run(function()
        local spawn = rt.spawn
        local t0 = benchlib.clock()
        local tasks = {}
        for i = 1, N do tasks[i] = spawn(sleeper, delays[i]) end
        rt.gather(tasks)
        return (benchlib.clock() - t0) * 1e9 / N
    end)
end)
