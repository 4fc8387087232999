-- purelua: a minimal FIFO coroutine scheduler in plain Lua, written as a
-- benchmark anchor for corral (issue 4). It offers the slice of corral's API
-- that the workloads in bench/corral/ use, so the same workload files run on
-- both (BENCH_RT=purelua):
--
--   run(main)  spawn(fn, ...)  sleep(seconds)  gather(list)  now()
--   current_task()  Lock()  Event()  Queue([maxsize])
--
-- The loop is asyncio's: each iteration moves due timers to the ready queue,
-- then runs exactly the callbacks that were ready at its start. No
-- cancellation, no error tables, no deadlock report: an error in a task
-- propagates out of run(). It is what a competent Lua programmer writes in
-- an afternoon, no more: corral has to beat it.

local benchlib = require "benchlib"

local create, resume, yield, status =
    coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local clock, idle_sleep = benchlib.clock, benchlib.sleep
local unpack, pack = table.unpack, table.pack
local setmetatable = setmetatable

local M = {}

-- Ready queue: a ring of tasks in an array indexed head..tail.
local ready, head, tail = {}, 1, 0
-- Timer min-heap of {when, seq, task}, ordered by (when, seq).
local heap, heap_n, timer_seq = {}, 0, 0
-- The task being stepped, or nil between steps.
local current = nil

local Task = {}
Task.__index = Task

local function schedule(task)
    tail = tail + 1
    ready[tail] = task
end

-- FIFO of waiting tasks: {first, last, [first..last] = task}.
local function fifo_new()
    return { first = 1, last = 0 }
end

local function fifo_push(q, task)
    local last = q.last + 1
    q.last = last
    q[last] = task
end

local function fifo_pop(q)
    local first = q.first
    if first > q.last then return nil end
    local task = q[first]
    q[first] = nil
    q.first = first + 1
    return task
end

local function heap_less(a, b)
    return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2])
end

local function heap_push(entry)
    heap_n = heap_n + 1
    local i = heap_n
    while i > 1 do
        local parent = i // 2
        local p = heap[parent]
        if not heap_less(entry, p) then break end
        heap[i] = p
        i = parent
    end
    heap[i] = entry
end

local function heap_pop()
    local top = heap[1]
    local last = heap[heap_n]
    heap[heap_n] = nil
    heap_n = heap_n - 1
    if heap_n > 0 then
        local i = 1
        while true do
            local child = 2 * i
            if child > heap_n then break end
            if child < heap_n and heap_less(heap[child + 1], heap[child]) then
                child = child + 1
            end
            if not heap_less(heap[child], last) then break end
            heap[i] = heap[child]
            i = child
        end
        heap[i] = last
    end
    return top
end

-- Runs one step of `task`; on its end records the first result and wakes
-- the tasks waiting for it.
local function step(task)
    current = task
    local co = task.co
    local ok, value = resume(co)
    current = nil
    if status(co) == "dead" then
        if not ok then error(value, 0) end
        task.done, task.result = true, value
        local waiter = task.waiter
        if waiter then
            task.waiter = nil
            schedule(waiter)
            local more = task.waiters
            if more then
                task.waiters = nil
                for i = 1, #more do schedule(more[i]) end
            end
        end
    end
end

function M.spawn(fn, ...)
    local co
    if select("#", ...) == 0 then
        co = create(fn)
    else
        local args = pack(...)
        co = create(function() return fn(unpack(args, 1, args.n)) end)
    end
    local task = setmetatable({ co = co, done = false }, Task)
    schedule(task)
    return task
end

function M.current_task()
    return current
end

function M.now()
    return clock()
end

function M.sleep(seconds)
    local task = current
    if seconds > 0 then
        timer_seq = timer_seq + 1
        heap_push({ clock() + seconds, timer_seq, task })
    else
        schedule(task)
    end
    yield()
end

-- Suspends the running task until `task` is done; returns its first result.
local function await(task)
    if not task.done then
        if task.waiter == nil then
            task.waiter = current
        else
            local more = task.waiters
            if not more then more = {}; task.waiters = more end
            more[#more + 1] = current
        end
        yield()
    end
    return task.result
end
Task.await = await

function M.gather(list)
    local n = #list
    local results = { n = n }
    for i = 1, n do
        local item = list[i]
        if type(item) == "function" then list[i] = M.spawn(item) end
    end
    for i = 1, n do results[i] = await(list[i]) end
    return results
end

function M.run(main)
    ready, head, tail = {}, 1, 0
    heap, heap_n, timer_seq = {}, 0, 0
    local main_task = M.spawn(main)
    while not main_task.done do
        if heap_n > 0 then
            local now = clock()
            while heap_n > 0 and heap[1][1] <= now do
                schedule(heap_pop()[3])
            end
        end
        local stop = tail
        if head > stop then
            if heap_n == 0 then error("purelua: deadlock (main task blocked)") end
            local delay = heap[1][1] - clock()
            if delay > 0 then idle_sleep(delay) end
        end
        while head <= stop do
            local task = ready[head]
            ready[head] = nil
            head = head + 1
            step(task)
        end
    end
    return main_task.result
end

-- Lock: FIFO handoff; release gives the lock straight to the head waiter.
local Lock = {}
Lock.__index = Lock

function M.Lock()
    return setmetatable({ held = false, waiters = fifo_new() }, Lock)
end

function Lock:acquire()
    if self.held then
        fifo_push(self.waiters, current)
        yield()
    else
        self.held = true
    end
    return self
end

function Lock:release()
    local waiter = fifo_pop(self.waiters)
    if waiter then
        schedule(waiter)
    else
        self.held = false
    end
end

function Lock:locked()
    return self.held
end

Lock.__close = Lock.release

-- Event: set wakes every waiter, in order.
local Event = {}
Event.__index = Event

function M.Event()
    return setmetatable({ flag = false, waiters = {} }, Event)
end

function Event:wait()
    if not self.flag then
        local waiters = self.waiters
        waiters[#waiters + 1] = current
        yield()
    end
    return true
end

function Event:set()
    if self.flag then return end
    self.flag = true
    local waiters = self.waiters
    self.waiters = {}
    for i = 1, #waiters do schedule(waiters[i]) end
end

function Event:clear()
    self.flag = false
end

function Event:is_set()
    return self.flag
end

-- Queue: a ring of items, FIFO getters and putters; maxsize 0 is unbounded.
local Queue = {}
Queue.__index = Queue

function M.Queue(maxsize)
    return setmetatable({
        maxsize = maxsize or 0, first = 1, last = 0,
        getters = fifo_new(), putters = fifo_new(),
    }, Queue)
end

function Queue:qsize()
    return self.last - self.first + 1
end

function Queue:put(item)
    local maxsize = self.maxsize
    while maxsize > 0 and self.last - self.first + 1 >= maxsize do
        fifo_push(self.putters, current)
        yield()
    end
    local last = self.last + 1
    self.last = last
    self[last] = item
    local getter = fifo_pop(self.getters)
    if getter then schedule(getter) end
end

function Queue:get()
    while self.first > self.last do
        fifo_push(self.getters, current)
        yield()
    end
    local first = self.first
    local item = self[first]
    self[first] = nil
    self.first = first + 1
    local putter = fifo_pop(self.putters)
    if putter then schedule(putter) end
    return item
end

return M
