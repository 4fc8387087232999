-- spec/support.lua: the helpers the specs share (`local support = require
-- "support"`; .busted puts spec/ on the Lua path). Running on the virtual
-- clock, recording events, catching errors and checking their types, the
-- tostring of primitives, and running scripts in a child process.

local corral = require "corral"
-- busted's assert (luassert): a module does not see the spec's globals.
local assert = require "luassert"

local support = {}

-- ---- running ---------------------------------------------------------------

-- corral.run(fn, opts) on the virtual clock: opts.clock defaults to "virtual"
-- (opts is filled in place).
function support.vrun(fn, opts)
  opts = opts or {}
  opts.clock = opts.clock or "virtual"
  return corral.run(fn, opts)
end

-- An `it` body that runs `main` as the main task of a fresh loop.
function support.async(main)
  return function() return support.vrun(main) end
end

-- `await asyncio.sleep(0)`, n times (once by default).
function support.tick(n)
  for _ = 1, n or 1 do corral.sleep(0) end
end

-- corral.now() as text: "1" and "1.5" rather than "1.0".
function support.at() return ("%g"):format(corral.now()) end

-- ---- recording ---------------------------------------------------------------

-- An event list and a function that appends to it.
function support.recorder()
  local ev = {}
  return ev, function(x) ev[#ev + 1] = x end
end

-- A task body: records tN and sleeps(0), n times.
function support.ticker(rec, n)
  return function()
    for i = 1, n do
      rec("t" .. i)
      corral.sleep(0)
    end
  end
end

-- A to-be-closed value that records `name` when closed.
function support.closer(rec, name)
  return setmetatable({}, { __close = function() rec(name) end })
end

-- ---- errors ------------------------------------------------------------------

-- s is a string that contains sub (plain search).
function support.has(s, sub)
  return type(s) == "string" and s:find(sub, 1, true) ~= nil
end

-- The error a call raises, or nil if it returned.
function support.error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then return nil end
  return err
end

function support.is_cancel(err) return corral.is_error(err, "CancelledError") end

function support.assert_cancelled(err)
  assert(corral.is_error(err, "CancelledError"),
    "expected a CancelledError, got " .. tostring(err))
end

-- Asserts that fn(...) raises the misuse error string `expected`, in the
-- luaL_error form (an optional "source:line: " position in front).
function support.assert_misuse(expected, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, ("expected error %q, got success"):format(expected))
  assert(type(err) == "string",
    ("expected a misuse error string %q, got %s"):format(expected, tostring(err)))
  local prefix = err:sub(1, #err - #expected)
  assert(err:sub(-#expected) == expected and (prefix == "" or prefix:match("^.-:%d+: $")),
    ("expected error %q, got %q"):format(expected, err))
end

-- Asserts that a pcall failed with a "no running task" error:
-- assert_no_running_task(pcall(fn, ...)).
function support.assert_no_running_task(ok, err)
  assert.is_false(ok)
  assert.is_truthy(tostring(err):find("no running task", 1, true),
    "expected a 'no running task' error, got " .. tostring(err))
end

-- The same for a named function: the error reads "<fname>: no running task".
function support.assert_no_running_task_in(fname, ok, err)
  assert.is_false(ok)
  assert.is_truthy(tostring(err):find(fname .. ": no running task", 1, true),
    ("expected '%s: no running task', got %s"):format(fname, tostring(err)))
end

-- ---- tostring of primitives ----------------------------------------------------

-- Asserts that tostring(obj) is "<corral.<class> 0x<address> <fields>>".
function support.assert_repr(obj, class, fields)
  local s = tostring(obj)
  local pat = "^<corral%." .. class .. " 0x%x+ " .. fields:gsub("%p", "%%%0") .. ">$"
  assert(s:match(pat), ("expected <corral.%s 0x.. %s>, got %s"):format(class, fields, s))
end

-- repr_is(obj, extra) for one class: tostring(obj) is
-- "<corral.<class> 0x<address> [<extra>]>".
function support.repr_checker(class)
  return function(obj, extra)
    support.assert_repr(obj, class, "[" .. extra .. "]")
  end
end

-- ---- child processes ---------------------------------------------------------

-- Writes src to a temporary file, runs `command .. path .. redirection`
-- and returns what it printed.
local function run_file(src, command, redirection)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(src)
  f:close()
  local p = assert(io.popen(command .. path .. redirection))
  local out = p:read("a")
  p:close()
  os.remove(path)
  return out
end

-- Runs `src` through build/corral with stderr sent to `stderr` (a shell
-- redirection target; by default "&1", merged into stdout); returns the output.
function support.run_script(src, stderr)
  return run_file(src, "LUA_PATH='lua/?.lua;lua/?/init.lua;;' build/corral ",
    " 2>" .. (stderr or "&1"))
end

-- Runs `src` in a fresh lua5.4 with corral on the paths; returns its stdout
-- and stderr together.
function support.run_lua_script(src)
  return run_file(src, "LUA_CPATH='build/?.so;;' LUA_PATH='lua/?.lua;lua/?/init.lua;;' "
    .. "lua5.4 ", " 2>&1")
end

return support
