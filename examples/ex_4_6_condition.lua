-- 4.6 Producer and consumers on a Condition: wait, wait_for, notify,
-- notify_all.
--
-- Python original:
--
--   import asyncio
--
--   items = []
--
--   async def consumer(cond, name):
--       async with cond:
--           print(f"{name}: waiting")
--           await cond.wait()
--           print(f"{name}: woken, items: {', '.join(items)}")
--
--   async def watcher(cond):
--       async with cond:
--           print("watcher: waiting for 2 items")
--           await cond.wait_for(lambda: len(items) >= 2)
--           print(f"watcher: {len(items)} items, done")
--
--   async def producer(cond):
--       await asyncio.sleep(0.1)
--       async with cond:
--           items.append("apple")
--           print("producer: apple, notify(1)")
--           cond.notify(1)
--       await asyncio.sleep(0.1)
--       async with cond:
--           items.append("banana")
--           print("producer: banana, notify_all()")
--           cond.notify_all()
--
--   async def main():
--       cond = asyncio.Condition()
--       await asyncio.gather(consumer(cond, "A"), consumer(cond, "B"),
--                            watcher(cond), producer(cond))
--       print("items:", ", ".join(items))
--
--   asyncio.run(main())
--
-- Waiters are woken in FIFO order: notify(1) wakes only A (the first to
-- wait); notify_all() wakes B and the watcher. The watcher's predicate is
-- checked before it first waits (false: no items yet) and again after each
-- wakeup; each woken task re-acquires the lock before `wait` returns.

local corral = require "corral"

local items = {}

local function consumer(cond, name)
  local _ <close> = cond:acquire()
  print(name .. ": waiting")
  cond:wait()
  print(name .. ": woken, items: " .. table.concat(items, ", "))
end

local function watcher(cond)
  local _ <close> = cond:acquire()
  print("watcher: waiting for 2 items")
  cond:wait_for(function() return #items >= 2 end)
  print("watcher: " .. #items .. " items, done")
end

local function producer(cond)
  corral.sleep(0.1)
  do
    local _ <close> = cond:acquire()
    items[#items + 1] = "apple"
    print("producer: apple, notify(1)")
    cond:notify(1)
  end
  corral.sleep(0.1)
  do
    local _ <close> = cond:acquire()
    items[#items + 1] = "banana"
    print("producer: banana, notify_all()")
    cond:notify_all()
  end
end

local function main()
  local cond = corral.Condition()
  corral.gather(corral.spawn(consumer, cond, "A"), corral.spawn(consumer, cond, "B"),
                corral.spawn(watcher, cond), corral.spawn(producer, cond))
  print("items: " .. table.concat(items, ", "))
end

corral.run(main)
