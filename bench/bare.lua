-- The floor: what Lua's own coroutines cost with no scheduler at all.
--   bare.lua sleep0 [N]     one coroutine.resume/yield round trip, ns
--   bare.lua mem_event [N]  bytes per suspended coroutine (N of them, kept
--                           in an array), by the Lua allocator and by RSS
-- Prints the same RESULT names as the workloads they are the floor of.
local benchlib = require "benchlib"

local workload = arg[1]
local resume, yield = coroutine.resume, coroutine.yield

local function body()
    while true do yield() end
end

if workload == "sleep0" then
    local n = tonumber(arg[2]) or 5000000
    benchlib.measure("sleep0", function()
        local co = coroutine.create(body)
        local t0 = benchlib.clock()
        for _ = 1, n do resume(co) end
        return (benchlib.clock() - t0) * 1e9 / n
    end)
elseif workload == "mem_event" then
    local n = tonumber(arg[2]) or 100000
    local gc0, rss0 = benchlib.gc_bytes(), benchlib.rss()
    local suspended = {}
    for i = 1, n do
        local co = coroutine.create(body)
        resume(co)
        suspended[i] = co
    end
    local gc1, rss1 = benchlib.gc_bytes(), benchlib.rss()
    benchlib.result("mem_event", (gc1 - gc0) / n)
    if rss0 and rss1 then benchlib.result("mem_event_rss", (rss1 - rss0) / n) end
else
    io.stderr:write("usage: bare.lua {sleep0|mem_event} [N]\n")
    os.exit(2)
end
