-- corral.busted: run busted `it` bodies as corral tasks.
--
--   local corral = require "corral.busted"
--   it("gets the lock", corral.test(function()
--     local lock = corral.Lock()
--     local _ <close> = lock:acquire()
--     assert.is_true(lock:locked())
--   end, { clock = "virtual", timeout = 1 }))
--
-- corral.test(fn [, opts]) returns a function for `it`: it runs fn as the
-- main task of a fresh loop and fails the test with a clear message if the
-- body raises, takes longer than opts.timeout seconds (on the loop's clock),
-- deadlocks, or returns while tasks it spawned are still pending.
-- opts: clock ("virtual" by default here), timeout (seconds), seed, debug.

local corral = require "corral"

local pack, unpack = table.pack, table.unpack

local function describe_error(err)
  if corral.is_error(err) then
    local text = tostring(err)
    if type(err.traceback) == "string" then text = text .. "\n" .. err.traceback end
    return text
  end
  return tostring(err)
end

function corral.test(fn, opts)
  if type(fn) ~= "function" then
    error(("bad argument #1 to 'test' (function expected, got %s)"):format(type(fn)), 2)
  end
  opts = opts or {}
  local timeout = opts.timeout
  if timeout ~= nil and type(timeout) ~= "number" then
    error(("bad option 'timeout' to 'test' (number expected, got %s)"):format(type(timeout)), 2)
  end
  return function(...)
    local args = pack(...)
    local failure
    local ok, err = pcall(corral.run, function()
      local me = corral.current_task()
      local res
      if timeout ~= nil then
        res = pack(pcall(corral.timeout, timeout, fn, unpack(args, 1, args.n)))
        if not res[1] and corral.is_error(res[2], "TimeoutError") then
          failure = ("corral.test: the test took longer than its timeout of %g s\n%s"):format(
            timeout, corral.dump())
          return
        end
      else
        res = pack(pcall(fn, unpack(args, 1, args.n)))
      end
      if not res[1] then
        if corral.is_error(res[2], "DeadlockError") then
          failure = "corral.test: the test deadlocked: " .. tostring(res[2].message)
        else
          failure = "corral.test: the test body raised: " .. describe_error(res[2])
        end
        return
      end
      local pending = 0
      for _, t in ipairs(corral.all_tasks()) do
        if t ~= me then pending = pending + 1 end
      end
      if pending > 0 then
        failure = ("corral.test: the test left %d task%s pending\n%s"):format(
          pending, pending == 1 and "" or "s", corral.dump())
      end
    end, { clock = opts.clock or "virtual", seed = opts.seed, debug = opts.debug, name = "test" })
    if not ok then
      if corral.is_error(err, "DeadlockError") then
        failure = "corral.test: the test deadlocked: " .. tostring(err.message)
      else
        failure = "corral.test: " .. describe_error(err)
      end
    end
    if failure then error(failure, 0) end
  end
end

return corral
