-- 4.2 Fixing the race with a Lock.
--
-- Python original:
--
--   import asyncio
--
--   counter = 0
--   lock = asyncio.Lock()
--
--   async def worker():
--       global counter
--       async with lock:
--           value = counter
--           await asyncio.sleep(0)
--           counter = value + 1
--
--   async def main():
--       await asyncio.gather(*[worker() for _ in range(10000)])
--       print(counter)
--
--   asyncio.run(main())
--
-- The read-suspend-write sequence now runs under the lock, so no other
-- worker can read `counter` in between: this prints 10000.
-- `local _ <close> = lock:acquire()` is the Lua form of `async with lock:`;
-- the lock is released when `_` goes out of scope, even on an error.

local corral = require "corral"

local counter = 0
local lock = corral.Lock()

local function worker()
  local _ <close> = lock:acquire()
  local value = counter
  corral.sleep(0)
  counter = value + 1
end

local function main()
  local workers = {}
  for i = 1, 10000 do workers[i] = worker end
  corral.gather(workers)
  print(counter)
end

corral.run(main)
