-- spawn + run + gather: spawn N trivial tasks, gather them all; ns per task.
-- Usage: spawn.lua [tasks]
local benchlib = require "benchlib"
local rt = require(os.getenv("BENCH_RT") or "corral")

local N = benchlib.size(200000)

local function work(i)
    return i
end

benchlib.measure("spawn", function()
    return rt.run(function()
        local spawn = rt.spawn
        local t0 = benchlib.clock()
        local tasks = {}
        for i = 1, N do tasks[i] = spawn(work, i) end
        local r = rt.gather(tasks)
        local t1 = benchlib.clock()
        assert(r[N] == N, "gather lost a result")
        return (t1 - t0) * 1e9 / N
    end)
end)
