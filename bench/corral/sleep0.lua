-- sleep(0) switch: 10 tasks each call sleep(0) K times; ns per switch.
-- (10 tasks: the count with which the anchors reproduce issue 4's numbers;
-- with 1 or 2, asyncio and cqueues pay a poll syscall per switch.)
-- Usage: sleep0.lua [total_switches]
local benchlib = require "benchlib"
local rt = require(os.getenv("BENCH_RT") or "corral")

local TASKS = 10
local K = benchlib.size(500000) // TASKS

local function worker()
    local sleep = rt.sleep
    for _ = 1, K do sleep(0) end
end

benchlib.measure("sleep0", function()
    return rt.run(function()
        local tasks = {}
        for i = 1, TASKS do tasks[i] = rt.spawn(worker) end
        local t0 = benchlib.clock()
        rt.gather(tasks)
        return (benchlib.clock() - t0) * 1e9 / (TASKS * K)
    end)
end)
