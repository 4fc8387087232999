-- A pool of workers draining a bounded queue.
--
-- Three workers take jobs from a corral.Queue that holds at most two jobs,
-- so the producer's put() suspends whenever the queue is full and goes on
-- when a worker takes a job. Each worker calls task_done() after a job;
-- queue:join() returns once every job put has been marked done. Then the
-- workers, blocked in get() forever, are cancelled.
--
-- Python original (the asyncio.Queue example, shortened):
--
--   async def worker(name, queue):
--       while True:
--           job, seconds = await queue.get()
--           await asyncio.sleep(seconds)
--           print(f'{name} finished {job}')
--           queue.task_done()
--
--   async def main():
--       queue = asyncio.Queue(maxsize=2)
--       workers = [asyncio.create_task(worker(f'worker-{i}', queue)) for i in (1, 2, 3)]
--       for job in jobs:
--           await queue.put(job)
--       await queue.join()
--       for w in workers:
--           w.cancel()
--       await asyncio.gather(*workers, return_exceptions=True)
--
-- The virtual clock makes the times exact: a job of 3 s takes 3 s of
-- corral.now() and no real time.

local corral = require "corral"

local function worker(name, queue)
  while true do
    local job = queue:get()               -- suspends while the queue is empty
    print(("%5.2f  %s took %s"):format(corral.now(), name, job.name))
    corral.sleep(job.seconds)             -- the work
    print(("%5.2f  %s finished %s"):format(corral.now(), name, job.name))
    queue:task_done()                     -- one fewer unfinished job for join()
  end
end

local function main()
  local queue = corral.Queue(2)           -- bounded: at most 2 queued jobs
  local workers = {}
  for i = 1, 3 do
    workers[i] = corral.spawn(worker, "worker-" .. i, queue)
    workers[i]:set_name("worker-" .. i)
  end

  local jobs = {
    { name = "a", seconds = 3 }, { name = "b", seconds = 1 }, { name = "c", seconds = 2 },
    { name = "d", seconds = 1.5 }, { name = "e", seconds = 0.75 }, { name = "f", seconds = 2.5 },
    { name = "g", seconds = 1 },
  }
  for _, job in ipairs(jobs) do
    queue:put(job)                        -- suspends while the queue is full
    print(("%5.2f  queued %s (%d waiting)"):format(corral.now(), job.name, queue:qsize()))
  end

  queue:join()                            -- until task_done() was called for every job
  print(("%5.2f  all jobs done"):format(corral.now()))

  for _, w in ipairs(workers) do w:cancel() end
  local results = corral.gather(workers, { return_exceptions = true })
  for i = 1, results.n do
    print(workers[i]:get_name(), tostring(results[i]))
  end
  print(queue)
end

corral.run(main, { clock = "virtual" })
