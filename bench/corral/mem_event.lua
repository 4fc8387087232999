-- Memory per task blocked on an Event: N tasks wait on one Event; bytes per
-- task, as counted by the Lua allocator (mem_event) and as resident set
-- growth (mem_event_rss, which also sees memory outside Lua's allocator).
-- Usage: mem_event.lua [tasks]
local benchlib = require "benchlib"
local rt = require(os.getenv("BENCH_RT") or "corral")

local N = benchlib.size(100000)
local remaining = N

local function waiter(event)
    event:wait()
    remaining = remaining - 1
end

rt.run(function()
    local event = rt.Event()
    local gc0, rss0 = benchlib.gc_bytes(), benchlib.rss()
    for _ = 1, N do rt.spawn(waiter, event) end
    rt.sleep(0) -- every waiter is now blocked in wait()
    local gc1, rss1 = benchlib.gc_bytes(), benchlib.rss()
    benchlib.result("mem_event", (gc1 - gc0) / N)
    if rss0 and rss1 then benchlib.result("mem_event_rss", (rss1 - rss0) / N) end
    event:set()
    while remaining > 0 do rt.sleep(0) end
end)
