-- std.lua - the parts of corral written in Lua on top of the C core:
-- timeouts (timeout, wait_for), shield, wait, as_completed and task groups.
--
-- This file is compiled into corral.so and the runner (csrc/tools/embed.c)
-- and run once by luaopen_corral with the module table as its argument.

local corral = ...
if type(corral) ~= "table" then -- required by name: corral loads this itself
  return require "corral"
end

local is_error = corral.is_error
local Error = corral.Error
local spawn, current_task, now = corral.spawn, corral.current_task, corral.now
local call_soon, call_at, call_later = corral.call_soon, corral.call_at, corral.call_later
local Future = corral.Future
local pack, unpack = table.pack, table.unpack
local type, select, error, pcall, setmetatable = type, select, error, pcall, setmetatable

local function new_error(kind, message, fields)
  local e = fields or {}
  e.type, e.message = kind, message or ""
  return setmetatable(e, Error)
end

local function need_task(fname)
  local task = current_task()
  if task == nil then error(fname .. ": no running task", 3) end
  return task
end

local function check_seconds(fname, argn, seconds)
  if seconds == nil then return nil end
  local n = tonumber(seconds)
  if n == nil or n ~= n then
    error(("bad argument #%d to '%s' (number expected, got %s)"):format(
      argn, fname, n ~= n and "NaN" or type(seconds)), 3)
  end
  return n
end

local function is_awaitable(x)
  local mt = getmetatable(x)
  return mt ~= nil and (mt.__name == "corral.Task" or mt.__name == "corral.Future")
end

-- Raise the misuse error for x if it cannot be awaited (level: the
-- caller of the corral function, counted from check_awaitable's caller).
local function check_awaitable(fname, x, argn, item, level)
  local t = type(x)
  if not (is_awaitable(x) or t == "function" or t == "thread") then
    error(("bad argument #%d to '%s' (%stask, future, function or coroutine expected, got %s)"):format(
      argn, fname, item and ("item #" .. item .. ": ") or "", t), level + 1)
  end
end

-- A Task or Future for x: functions and coroutines are spawned.
local function ensure_future(fname, x, argn)
  check_awaitable(fname, x, argn, nil, 3)
  if is_awaitable(x) then return x end
  return spawn(x)
end

local function finish(ok, ...)
  if not ok then error((...), 0) end
  return ...
end

----------------------------------------------------------------------------
-- corral.timeout(seconds, fn, ...): asyncio.timeout as a function.

function corral.timeout(seconds, fn, ...)
  local task = need_task("corral.timeout")
  seconds = check_seconds("timeout", 1, seconds)
  if type(fn) ~= "function" then
    error(("bad argument #2 to 'timeout' (function expected, got %s)"):format(type(fn)), 2)
  end
  local cancelling = task:cancelling()
  local expiring = false
  local handle
  if seconds ~= nil then
    local function on_timeout()
      task:cancel()
      expiring = true
    end
    if seconds <= 0 then
      handle = call_soon(on_timeout)
    else
      handle = call_at(now() + seconds, on_timeout)
    end
  end
  local res = pack(pcall(fn, ...))
  if handle then handle:cancel() end
  if expiring then
    if task:uncancel() <= cancelling and not res[1] and is_error(res[2], "CancelledError") then
      error(new_error("TimeoutError", ""), 0)
    end
  end
  if not res[1] then error(res[2], 0) end
  return unpack(res, 2, res.n)
end

----------------------------------------------------------------------------
-- corral.wait_for(aw, seconds)

local function cancel_and_wait(fut)
  local waiter = Future()
  local function release() if not waiter:done() then waiter:set_result() end end
  fut:add_done_callback(release)
  local ok, err = pcall(function()
    fut:cancel()
    waiter:await()
  end)
  fut:remove_done_callback(release)
  if not ok then error(err, 0) end
end

function corral.wait_for(aw, seconds)
  need_task("corral.wait_for")
  seconds = check_seconds("wait_for", 2, seconds)
  if type(aw) == "function" then
    if seconds ~= nil and seconds <= 0 then
      -- As asyncio: the function becomes a task that is cancelled before
      -- its first step (so it never runs), then TimeoutError.
      cancel_and_wait(spawn(aw))
      error(new_error("TimeoutError", ""), 0)
    end
    return corral.timeout(seconds, aw)
  end
  local fut = ensure_future("wait_for", aw, 1)
  if seconds ~= nil and seconds <= 0 then
    if fut:done() then return fut:result() end
    cancel_and_wait(fut)
    local res = pack(pcall(fut.result, fut))
    if not res[1] then
      if is_error(res[2], "CancelledError") then error(new_error("TimeoutError", ""), 0) end
      error(res[2], 0)
    end
    return unpack(res, 2, res.n)
  end
  return corral.timeout(seconds, fut.await, fut)
end

----------------------------------------------------------------------------
-- corral.shield(aw)

function corral.shield(aw)
  need_task("corral.shield")
  local inner = ensure_future("shield", aw, 1)
  if inner:done() then return inner:await() end
  local outer = Future()
  local function inner_done(f)
    if outer:cancelled() then
      if not f:cancelled() then f:exception() end
      return
    end
    if f:cancelled() then
      outer:cancel()
    else
      local ok, err = pcall(f.exception, f)
      if ok and err ~= nil then
        outer:set_exception(err)
      else
        outer:set_result(f:result())
      end
    end
  end
  inner:add_done_callback(inner_done)
  outer:add_done_callback(function()
    if not inner:done() then inner:remove_done_callback(inner_done) end
  end)
  return outer:await()
end

----------------------------------------------------------------------------
-- corral.wait(list [, opts]) -> done, pending

local RETURN_WHEN = { ALL_COMPLETED = true, FIRST_COMPLETED = true, FIRST_EXCEPTION = true }

-- The items of list as Tasks/Futures, duplicates once; every item is
-- checked before any function is spawned.
local function distinct_futures(fname, list)
  for i = 1, #list do
    check_awaitable(fname, list[i], 1, i, 4)
  end
  local fs, seen = {}, {}
  for i = 1, #list do
    local f = list[i]
    if not is_awaitable(f) then f = spawn(f) end
    if not seen[f] then
      seen[f] = true
      fs[#fs + 1] = f
    end
  end
  return fs
end

function corral.wait(list, opts)
  need_task("corral.wait")
  if type(list) ~= "table" or is_awaitable(list) then
    error(("bad argument #1 to 'wait' (table expected, got %s)"):format(type(list)), 2)
  end
  if #list == 0 then error("bad argument #1 to 'wait' (set of tasks/futures is empty)", 2) end
  opts = opts or {}
  local return_when = opts.return_when or "ALL_COMPLETED"
  if not RETURN_WHEN[return_when] then
    error(("bad argument #2 to 'wait' (invalid return_when value: %s)"):format(tostring(return_when)), 2)
  end
  local timeout = check_seconds("wait", 2, opts.timeout)
  local fs = distinct_futures("wait", list)
  local counter = #fs
  local waiter = Future()
  local timeout_handle
  if timeout ~= nil then
    timeout_handle = call_later(timeout, function()
      if not waiter:done() then waiter:set_result() end
    end)
  end
  local function on_completion(f)
    counter = counter - 1
    if counter <= 0 or return_when == "FIRST_COMPLETED"
        or (return_when == "FIRST_EXCEPTION" and not f:cancelled() and f:exception() ~= nil) then
      if timeout_handle then timeout_handle:cancel() end
      if not waiter:done() then waiter:set_result() end
    end
  end
  for i = 1, #fs do fs[i]:add_done_callback(on_completion) end
  local ok, err = pcall(waiter.await, waiter)
  if timeout_handle then timeout_handle:cancel() end
  for i = 1, #fs do fs[i]:remove_done_callback(on_completion) end
  if not ok then error(err, 0) end
  local done, pending = {}, {}
  for i = 1, #fs do
    local f = fs[i]
    if f:done() then
      done[#done + 1] = f
      if not f:cancelled() then f:exception() end -- handed out: retrieved
    else
      pending[#pending + 1] = f
    end
  end
  return done, pending
end

----------------------------------------------------------------------------
-- corral.as_completed(list [, timeout]) -> iterator

function corral.as_completed(list, timeout)
  need_task("corral.as_completed")
  if type(list) ~= "table" or is_awaitable(list) then
    error(("bad argument #1 to 'as_completed' (table expected, got %s)"):format(type(list)), 2)
  end
  timeout = check_seconds("as_completed", 2, timeout)
  local fs = distinct_futures("as_completed", list)
  local total, delivered = #fs, 0
  local queue, head, tail = {}, 1, 0
  local todo = {}
  local waiter, timeout_handle
  local function push(v)
    tail = tail + 1
    queue[tail] = v
    if waiter ~= nil and not waiter:done() then waiter:set_result() end
  end
  local function on_completion(f)
    if todo[f] then
      todo[f] = nil
      push(f)
    end
  end
  for i = 1, total do
    todo[fs[i]] = true
    fs[i]:add_done_callback(on_completion)
  end
  if timeout ~= nil and total > 0 then
    timeout_handle = call_later(timeout, function()
      for i = 1, total do
        if todo[fs[i]] then fs[i]:remove_done_callback(on_completion) end
      end
      todo = {}
      push(false)
    end)
  end
  return function()
    if delivered >= total then return nil end
    need_task("as_completed")
    while head > tail do
      waiter = Future()
      waiter:await()
      waiter = nil
    end
    local v = queue[head]
    queue[head] = nil
    head = head + 1
    if v == false then
      delivered = total
      error(new_error("TimeoutError", ""), 0)
    end
    delivered = delivered + 1
    if delivered == total and timeout_handle then timeout_handle:cancel() end
    return v
  end
end

----------------------------------------------------------------------------
-- corral.group(function(g) ... end): asyncio.TaskGroup.

local Group = {}
Group.__index = Group
Group.__name = "corral.TaskGroup"

function Group:__tostring()
  local state = self._exiting and (self._ntasks == 0 and "finished" or "exiting")
    or (self._aborting and "aborting" or "entered")
  return ("<corral.TaskGroup tasks=%d errors=%d %s>"):format(self._ntasks, #self._errors, state)
end

function Group:_abort()
  self._aborting = true
  for i = 1, #self._order do
    local t = self._order[i]
    if self._tasks[t] and not t:done() then t:cancel() end
  end
end

function Group:_on_task_done(task)
  if self._tasks[task] then
    self._tasks[task] = nil
    self._ntasks = self._ntasks - 1
  end
  local fut = self._on_completed
  if fut ~= nil and self._ntasks == 0 and not fut:done() then fut:set_result(true) end
  if task:cancelled() then return end
  local exc = task:exception()
  if exc == nil then return end
  self._errors[#self._errors + 1] = exc
  if self._parent:done() then return end
  if not self._aborting and not self._parent_cancel_requested then
    self:_abort()
    self._parent_cancel_requested = true
    self._parent:cancel()
  end
end

function Group:spawn(fn, ...)
  if self._exiting and self._ntasks == 0 then error("TaskGroup is finished", 2) end
  if self._aborting then error("TaskGroup is shutting down", 2) end
  local task = spawn(fn, ...)
  if task:done() then
    self:_on_task_done(task)
  else
    self._tasks[task] = true
    self._order[#self._order + 1] = task
    self._ntasks = self._ntasks + 1
    task:add_done_callback(self._done_callback)
  end
  return task
end

function corral.group(body, ...)
  local parent = need_task("corral.group")
  if type(body) ~= "function" then
    error(("bad argument #1 to 'group' (function expected, got %s)"):format(type(body)), 2)
  end
  local g = setmetatable({
    _parent = parent, _tasks = {}, _order = {}, _ntasks = 0, _errors = {},
    _aborting = false, _exiting = false, _parent_cancel_requested = false,
  }, Group)
  g._done_callback = function(task) g:_on_task_done(task) end
  local res = pack(pcall(body, g, ...))
  g._exiting = true
  local propagate_cancel = nil
  if not res[1] then
    if is_error(res[2], "CancelledError") then propagate_cancel = res[2] end
    if not g._aborting then g:_abort() end
  end
  while g._ntasks > 0 do
    if g._on_completed == nil then g._on_completed = Future() end
    local ok, err = pcall(g._on_completed.await, g._on_completed)
    if not ok and is_error(err, "CancelledError") and not g._aborting then
      propagate_cancel = err
      g:_abort()
    end
    g._on_completed = nil
  end
  if g._parent_cancel_requested then
    if parent:uncancel() == 0 then propagate_cancel = nil end
  end
  if propagate_cancel ~= nil and #g._errors == 0 then error(propagate_cancel, 0) end
  if not res[1] and not is_error(res[2], "CancelledError") then
    g._errors[#g._errors + 1] = res[2]
  end
  if #g._errors > 0 then
    if parent:cancelling() > 0 then
      parent:uncancel()
      parent:cancel()
    end
    local n = #g._errors
    error(new_error("GroupError",
      ("unhandled errors in a TaskGroup (%d sub-exception%s)"):format(n, n == 1 and "" or "s"),
      { errors = g._errors }), 0)
  end
  return unpack(res, 2, res.n)
end

return corral
