-- 4.5 Signalling with an Event.
--
-- Python original:
--
--   import asyncio
--
--   async def waiter(event):
--       print('waiting for it ...')
--       await event.wait()
--       print('... got it!')
--
--   async def main():
--       # Create an Event object.
--       event = asyncio.Event()
--
--       # Spawn a Task to wait until 'event' is set.
--       waiter_task = asyncio.create_task(waiter(event))
--
--       # Sleep for 1 second and set the event.
--       await asyncio.sleep(1)
--       event.set()
--
--       # Wait until the waiter task is finished.
--       await waiter_task
--
--   asyncio.run(main())

local corral = require "corral"

local function waiter(event)
  print("waiting for it ...")
  event:wait()
  print("... got it!")
end

local function main()
  -- Create an Event object.
  local event = corral.Event()

  -- Spawn a Task to wait until 'event' is set.
  local waiter_task = corral.spawn(waiter, event)

  -- Sleep for 1 second and set the event.
  corral.sleep(1)
  event:set()

  -- Wait until the waiter task is finished.
  waiter_task:await()
end

corral.run(main)
