-- 4.1 A race condition: read, suspend, write.
--
-- Python original:
--
--   import asyncio
--
--   counter = 0
--
--   async def worker():
--       global counter
--       value = counter
--       await asyncio.sleep(0)
--       counter = value + 1
--
--   async def main():
--       await asyncio.gather(*[worker() for _ in range(10000)])
--       print(counter)
--
--   asyncio.run(main())
--
-- Every worker reads `counter` (still 0) before any of them writes it back,
-- because `sleep(0)` is a suspension point: each worker runs up to it, then
-- the next one runs. All 10000 write 0 + 1, so this prints 1.

local corral = require "corral"

local counter = 0

local function worker()
  local value = counter
  corral.sleep(0)
  counter = value + 1
end

local function main()
  local workers = {}
  for i = 1, 10000 do workers[i] = worker end  -- each function item becomes a task
  corral.gather(workers)
  print(counter)
end

corral.run(main)
