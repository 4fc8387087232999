-- 4.4 Meeting at a Barrier (the example from Python's asyncio.Barrier docs).
--
-- Python original:
--
--   import asyncio
--
--   async def example_barrier():
--       # barrier with 3 parties
--       b = asyncio.Barrier(3)
--
--       # create 2 new waiting tasks
--       asyncio.create_task(b.wait())
--       asyncio.create_task(b.wait())
--
--       await asyncio.sleep(0)
--       print(b)
--
--       # The third .wait() call passes the barrier
--       await b.wait()
--       print(b)
--       print("barrier passed")
--
--       await asyncio.sleep(0)
--       print(b)
--
--   asyncio.run(example_barrier())
--
-- Python prints `<asyncio.locks.Barrier object at 0x... [filling, waiters:2/3]>`;
-- corral prints `<corral.Barrier 0x... [filling, waiters:2/3]>`. The main
-- task is the third arrival: it passes without suspending and sees the
-- barrier draining; after one more iteration the two released tasks have
-- left and the barrier is filling again.

local corral = require "corral"

local function example_barrier()
  -- barrier with 3 parties
  local b = corral.Barrier(3)

  -- create 2 new waiting tasks
  corral.spawn(b.wait, b)
  corral.spawn(b.wait, b)

  corral.sleep(0)
  print(b)

  -- The third :wait() call passes the barrier
  b:wait()
  print(b)
  print("barrier passed")

  corral.sleep(0)
  print(b)
end

corral.run(example_barrier)
