-- cqlib: the workloads' vocabulary (run, spawn, sleep, gather, Lock, Event,
-- Queue) built idiomatically on cqueues: cq:wrap for tasks, cqueues.sleep
-- for timers and yields, cqueues.condition for every wait. Lock and Queue
-- hand over FIFO as corral's do, so a releasing task cannot barge back in.

local cqueues = require "cqueues"
local condition = require "cqueues.condition"

local M = { sleep = cqueues.sleep, now = cqueues.monotime }

local loop -- the controller of the current run()

function M.run(main)
    loop = cqueues.new()
    local result
    loop:wrap(function() result = main() end)
    assert(loop:loop())
    loop = nil
    return result
end

-- spawn(fn, ...) -> task; task.done, task.result (first value).
function M.spawn(fn, ...)
    local task = { done = false }
    loop:wrap(function(...)
        task.result = fn(...)
        task.done = true
        local cv = task.cv
        if cv then cv:signal() end
    end, ...)
    return task
end

function M.gather(list)
    local results = { n = #list }
    for i = 1, #list do
        local task = list[i]
        if not task.done then
            local cv = task.cv
            if not cv then cv = condition.new(); task.cv = cv end
            repeat cv:wait() until task.done
        end
        results[i] = task.result
    end
    return results
end

-- Lock: release hands the lock to the longest waiter (FIFO condition).
local Lock = {}
Lock.__index = Lock

function M.Lock()
    return setmetatable({ held = false, waiting = 0, cv = condition.new() }, Lock)
end

function Lock:acquire()
    if self.held then
        self.waiting = self.waiting + 1
        self.cv:wait() -- woken by release, which left the lock held for us
    else
        self.held = true
    end
    return self
end

function Lock:release()
    if self.waiting > 0 then
        self.waiting = self.waiting - 1
        self.cv:signal(1)
    else
        self.held = false
    end
end

Lock.__close = Lock.release

local Event = {}
Event.__index = Event

function M.Event()
    return setmetatable({ flag = false, cv = condition.new() }, Event)
end

function Event:wait()
    if not self.flag then self.cv:wait() end
    return true
end

function Event:set()
    if not self.flag then
        self.flag = true
        self.cv:signal()
    end
end

-- Queue: a ring of items; getters and putters wait on their own condition.
local Queue = {}
Queue.__index = Queue

function M.Queue(maxsize)
    return setmetatable({ maxsize = maxsize or 0, first = 1, last = 0,
        can_get = condition.new(), can_put = condition.new() }, Queue)
end

function Queue:put(item)
    local maxsize = self.maxsize
    while maxsize > 0 and self.last - self.first + 1 >= maxsize do
        self.can_put:wait()
    end
    local last = self.last + 1
    self.last = last
    self[last] = item
    self.can_get:signal(1)
end

function Queue:get()
    while self.first > self.last do
        self.can_get:wait()
    end
    local first = self.first
    local item = self[first]
    self[first] = nil
    self.first = first + 1
    self.can_put:signal(1)
    return item
end

return M
