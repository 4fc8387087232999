-- Queue(100): one producer puts N items, one consumer gets them; ns per item
-- (one put + one get).
-- Usage: queue.lua [items]
local benchlib = require "benchlib"
local rt = require(os.getenv("BENCH_RT") or "corral")

local ITEMS = benchlib.size(300000)

local function producer(queue)
    for i = 1, ITEMS do queue:put(i) end
end

local function consumer(queue)
    local sum = 0
    for _ = 1, ITEMS do sum = sum + queue:get() end
    return sum
end

benchlib.measure("queue", function()
    return rt.run(function()
        local queue = rt.Queue(100)
        local t0 = benchlib.clock()
        local r = rt.gather({ rt.spawn(producer, queue), rt.spawn(consumer, queue) })
        local t1 = benchlib.clock()
        assert(r[2] == ITEMS * (ITEMS + 1) // 2, "queue lost items")
        return (t1 - t0) * 1e9 / ITEMS
    end)
end)
