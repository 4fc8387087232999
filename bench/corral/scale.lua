-- Scale: the cost of one operation as the number of tasks grows.
--   scale.lua switch N   N tasks loop on sleep(0); ns per switch
--   scale.lua spawn N    spawn N tasks and gather them; ns per task
--   scale.lua timer N    N tasks sleep a random time <= 50 ms; process CPU
--                        ns per task (idle waiting excluded, so the curve
--                        shows the timer heap, not the 50 ms)
--   scale.lua mem N      N tasks asleep at once (sleep(60)); bytes per task
--                        by the Lua allocator (mem) and by RSS (mem_rss),
--                        and the process's peak RSS so far (peak_rss)
-- The runtime is corral, or BENCH_RT (purelua, cqlib).
local benchlib = require "benchlib"
local rt = require(os.getenv("BENCH_RT") or "corral")

local series = arg[1]
local N = math.floor(assert(tonumber(arg[2]), "usage: scale.lua SERIES N"))

local function noop(i)
    return i
end

local function switch_pass()
    local rounds = math.max(2, 2000000 // N)
    return rt.run(function()
        local stop, ops = false, 0
        local function worker()
            local sleep = rt.sleep
            while not stop do
                sleep(0)
                ops = ops + 1
            end
        end
        for _ = 1, N do rt.spawn(worker) end
        rt.sleep(0) -- every worker has started
        rt.sleep(0) -- and switched once
        local ops0, t0 = ops, benchlib.clock()
        for _ = 1, rounds do rt.sleep(0) end
        local elapsed, done = benchlib.clock() - t0, ops - ops0
        stop = true
        rt.sleep(0)
        rt.sleep(0)
        return elapsed * 1e9 / done
    end)
end

local function spawn_pass()
    return rt.run(function()
        local spawn = rt.spawn
        local t0 = benchlib.clock()
        local tasks = {}
        for i = 1, N do tasks[i] = spawn(noop, i) end
        rt.gather(tasks)
        return (benchlib.clock() - t0) * 1e9 / N
    end)
end

math.randomseed(42)
local delays = {}
if series == "timer" then
    for i = 1, N do delays[i] = math.random() * 0.05 end
end

local function sleeper(delay)
    rt.sleep(delay)
end

local function timer_pass()
    return rt.run(function()
        local spawn = rt.spawn
        local t0 = benchlib.cpu()
        local tasks = {}
        for i = 1, N do tasks[i] = spawn(sleeper, delays[i]) end
        rt.gather(tasks)
        return (benchlib.cpu() - t0) * 1e9 / N
    end)
end

if series == "switch" then
    benchlib.measure("switch", switch_pass)
elseif series == "spawn" then
    benchlib.measure("spawn", spawn_pass)
elseif series == "timer" then
    benchlib.measure("timer", timer_pass)
elseif series == "mem" then
    rt.run(function()
        local gc0, rss0 = benchlib.gc_bytes(), benchlib.rss()
        for _ = 1, N do rt.spawn(sleeper, 60) end
        rt.sleep(0) -- every task is now asleep on its own timer
        local gc1, rss1 = benchlib.gc_bytes(), benchlib.rss()
        benchlib.result("mem", (gc1 - gc0) / N)
        if rss0 and rss1 then benchlib.result("mem_rss", (rss1 - rss0) / N) end
        local peak = benchlib.peak_rss()
        if peak then benchlib.result("peak_rss", peak) end
        io.stdout:flush()
        -- leave without waking them: run() ends with main (corral cancels
        -- the sleepers, purelua drops them)
    end)
    os.exit(0, false) -- skip closing the state: not part of the measure
else
    error("unknown series " .. tostring(series))
end
