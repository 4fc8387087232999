-- Event broadcast: W tasks wait on one Event; time from set() until every
-- waiter has woken and finished (the last one sets a second Event), per
-- waiter. Repeated R times with fresh waiters; spawning is not timed.
-- Usage: event.lua [total_waiters]
local benchlib = require "benchlib"
local rt = require(os.getenv("BENCH_RT") or "corral")

local WAITERS = 10000
local ROUNDS = math.max(1, benchlib.size(50000) // WAITERS)

local remaining, all_done

local function waiter(event)
    event:wait()
    remaining = remaining - 1
    if remaining == 0 then all_done:set() end
end

benchlib.measure("event", function()
    return rt.run(function()
        local elapsed = 0
        for _ = 1, ROUNDS do
            local event = rt.Event()
            all_done = rt.Event()
            remaining = WAITERS
            for _ = 1, WAITERS do rt.spawn(waiter, event) end
            rt.sleep(0) -- every waiter is now blocked in wait()
            local t0 = benchlib.clock()
            event:set()
            all_done:wait()
            elapsed = elapsed + (benchlib.clock() - t0)
        end
        return elapsed * 1e9 / (ROUNDS * WAITERS)
    end)
end)
