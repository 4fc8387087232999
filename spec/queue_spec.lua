-- corral.Queue, corral.LifoQueue and corral.PriorityQueue: API.md §5,
-- SEMANTICS.md "Primitives" (Queue), ported from CPython 3.13's
-- Lib/asyncio/queues.py and Lib/test/test_asyncio/test_queues.py.
-- Every test runs on the virtual clock; `tick()` is `await asyncio.sleep(0)`.
-- The interleavings marked "twin" were checked against the same program
-- written with asyncio (the expected logs are what Python printed).

local corral = require "corral"
local support = require "support"

local run, async, tick = support.vrun, support.async, support.tick
local assert_misuse, assert_cancelled = support.assert_misuse, support.assert_cancelled
local assert_no_running_task = support.assert_no_running_task_in
local repr_is = support.assert_repr

-- Asserts that fn(...) raises a corral error table of type `etype`.
local function assert_raises(etype, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, ("expected %s, got success"):format(etype))
  assert(corral.is_error(err, etype), ("expected %s, got %s"):format(etype, tostring(err)))
  return err
end

-- An event log: log(...) appends the arguments joined by spaces.
local function new_log()
  local lines = {}
  local function log(...)
    local parts = table.pack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    lines[#lines + 1] = table.concat(parts, " ", 1, parts.n)
  end
  return log, lines
end

-- Asserts that put, put_nowait, get and get_nowait of q raise QueueShutDown.
local function assert_shut_down(q)
  assert_raises("QueueShutDown", q.put, q, "data")
  assert_raises("QueueShutDown", q.put_nowait, q, "data")
  assert_raises("QueueShutDown", q.get, q)
  assert_raises("QueueShutDown", q.get_nowait, q)
end

local function drain(q)
  local out = {}
  while not q:empty() do out[#out + 1] = q:get_nowait() end
  return out
end

-- Run fn(...) in a pcall; log "<name> cancelled" and re-raise on a
-- cancellation.
local function logging_cancel(log, name, fn, ...)
  local r = table.pack(pcall(fn, ...))
  if not r[1] then
    if corral.is_error(r[2], "CancelledError") then log(name, "cancelled") end
    error(r[2], 0)
  end
  return table.unpack(r, 2, r.n)
end

local CLASSES = { "Queue", "LifoQueue", "PriorityQueue" }

describe("corral.Queue", function()
  describe("basics", function()
    it("constructors take an optional integer maxsize; maxsize() returns it", function()
      assert.equal(0, corral.Queue():maxsize())
      assert.equal(10, corral.Queue(10):maxsize())
      assert.equal(-1, corral.LifoQueue(-1):maxsize())
      assert.equal(3, corral.PriorityQueue("3"):maxsize())
      assert.equal(2, corral.Queue(2.0):maxsize())
    end)

    it("maxsize <= 0 means unbounded", function()
      for _, n in ipairs({ 0, -1 }) do
        local q = corral.Queue(n)
        for i = 1, 100 do q:put_nowait(i) end
        assert.is_false(q:full())
        assert.equal(100, q:qsize())
      end
    end)

    -- test_empty, test_full
    it("qsize(), empty() and full() follow the content", async(function()
      local q = corral.Queue(2)
      assert.is_true(q:empty())
      assert.is_false(q:full())
      assert.equal(0, q:qsize())
      q:put(1)
      assert.is_false(q:empty())
      assert.is_false(q:full())
      q:put(2)
      assert.is_true(q:full())
      assert.equal(2, q:qsize())
      assert.equal(1, q:get())
      assert.is_false(q:full())
      assert.equal(2, q:get())
      assert.is_true(q:empty())
    end))

    -- test_order (three classes)
    it("Queue is FIFO, LifoQueue LIFO, PriorityQueue lowest first", async(function()
      local expected = { Queue = { 1, 3, 2 }, LifoQueue = { 2, 3, 1 }, PriorityQueue = { 1, 2, 3 } }
      for _, class in ipairs(CLASSES) do
        local q = corral[class]()
        for _, i in ipairs({ 1, 3, 2 }) do q:put(i) end
        local items = {}
        for k = 1, 3 do items[k] = q:get() end
        assert.same(expected[class], items)
      end
    end))

    it("put_nowait/get_nowait work outside any task", function()
      local q = corral.Queue()
      q:put_nowait("a")
      q:put_nowait("b")
      assert.equal("a", q:get_nowait())
      assert.equal("b", q:get_nowait())
    end)

    -- test_nonblocking_get_exception, test_nonblocking_put_exception
    it("get_nowait on an empty queue raises QueueEmpty, put_nowait on a full one QueueFull", function()
      for _, class in ipairs(CLASSES) do
        local q = corral[class](1)
        local err = assert_raises("QueueEmpty", q.get_nowait, q)
        assert.equal("QueueEmpty", tostring(err))
        q:put_nowait(1)
        err = assert_raises("QueueFull", q.put_nowait, q, 2)
        assert.equal("QueueFull", tostring(err))
        assert.equal(1, q:qsize())
        assert.equal(1, q:get_nowait())
      end
    end)

    it("nil is a valid item in every position", async(function()
      local q = corral.Queue(3)
      q:put(nil)
      q:put_nowait(1)
      q:put()
      assert.equal(3, q:qsize())
      assert.is_true(q:full())
      local a, b, c = q:get(), q:get_nowait(), q:get()
      assert.is_nil(a)
      assert.equal(1, b)
      assert.is_nil(c)
      assert.is_true(q:empty())
      local l = corral.LifoQueue()
      l:put(nil)
      l:put(false)
      assert.equal(false, l:get())
      assert.is_nil(l:get())
      assert.equal(0, l:qsize())
      local p = corral.PriorityQueue()
      p:put(nil, 2)
      p:put("x", 1)
      assert.same({ "x", 1 }, { p:get() })
      local item, prio = p:get()
      assert.is_nil(item)
      assert.equal(2, prio)
    end))

    it("a getter waiting on an empty queue receives a nil item", async(function()
      local q = corral.Queue()
      local t = corral.spawn(function() return "got", q:get() end)
      tick()
      q:put_nowait(nil)
      local a, b = t:await()
      assert.equal("got", a)
      assert.is_nil(b)
    end))

    it("items are any Lua values, returned as the same objects", async(function()
      local q = corral.Queue()
      local t, f, co = {}, function() end, coroutine.create(function() end)
      q:put(t)
      q:put(f)
      q:put(co)
      q:put(q)
      assert.equal(t, q:get())
      assert.equal(f, q:get())
      assert.equal(co, q:get())
      assert.equal(q, q:get())
    end))

    it("the queue does not keep items alive once they are taken or dropped", async(function()
      local weak = setmetatable({}, { __mode = "v" })
      local q = corral.Queue(1)
      q:put({})
      weak[1] = q:get()
      -- a putter cancelled while waiting
      q:put_nowait({})
      local putter = corral.spawn(function() q:put({ "cancelled" }) end)
      tick()
      putter:cancel()
      tick()
      weak[2] = q:get_nowait()
      -- dropped by shutdown(true)
      q:put_nowait({})
      q:shutdown(true)
      collectgarbage()
      collectgarbage()
      assert.is_nil(weak[1])
      assert.is_nil(weak[2])
      assert.equal(0, q:qsize())
    end))

    it("queues are independent (each has its own item storage)", function()
      local a, b = corral.Queue(), corral.Queue()
      a:put_nowait("a1")
      b:put_nowait("b1")
      a:put_nowait("a2")
      assert.equal("b1", b:get_nowait())
      assert.equal("a1", a:get_nowait())
      assert.equal("a2", a:get_nowait())
    end)

    it("many items through a small bounded queue keep their order", async(function()
      local q = corral.Queue(3)
      local got = {}
      local consumer = corral.spawn(function()
        for _ = 1, 500 do got[#got + 1] = q:get() end
      end)
      for i = 1, 500 do q:put(i) end
      consumer:await()
      for i = 1, 500 do assert.equal(i, got[i]) end
    end))
  end)

  describe("repr", function()
    -- test_repr / test_format
    it("shows maxsize, size, getters, putters and tasks", async(function()
      local q = corral.Queue()
      repr_is(q, "Queue", "maxsize=0 size=0 getters=0 putters=0 tasks=0")
      local getter = corral.spawn(q.get, q)
      tick()
      repr_is(q, "Queue", "maxsize=0 size=0 getters=1 putters=0 tasks=0")
      q:put_nowait(0)
      -- the woken getter has left the queue, the item is in flight
      repr_is(q, "Queue", "maxsize=0 size=1 getters=0 putters=0 tasks=1")
      assert.equal(0, getter:await())
      repr_is(q, "Queue", "maxsize=0 size=0 getters=0 putters=0 tasks=1")

      local b = corral.Queue(1)
      b:put_nowait(1)
      local putter = corral.spawn(b.put, b, 2)
      tick()
      repr_is(b, "Queue", "maxsize=1 size=1 getters=0 putters=1 tasks=1")
      b:get_nowait()
      putter:await()
      repr_is(b, "Queue", "maxsize=1 size=1 getters=0 putters=0 tasks=2")
      b:task_done()
      repr_is(b, "Queue", "maxsize=1 size=1 getters=0 putters=0 tasks=1")
    end))

    it("names the class and appends ' shutdown' once shut down", function()
      repr_is(corral.LifoQueue(5), "LifoQueue", "maxsize=5 size=0 getters=0 putters=0 tasks=0")
      local p = corral.PriorityQueue(-3)
      p:put_nowait(1)
      repr_is(p, "PriorityQueue", "maxsize=-3 size=1 getters=0 putters=0 tasks=1")
      p:shutdown()
      repr_is(p, "PriorityQueue", "maxsize=-3 size=1 getters=0 putters=0 tasks=1 shutdown")
      local q = corral.Queue()
      q:shutdown(true)
      repr_is(q, "Queue", "maxsize=0 size=0 getters=0 putters=0 tasks=0 shutdown")
    end)

    it("a cancelled getter is counted until it has run", async(function()
      local q = corral.Queue()
      local t = corral.spawn(q.get, q)
      tick()
      t:cancel()
      repr_is(q, "Queue", "maxsize=0 size=0 getters=1 putters=0 tasks=0")
      tick()
      repr_is(q, "Queue", "maxsize=0 size=0 getters=0 putters=0 tasks=0")
      assert.is_true(t:cancelled())
    end))
  end)

  describe("get", function()
    -- test_blocking_get
    it("get on a non-empty queue returns without suspending", async(function()
      local q = corral.Queue()
      q:put_nowait(1)
      local log, lines = new_log()
      corral.spawn(log, "other task ran")
      assert.equal(1, q:get())
      log("got")
      tick()
      assert.same({ "got", "other task ran" }, lines)
    end))

    -- test_blocking_get_wait
    it("get waits for an item put later", async(function()
      local q = corral.Queue()
      local finished = false
      local t = corral.spawn(function()
        local v = q:get()
        finished = true
        return v
      end)
      tick()
      assert.is_false(finished)
      corral.call_later(0.01, function() q:put_nowait(1) end)
      assert.equal(1, t:await())
      assert.is_true(finished)
      assert.equal(0.01, corral.now())
    end))

    -- twin s2
    it("getters are served in arrival order, one per item", async(function()
      local q = corral.Queue()
      local log, lines = new_log()
      local ts = {}
      for _, name in ipairs({ "A", "B", "C" }) do
        ts[#ts + 1] = corral.spawn(function() log(name, q:get()) end)
      end
      tick()
      q:put_nowait(1)
      q:put_nowait(2)
      log("main put 1 2")
      tick()
      log("main tick")
      q:put_nowait(3)
      log("main put 3")
      for _, t in ipairs(ts) do t:await() end
      assert.same({ "main put 1 2", "A 1", "B 2", "main tick", "main put 3", "C 3" }, lines)
    end))

    -- twin s5: SEMANTICS "the woken task is not guaranteed the item"
    it("a newcomer may take the item; the woken getter queues again at the back", async(function()
      local q = corral.Queue()
      local log, lines = new_log()
      local a = corral.spawn(function() log("A", q:get()) end)
      local b = corral.spawn(function() log("B", q:get()) end)
      tick()
      q:put_nowait(1)
      log("main took", q:get_nowait())
      tick()
      repr_is(q, "Queue", "maxsize=0 size=0 getters=2 putters=0 tasks=1")
      q:put_nowait(2)
      q:put_nowait(3)
      a:await()
      b:await()
      assert.same({ "main took 1", "B 2", "A 3" }, lines)
    end))

    -- test_get_with_waiting_putters
    it("get takes the items of waiting putters in order", async(function()
      local q = corral.Queue(1)
      corral.spawn(q.put, q, "a")
      corral.spawn(q.put, q, "b")
      assert.equal("a", q:get())
      assert.equal("b", q:get())
    end))

    -- test_why_are_getters_waiting (twin s1)
    it("a producer and a consumer on a bounded queue alternate", async(function()
      local q = corral.Queue(2)
      local log, lines = new_log()
      local p = corral.spawn(function()
        for i = 1, 5 do q:put(i); log("put", i) end
      end)
      local c = corral.spawn(function()
        for _ = 1, 5 do log("get", q:get()) end
      end)
      p:await()
      c:await()
      assert.same({ "put 1", "put 2", "get 1", "get 2", "put 3", "put 4", "get 3", "get 4",
        "put 5", "get 5" }, lines)
    end))

    it("LifoQueue getters waiting: each put wakes the next getter (twin s9)", async(function()
      local q = corral.LifoQueue()
      local log, lines = new_log()
      local ts = {}
      for _, name in ipairs({ "A", "B" }) do
        ts[#ts + 1] = corral.spawn(function() log(name, q:get()) end)
      end
      tick()
      q:put_nowait(1)
      q:put_nowait(2)
      q:put_nowait(3)
      for _, t in ipairs(ts) do t:await() end
      log("left", q:get_nowait())
      assert.same({ "A 3", "B 2", "left 1" }, lines)
    end))
  end)

  describe("put", function()
    -- test_blocking_put
    it("put on a non-full queue returns without suspending", async(function()
      local q = corral.Queue(1)
      local log, lines = new_log()
      corral.spawn(log, "other task ran")
      q:put(1)
      log("put")
      tick()
      assert.same({ "put", "other task ran" }, lines)
      assert.equal(1, q:get_nowait())
    end))

    -- test_maxsize
    it("a putter blocks at maxsize and resumes after a get", async(function()
      local q = corral.Queue(2)
      local have_been_put = {}
      local t = corral.spawn(function()
        for i = 0, 2 do
          q:put(i)
          have_been_put[#have_been_put + 1] = i
        end
        return true
      end)
      tick(2)
      assert.same({ 0, 1 }, have_been_put)
      assert.equal(0, q:get())
      tick()
      assert.same({ 0, 1, 2 }, have_been_put)
      assert.equal(1, q:get())
      assert.equal(2, q:get())
      assert.is_true(t:done())
      assert.is_true(t:result())
    end))

    -- test_blocking_put_wait
    it("put waits until a get makes room", async(function()
      local q = corral.Queue(1)
      local finished = false
      corral.call_later(0.01, function() q:get_nowait() end)
      local t = corral.spawn(function()
        q:put(1)
        q:put(2)
        finished = true
      end)
      tick()
      assert.is_false(finished)
      t:await()
      assert.is_true(finished)
      assert.equal(0.01, corral.now())
    end))

    -- test_put_with_waiting_getters
    it("put hands the item to a waiting getter", async(function()
      local q = corral.Queue()
      local t = corral.spawn(q.get, q)
      tick()
      q:put("a")
      assert.equal("a", t:await())
    end))

    -- test_why_are_putters_waiting (twin s6)
    it("each get wakes one putter, in order", async(function()
      local q = corral.Queue(2)
      local log, lines = new_log()
      local ts = {
        corral.spawn(function()
          tick()
          local n = q:qsize()
          log("getter sees", n)
          for _ = 1, n do log("got", q:get_nowait()) end
        end),
      }
      for i = 0, 3 do
        ts[#ts + 1] = corral.spawn(function() q:put(i); log("put", i) end)
      end
      for _, t in ipairs(ts) do t:await() end
      log("left", q:qsize())
      assert.same({ "put 0", "put 1", "getter sees 2", "got 0", "got 1", "put 2", "put 3",
        "left 2" }, lines)
    end))

    it("a woken putter that finds the queue full again waits at the back", async(function()
      local q = corral.Queue(1)
      q:put_nowait(0)
      local log, lines = new_log()
      local a = corral.spawn(function() q:put("a"); log("A put") end)
      local b = corral.spawn(function() q:put("b"); log("B put") end)
      tick()
      q:get_nowait()          -- wakes A
      q:put_nowait("newcomer") -- but the room is taken
      tick()
      repr_is(q, "Queue", "maxsize=1 size=1 getters=0 putters=2 tasks=2")
      assert.equal("newcomer", q:get_nowait()) -- wakes B, now first
      tick()
      assert.equal("b", q:get_nowait())
      tick()
      assert.equal("a", q:get_nowait())
      a:await()
      b:await()
      assert.same({ "B put", "A put" }, lines)
    end))
  end)

  describe("cancellation", function()
    -- test_get_cancelled_race
    it("a getter cancelled while waiting is skipped by put", async(function()
      local q = corral.Queue()
      local t1 = corral.spawn(q.get, q)
      local t2 = corral.spawn(q.get, q)
      tick()
      t1:cancel()
      tick()
      assert.is_true(t1:done())
      q:put("a")
      tick()
      assert.equal("a", t2:await())
    end))

    it("a getter cancelled before it runs again, with the item already put, is skipped", async(function()
      local q = corral.Queue()
      local t1 = corral.spawn(q.get, q)
      local t2 = corral.spawn(q.get, q)
      tick()
      t1:cancel()
      q:put_nowait("a") -- skips the cancelled t1, wakes t2
      repr_is(q, "Queue", "maxsize=0 size=1 getters=0 putters=0 tasks=1")
      assert.equal("a", t2:await())
      assert_cancelled(select(2, pcall(t1.await, t1)))
    end))

    -- test_get_cancel_drop_one_pending_reader (twin s10)
    it("a getter cancelled after its wakeup loses no item", async(function()
      local q = corral.Queue()
      local log, lines = new_log()
      local reader = corral.spawn(q.get, q)
      tick()
      q:put_nowait(1)
      q:put_nowait(2)
      reader:cancel()
      local ok, err = pcall(reader.await, reader)
      assert.is_false(ok)
      assert_cancelled(err)
      log("reader cancelled")
      reader = corral.spawn(q.get, q)
      log("result", reader:await())
      assert.same({ "reader cancelled", "result 1" }, lines)
    end))

    -- test_get_cancel_drop_many_pending_readers (twin s4)
    it("a getter cancelled after its wakeup passes it to the next getter", async(function()
      local q = corral.Queue()
      local log, lines = new_log()
      local function reader(name)
        log(name, logging_cancel(log, name, q.get, q))
      end
      local r1 = corral.spawn(reader, "R1")
      local r2 = corral.spawn(reader, "R2")
      local r3 = corral.spawn(reader, "R3")
      tick()
      q:put_nowait(1)
      q:put_nowait(2)
      r1:cancel()
      local ok, err = pcall(r1.await, r1)
      assert.is_false(ok)
      assert_cancelled(err)
      log("main saw R1 cancelled")
      r3:await()
      r2:await()
      log("size", q:qsize())
      assert.same({ "R1 cancelled", "R2 1", "R3 2", "main saw R1 cancelled", "size 0" }, lines)
    end))

    it("a getter woken and cancelled after a newcomer emptied the queue wakes nobody", async(function()
      local q = corral.Queue()
      local a = corral.spawn(q.get, q)
      local b = corral.spawn(q.get, q)
      tick()
      q:put_nowait(1)          -- wakes a
      assert.equal(1, q:get_nowait())
      a:cancel()
      tick()
      assert.is_true(a:cancelled())
      repr_is(q, "Queue", "maxsize=0 size=0 getters=1 putters=0 tasks=1")
      q:put_nowait(2)
      assert.equal(2, b:await())
    end))

    it("a getter cancelled after queueing a second time is removed", async(function()
      local q = corral.Queue()
      local a = corral.spawn(q.get, q)
      tick()
      q:put_nowait(1)          -- wakes a
      q:get_nowait()           -- a newcomer takes it
      tick()                   -- a waits again
      repr_is(q, "Queue", "maxsize=0 size=0 getters=1 putters=0 tasks=1")
      a:cancel()
      tick()
      assert.is_true(a:cancelled())
      repr_is(q, "Queue", "maxsize=0 size=0 getters=0 putters=0 tasks=1")
    end))

    -- test_cancelled_getters_not_being_held_in_self_getters
    it("a getter timed out by wait_for leaves the queue", async(function()
      local q = corral.Queue(5)
      assert_raises("TimeoutError", corral.wait_for, function() return q:get() end, 0.1)
      repr_is(q, "Queue", "maxsize=5 size=0 getters=0 putters=0 tasks=0")
    end))

    it("a getter cancelled by the loop's end leaves nothing behind", function()
      local q = corral.Queue()
      run(function()
        corral.spawn(q.get, q)
        tick()
      end)
      repr_is(q, "Queue", "maxsize=0 size=0 getters=0 putters=0 tasks=0")
      q:put_nowait(1)
      assert.equal(1, q:get_nowait())
    end)

    -- test_put_cancelled_race (twin s3)
    it("a putter cancelled while waiting is skipped by get", async(function()
      local q = corral.Queue(1)
      local log, lines = new_log()
      local function put(name, v)
        logging_cancel(log, name, q.put, q, v)
        log(name, "put", v)
      end
      local put_a = corral.spawn(put, "A", "a")
      local put_b = corral.spawn(put, "B", "b")
      local put_c = corral.spawn(put, "C", "X")
      tick()
      assert.is_true(put_a:done())
      assert.is_false(put_b:done())
      put_c:cancel()
      tick()
      assert.is_true(put_c:done())
      log("got", q:get_nowait())
      tick()
      log("got", q:get_nowait())
      put_b:await()
      log("size", q:qsize())
      assert.same({ "A put a", "C cancelled", "got a", "B put b", "got b", "size 0" }, lines)
    end))

    -- test_put_cancel_drop
    it("a putter cancelled after its wakeup does not put its item", async(function()
      local q = corral.Queue(1)
      q:put_nowait(1)
      local writer = corral.spawn(q.put, q, 2)
      tick()
      assert.equal(1, q:get_nowait())
      writer:cancel()
      local ok, err = pcall(writer.await, writer)
      assert.is_false(ok)
      assert_cancelled(err)
      writer = corral.spawn(q.put, q, 2)
      writer:await()
      assert.equal(2, q:get_nowait())
      assert.equal(0, q:qsize())
    end))

    -- twin s8
    it("a putter cancelled after its wakeup passes it to the next putter", async(function()
      local q = corral.Queue(1)
      q:put_nowait(0)
      local log, lines = new_log()
      local function put(name, v)
        logging_cancel(log, name, q.put, q, v)
        log(name, "put", v)
      end
      local a = corral.spawn(put, "A", 1)
      corral.spawn(put, "B", 2)
      tick()
      log("got", q:get_nowait()) -- wakes A
      a:cancel()
      tick(2)
      log("got", q:get_nowait())
      log("size", q:qsize())
      assert.same({ "got 0", "A cancelled", "B put 2", "got 2", "size 0" }, lines)
    end))

    -- test_cancelled_puts_not_being_held_in_self_putters
    it("a cancelled putter leaves the putters", async(function()
      local q = corral.Queue(1)
      q:put_nowait(1)
      local t = corral.spawn(q.put, q, 1)
      tick()
      repr_is(q, "Queue", "maxsize=1 size=1 getters=0 putters=1 tasks=1")
      t:cancel()
      assert_cancelled(select(2, pcall(t.await, t)))
      repr_is(q, "Queue", "maxsize=1 size=1 getters=0 putters=0 tasks=1")
    end))

    -- test_cancelled_put_silence_value_error_exception
    it("a putter woken by get_nowait and then cancelled raises CancelledError", async(function()
      local q = corral.Queue(1)
      q:put_nowait(1)
      local t = corral.spawn(q.put, q, 1)
      tick()
      q:get_nowait()
      t:cancel()
      assert_cancelled(select(2, pcall(t.await, t)))
      assert.equal(0, q:qsize())
      assert.equal(1, q:maxsize())
    end))

    it("a task that catches the cancellation of get can get again", async(function()
      local q = corral.Queue()
      local t = corral.spawn(function()
        local ok, err = pcall(q.get, q)
        assert(not ok and corral.is_error(err, "CancelledError"))
        return q:get()
      end)
      tick()
      t:cancel()
      tick()
      q:put_nowait("second try")
      assert.equal("second try", t:await())
    end))

    it("a cancelled joiner leaves; the other joiners still return", async(function()
      local q = corral.Queue()
      q:put_nowait(1)
      local a = corral.spawn(q.join, q)
      local b = corral.spawn(function() q:join(); return "joined" end)
      tick()
      a:cancel()
      tick()
      assert.is_true(a:cancelled())
      q:get_nowait()
      q:task_done()
      assert.equal("joined", b:await())
    end))
  end)

  describe("task_done and join", function()
    -- test_task_done_underflow
    it("task_done() more often than items were put is a misuse error", function()
      for _, class in ipairs(CLASSES) do
        local q = corral[class]()
        assert_misuse("task_done() called too many times", q.task_done, q)
        q:put_nowait(1)
        q:task_done()
        assert_misuse("task_done() called too many times", q.task_done, q)
      end
    end)

    -- test_join_empty_queue
    it("join on a queue with nothing unfinished returns without suspending", async(function()
      local q = corral.Queue()
      local log, lines = new_log()
      corral.spawn(log, "other task ran")
      q:join()
      q:join()
      log("joined")
      tick()
      assert.same({ "joined", "other task ran" }, lines)
    end))

    -- test_task_done (three classes)
    it("two workers and join: join returns once every item is done", async(function()
      for _, class in ipairs(CLASSES) do
        local q = corral[class]()
        for i = 0, 99 do q:put_nowait(i) end
        local accumulator = 0
        local running = true
        local function worker()
          while running do
            local item = q:get()
            accumulator = accumulator + item
            q:task_done()
          end
        end
        local w1, w2 = corral.spawn(worker), corral.spawn(worker)
        q:join()
        assert.equal(4950, accumulator)
        running = false
        q:put_nowait(0)
        q:put_nowait(0)
        w1:await()
        w2:await()
      end
    end))

    -- twin s7
    it("join wakes up the iteration after the last task_done", async(function()
      local q = corral.Queue()
      for i = 1, 6 do q:put_nowait(i) end
      local log, lines = new_log()
      local function worker(name)
        while true do
          local v = q:get()
          log(name, v)
          if v % 2 == 0 then tick() end
          q:task_done()
        end
      end
      local ws = { corral.spawn(worker, "W1"), corral.spawn(worker, "W2") }
      q:join()
      log("joined")
      for _, w in ipairs(ws) do w:cancel() end
      assert.same({ "W1 1", "W1 2", "W2 3", "W2 4", "W1 5", "W1 6", "joined" }, lines)
    end))

    it("task_done may precede get; join counts puts, not gets", async(function()
      local q = corral.Queue()
      q:put_nowait("x")
      q:task_done()
      q:join() -- returns at once: nothing unfinished, one item still held
      assert.equal(1, q:qsize())
    end))

    it("a joiner woken by the last task_done still returns if an item is put before it runs", async(function()
      local q = corral.Queue()
      q:put_nowait(1)
      local joiner = corral.spawn(function() q:join(); return "joined" end)
      tick()
      q:get_nowait()
      q:task_done()
      q:put_nowait(2) -- unfinished again, but the joiner was already woken
      assert.equal("joined", joiner:await())
    end))
  end)

  describe("shutdown", function()
    -- test_format (shutdown)
    it("shutdown() marks the repr", function()
      local q = corral.Queue()
      q:shutdown()
      repr_is(q, "Queue", "maxsize=0 size=0 getters=0 putters=0 tasks=0 shutdown")
    end)

    -- test_shutdown_empty (three classes)
    it("shutdown of an empty queue: getters raise QueueShutDown; so do put and get", async(function()
      for _, class in ipairs(CLASSES) do
        local q = corral[class]()
        local get_task = corral.spawn(q.get, q)
        tick()
        q:shutdown(false)
        assert.equal(0, q:qsize())
        q:join()
        tick()
        assert.is_true(get_task:done())
        assert_raises("QueueShutDown", get_task.await, get_task)
        assert_shut_down(q)
      end
    end))

    -- test_shutdown_nonempty (three classes)
    it("shutdown of a non-empty queue: putters fail, items can still be got", async(function()
      for _, class in ipairs(CLASSES) do
        local q = corral[class](1)
        q:put_nowait("data")
        local join_task = corral.spawn(q.join, q)
        local put_task = corral.spawn(q.put, q, "data2")
        tick()
        assert.is_false(put_task:done())
        q:shutdown(false)
        assert.equal(1, q:qsize())
        tick()
        assert.is_true(put_task:done())
        assert_raises("QueueShutDown", put_task.await, put_task)
        assert.equal("data", q:get())
        tick()
        assert.is_false(join_task:done())
        assert_shut_down(q)
        q:task_done()
        tick()
        assert.is_true(join_task:done())
        join_task:await()
        assert_misuse("task_done() called too many times", q.task_done, q)
      end
    end))

    -- test_shutdown_immediate (three classes)
    it("shutdown(true) drops the items and releases join", async(function()
      for _, class in ipairs(CLASSES) do
        local q = corral[class]()
        q:put_nowait("data")
        local join_task = corral.spawn(q.join, q)
        q:shutdown(true)
        assert.equal(0, q:qsize())
        tick()
        assert.is_true(join_task:done())
        join_task:await()
        assert_shut_down(q)
        assert_misuse("task_done() called too many times", q.task_done, q)
      end
    end))

    -- test_shutdown_immediate_with_unfinished (three classes)
    it("shutdown(true) counts only the dropped items as done", async(function()
      for _, class in ipairs(CLASSES) do
        local q = corral[class]()
        q:put_nowait("data")
        q:put_nowait("data")
        local join_task = corral.spawn(q.join, q)
        assert.equal("data", q:get())
        q:shutdown(true)
        assert.equal(0, q:qsize())
        tick()
        assert.is_false(join_task:done())
        assert_raises("QueueShutDown", q.put, q, "data")
        assert_raises("QueueShutDown", q.get, q)
        q:task_done()
        assert_misuse("task_done() called too many times", q.task_done, q)
        tick()
        assert.is_true(join_task:done())
        join_task:await()
      end
    end))

    it("shutdown wakes every getter and every putter at once, in order", async(function()
      local q = corral.Queue()
      local log, lines = new_log()
      for _, name in ipairs({ "G1", "G2", "G3" }) do
        corral.spawn(function()
          local ok, err = pcall(q.get, q)
          log(name, ok, err.type)
        end)
      end
      local full = corral.Queue(1)
      full:put_nowait(0)
      for _, name in ipairs({ "P1", "P2" }) do
        corral.spawn(function()
          local ok, err = pcall(full.put, full, name)
          log(name, ok, err.type)
        end)
      end
      tick()
      q:shutdown()
      full:shutdown()
      repr_is(q, "Queue", "maxsize=0 size=0 getters=0 putters=0 tasks=0 shutdown")
      repr_is(full, "Queue", "maxsize=1 size=1 getters=0 putters=0 tasks=1 shutdown")
      tick()
      assert.same({ "G1 false QueueShutDown", "G2 false QueueShutDown", "G3 false QueueShutDown",
        "P1 false QueueShutDown", "P2 false QueueShutDown" }, lines)
      assert.equal(0, full:get())
    end))

    it("a putter woken by get and then overtaken by shutdown raises QueueShutDown", async(function()
      local q = corral.Queue(1)
      q:put_nowait(1)
      local t = corral.spawn(q.put, q, 2)
      tick()
      q:get_nowait() -- wakes the putter
      q:shutdown()
      assert_raises("QueueShutDown", t.await, t)
      assert.equal(0, q:qsize())
    end))

    it("getters of a shut-down queue take what is left, then raise", async(function()
      local q = corral.Queue()
      q:put_nowait(1)
      q:put_nowait(2)
      q:shutdown()
      assert.equal(1, q:get())
      assert.equal(2, q:get_nowait())
      assert_raises("QueueShutDown", q.get, q)
      assert_raises("QueueShutDown", q.get_nowait, q)
      assert.is_true(q:empty())
    end))

    it("shutdown(true) of a PriorityQueue drops items and priorities", async(function()
      local q = corral.PriorityQueue()
      q:put_nowait("a", 2)
      q:put_nowait("b", 1)
      q:shutdown(true)
      assert_raises("QueueShutDown", q.get_nowait, q)
      assert.equal(0, q:qsize())
    end))

    it("shutdown twice is harmless; shutdown(true) after shutdown() still drops", function()
      local q = corral.Queue()
      q:put_nowait(1)
      q:shutdown()
      q:shutdown()
      assert.equal(1, q:qsize())
      q:shutdown(true)
      assert.equal(0, q:qsize())
      assert_misuse("task_done() called too many times", q.task_done, q)
    end)
  end)

  describe("PriorityQueue", function()
    it("items without a priority are ordered by themselves; get returns item, nil", function()
      local q = corral.PriorityQueue()
      for _, v in ipairs({ 5, 1, 4, 2, 3 }) do q:put_nowait(v) end
      for i = 1, 5 do
        local item, prio = q:get_nowait()
        assert.equal(i, item)
        assert.is_nil(prio)
      end
    end)

    it("strings are ordered with <", function()
      local q = corral.PriorityQueue()
      for _, v in ipairs({ "pear", "apple", "fig", "Zebra" }) do q:put_nowait(v) end
      assert.same({ "Zebra", "apple", "fig", "pear" }, drain(q))
    end)

    it("integers and floats mix", function()
      local q = corral.PriorityQueue()
      for _, v in ipairs({ 2, 1.5, -math.huge, 1, math.huge, 2.0 }) do q:put_nowait(v) end
      local out = drain(q)
      assert.same({ -math.huge, 1, 1.5, 2, 2.0, math.huge }, out)
      assert.equal(math.type(out[4]), "integer") -- equal keys: insertion order
      assert.equal(math.type(out[5]), "float")
    end)

    it("items with a priority come out by priority; equal priorities in insertion order", async(function()
      local q = corral.PriorityQueue()
      q:put("a", 1)
      q:put("b", 0)
      q:put("c", 1)
      q:put("d", 0)
      q:put_nowait("e", 1)
      q:put_nowait({ "f" }, -1)
      local got = {}
      while not q:empty() do
        local item, prio = q:get()
        got[#got + 1] = (type(item) == "table" and item[1] or item) .. prio
      end
      assert.same({ "f-1", "b0", "d0", "a1", "c1", "e1" }, got)
    end))

    it("equal priorities stay in insertion order through many operations", function()
      local q = corral.PriorityQueue()
      local n = 0
      local seen = {}
      for round = 1, 20 do
        for _ = 1, 10 do
          n = n + 1
          q:put_nowait(n, n % 3)
        end
        for _ = 1, 5 do
          local item, prio = q:get_nowait()
          seen[#seen + 1] = { item, prio }
        end
        assert.equal(round * 5, q:qsize())
      end
      while not q:empty() do
        local item, prio = q:get_nowait()
        seen[#seen + 1] = { item, prio }
      end
      -- within each get, the result was the minimum (prio, insertion) pair
      -- present; check that equal priorities never come out of order
      local last = {}
      for _, p in ipairs(seen) do
        local item, prio = p[1], p[2]
        assert.equal(item % 3, prio)
        if last[prio] then assert.is_true(item > last[prio]) end
        last[prio] = item
      end
      assert.equal(200, #seen)
    end)

    it("string priorities", function()
      local q = corral.PriorityQueue()
      q:put_nowait(1, "b")
      q:put_nowait(2, "a")
      q:put_nowait(3, "b")
      assert.same({ 2, "a" }, { q:get_nowait() })
      assert.same({ 1, "b" }, { q:get_nowait() })
      assert.same({ 3, "b" }, { q:get_nowait() })
    end)

    it("a bounded PriorityQueue blocks putters and orders what they put", async(function()
      local q = corral.PriorityQueue(2)
      q:put("low", 9)
      q:put("high", 1)
      local t = corral.spawn(function() q:put("mid", 5) end)
      tick()
      assert.is_false(t:done())
      assert.same({ "high", 1 }, { q:get() })
      t:await()
      assert.same({ "mid", 5 }, { q:get() })
      assert.same({ "low", 9 }, { q:get() })
    end))

    it("a getter waiting on a PriorityQueue gets item and priority", async(function()
      local q = corral.PriorityQueue()
      local t = corral.spawn(function() return q:get() end)
      tick()
      q:put("x", 7)
      local item, prio = t:await()
      assert.equal("x", item)
      assert.equal(7, prio)
    end))

    it("get on a Queue or LifoQueue returns the item only", async(function()
      local q = corral.Queue()
      q:put_nowait("a")
      assert.equal(1, select("#", q:get()))
      local l = corral.LifoQueue()
      l:put_nowait("a")
      assert.equal(1, select("#", l:get_nowait()))
    end))
  end)

  describe("misuse", function()
    it("maxsize must be an integer", function()
      assert_misuse("bad argument #1 to 'Queue' (integer expected, got string)", corral.Queue, "x")
      assert_misuse("bad argument #1 to 'LifoQueue' (integer expected, got table)",
        corral.LifoQueue, {})
      assert_misuse("bad argument #1 to 'PriorityQueue' (number has no integer representation)",
        corral.PriorityQueue, 1.5)
      assert_misuse("bad argument #1 to 'Queue' (integer expected, got boolean)", corral.Queue, true)
    end)

    it("methods check their self", function()
      local q = corral.Queue()
      local ok, err = pcall(q.qsize, {})
      assert.is_false(ok)
      assert.is_truthy(err:find("corral.Queue expected", 1, true), err)
      ok, err = pcall(q.get_nowait, corral.Event())
      assert.is_false(ok)
      assert.is_truthy(err:find("corral.Queue expected, got corral.Event", 1, true), err)
      -- every class accepts every method
      assert.equal(0, q.qsize(corral.LifoQueue()))
    end)

    it("mixing put(item) and put(item, priority) in one PriorityQueue", function()
      local q = corral.PriorityQueue()
      q:put_nowait(1)
      assert_misuse("PriorityQueue: cannot mix put(item) and put(item, priority) in one queue",
        q.put_nowait, q, "a", 1)
      local p = corral.PriorityQueue()
      p:put_nowait("a", 1)
      assert_misuse("PriorityQueue: cannot mix put(item) and put(item, priority) in one queue",
        p.put_nowait, p, 2)
      -- the form stays fixed even once the queue is empty
      p:get_nowait()
      assert_misuse("PriorityQueue: cannot mix put(item) and put(item, priority) in one queue",
        p.put_nowait, p, 2)
      assert.equal(0, p:qsize())
    end)

    it("priorities that cannot be ordered", async(function()
      local q = corral.PriorityQueue()
      assert_misuse("bad argument #1 to 'put_nowait' (number or string expected, got table)",
        function() q:put_nowait({}) end)
      assert_misuse("bad argument #1 to 'put' (number or string expected, got nil)",
        function() q:put(nil) end)
      assert_misuse("bad argument #1 to 'put' (number or string expected, got boolean)",
        function() q:put(true) end)
      assert_misuse("bad argument #1 to 'put' (NaN cannot be ordered)",
        function() q:put(0 / 0) end)
      local p = corral.PriorityQueue()
      assert_misuse("bad argument #2 to 'put' (number or string expected, got table)",
        function() p:put("a", {}) end)
      assert_misuse("bad argument #2 to 'put_nowait' (NaN cannot be ordered)",
        function() p:put_nowait("a", 0 / 0) end)
      -- nothing was stored by the failed calls
      assert.equal(0, q:qsize())
      assert.equal(0, p:qsize())
      p:put("a", 1)
      assert.same({ "a", 1 }, { p:get() })
    end))

    it("numbers and strings cannot be mixed in one PriorityQueue", function()
      local q = corral.PriorityQueue()
      q:put_nowait(1)
      assert_misuse("PriorityQueue: attempt to compare string with number", q.put_nowait, q, "a")
      assert.equal(1, q:qsize())
      local p = corral.PriorityQueue()
      p:put_nowait("x", "a")
      assert_misuse("PriorityQueue: attempt to compare number with string",
        p.put_nowait, p, "y", 1)
      assert.same({ "x", "a" }, { p:get_nowait() })
    end)

    it("the heap stays intact after a rejected put", function()
      local q = corral.PriorityQueue()
      for _, v in ipairs({ 3, 1, 2 }) do q:put_nowait(v) end
      pcall(q.put_nowait, q, "bad")
      pcall(q.put_nowait, q, {})
      q:put_nowait(0)
      assert.same({ 0, 1, 2, 3 }, drain(q))
    end)
  end)

  describe("blocking calls outside a task", function()
    it("raise 'no running task' at top level, even when they would not block", function()
      local q = corral.Queue()
      assert_no_running_task("queue:get", pcall(q.get, q))
      assert_no_running_task("queue:put", pcall(q.put, q, 1))
      assert_no_running_task("queue:join", pcall(q.join, q))
      q:put_nowait(1)
      assert_no_running_task("queue:get", pcall(q.get, q))
      assert.equal(1, q:qsize()) -- the failed put stored nothing, get took nothing
    end)

    it("raise 'no running task' in a call_soon callback", async(function()
      local q = corral.PriorityQueue()
      q:put_nowait(1)
      local results = {}
      corral.call_soon(function()
        results.get = table.pack(pcall(q.get, q))
        results.put = table.pack(pcall(q.put, q, 2))
        results.join = table.pack(pcall(q.join, q))
      end)
      tick()
      assert_no_running_task("queue:get", results.get[1], results.get[2])
      assert_no_running_task("queue:put", results.put[1], results.put[2])
      assert_no_running_task("queue:join", results.join[1], results.join[2])
      assert.equal(1, q:qsize())
    end))
  end)

  describe("deadlock report", function()
    it("names the queue operation a blocked task waits on", function()
      local ok, err = pcall(run, function()
        local q = corral.Queue()
        q:get()
      end)
      assert.is_false(ok)
      assert.is_true(corral.is_error(err, "DeadlockError"), tostring(err))
      assert.is_truthy(tostring(err.message):find("Queue.get", 1, true), tostring(err))
    end)
  end)
end)
