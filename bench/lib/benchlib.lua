-- benchlib: what every Lua benchmark program shares.
--
-- clock() is a monotonic wall clock in seconds (lua-system, else cqueues,
-- else CPU time as a last resort); cpu() is process CPU time; rss() is the
-- resident set in bytes; gc_bytes() is what the Lua allocator holds after a
-- full collection; result() prints the one line the driver parses.

local M = {}

local ok, system = pcall(require, "system")
if ok and type(system) == "table" and system.monotime then
    M.clock, M.clock_name = system.monotime, "lua-system monotime"
    M.sleep = system.sleep
else
    local ok2, cqueues = pcall(require, "cqueues")
    if ok2 and type(cqueues) == "table" and cqueues.monotime then
        M.clock, M.clock_name = cqueues.monotime, "cqueues monotime"
    else
        M.clock, M.clock_name = os.clock, "os.clock (CPU time: timer workloads undercount)"
    end
end

-- Wait for `seconds` of wall time; busy-waits when no sleep call exists.
function M.sleep_fallback(seconds)
    local deadline = M.clock() + seconds
    while M.clock() < deadline do end
end
M.sleep = M.sleep or M.sleep_fallback

M.cpu = os.clock

-- Resident set size in bytes (Linux /proc), or nil elsewhere.
function M.rss()
    local f = io.open("/proc/self/statm", "r")
    if not f then return nil end
    local _, resident = f:read("n", "n")
    f:close()
    return resident and resident * 4096 or nil
end

-- Peak resident set size of the process so far in bytes (VmHWM), or nil.
function M.peak_rss()
    local f = io.open("/proc/self/status", "r")
    if not f then return nil end
    local text = f:read("a")
    f:close()
    local kib = text:match("VmHWM:%s*(%d+)")
    return kib and tonumber(kib) * 1024 or nil
end

-- Bytes held by the Lua allocator after two full collections.
function M.gc_bytes()
    collectgarbage("collect")
    collectgarbage("collect")
    return collectgarbage("count") * 1024
end

-- Print the machine-readable line: `RESULT <name> <value>`.
function M.result(name, value)
    io.write(string.format("RESULT %s %.3f\n", name, value))
    io.flush()
end

-- Print a line the driver shows but does not parse as a measurement.
function M.info(fmt, ...)
    io.write("INFO ", string.format(fmt, ...), "\n")
end

-- Runs `pass()` (which returns the measured value) once untimed as a
-- warm-up, so that the timed pass reuses memory the process already has
-- (first-touch page faults are very slow on this VM), then once more and
-- prints its value. BENCH_COLD=1 skips the warm-up.
function M.measure(name, pass)
    if os.getenv("BENCH_COLD") ~= "1" then
        pass()
        collectgarbage("collect")
        collectgarbage("collect")
    end
    M.result(name, pass())
end

-- The size argument: `arg[1]` as an integer, or `default`.
function M.size(default)
    local n = tonumber(arg and arg[1])
    return n and math.floor(n) or default
end

return M
