-- 4.3 Limiting concurrency with a Semaphore.
--
-- Python original:
--
--   import asyncio
--
--   semaphore = asyncio.Semaphore(2)
--
--   async def access_resource(sem):
--       async with sem:
--           print("Accessing limited resource")
--           await asyncio.sleep(1)
--           print("Finished using limited resource")
--
--   async def main():
--       await asyncio.gather(*(access_resource(semaphore) for _ in range(4)))
--
--   asyncio.run(main())
--
-- At most two tasks hold the semaphore at once: two start, a second later
-- both finish and hand their units to the two that were waiting, which
-- finish a second after that (about 2 s in all).

local corral = require "corral"

local semaphore = corral.Semaphore(2)

local function access_resource(sem)
  local _ <close> = sem:acquire()
  print("Accessing limited resource")
  corral.sleep(1)
  print("Finished using limited resource")
end

local function main()
  local tasks = {}
  for i = 1, 4 do tasks[i] = corral.spawn(access_resource, semaphore) end
  corral.gather(tasks)
end

corral.run(main)
