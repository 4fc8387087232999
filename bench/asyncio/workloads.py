"""The benchmark workloads of bench/corral/*.lua, written for asyncio.

Usage: python3 bench/asyncio/workloads.py WORKLOAD [SIZE] [--uvloop]

Runs on CPython's own event loop, or on uvloop with --uvloop. Prints
`RESULT <name> <value>` lines for bench/run.py: nanoseconds per operation,
total nanoseconds for ex42, bytes per task for the memory workloads.
"""

import asyncio
import gc
import os
import random
import sys
import time
import tracemalloc

clock = time.perf_counter


def result(name, value):
    print(f"RESULT {name} {value:.3f}", flush=True)


def measure(name, one_pass):
    """Run one_pass() once untimed (warm-up, so the timed pass reuses the
    memory the process already has), then once more and print its value.
    BENCH_COLD=1 skips the warm-up."""
    if os.environ.get("BENCH_COLD") != "1":
        one_pass()
        gc.collect()
    result(name, one_pass())


def rss():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096
    except OSError:
        return None


def sleep0(n):
    tasks_n = 10
    k = n // tasks_n

    async def worker():
        sleep = asyncio.sleep
        for _ in range(k):
            await sleep(0)

    async def main():
        tasks = [asyncio.create_task(worker()) for _ in range(tasks_n)]
        t0 = clock()
        await asyncio.gather(*tasks)
        return (clock() - t0) * 1e9 / (tasks_n * k)

    measure("sleep0", lambda: asyncio.run(main()))


def lock(n):
    async def worker(lk):
        sleep = asyncio.sleep
        for _ in range(n):
            await lk.acquire()
            await sleep(0)
            lk.release()

    async def main():
        lk = asyncio.Lock()
        t0 = clock()
        await asyncio.gather(asyncio.create_task(worker(lk)),
                             asyncio.create_task(worker(lk)))
        return (clock() - t0) * 1e9 / (2 * n)

    measure("lock", lambda: asyncio.run(main()))


def event(n):
    waiters = 10000
    rounds = max(1, n // waiters)
    state = {}

    async def waiter(ev):
        await ev.wait()
        state["remaining"] -= 1
        if state["remaining"] == 0:
            state["all_done"].set()

    async def main():
        elapsed = 0.0
        for _ in range(rounds):
            ev = asyncio.Event()
            state["all_done"] = asyncio.Event()
            state["remaining"] = waiters
            for _ in range(waiters):
                asyncio.create_task(waiter(ev))
            await asyncio.sleep(0)  # every waiter is now blocked in wait()
            t0 = clock()
            ev.set()
            await state["all_done"].wait()
            elapsed += clock() - t0
        return elapsed * 1e9 / (rounds * waiters)

    measure("event", lambda: asyncio.run(main()))


def queue(n):
    async def producer(q):
        for i in range(1, n + 1):
            await q.put(i)

    async def consumer(q):
        total = 0
        for _ in range(n):
            total += await q.get()
        return total

    async def main():
        q = asyncio.Queue(100)
        t0 = clock()
        r = await asyncio.gather(asyncio.create_task(producer(q)),
                                 asyncio.create_task(consumer(q)))
        t1 = clock()
        assert r[1] == n * (n + 1) // 2, "queue lost items"
        return (t1 - t0) * 1e9 / n

    measure("queue", lambda: asyncio.run(main()))


def spawn(n):
    async def work(i):
        return i

    async def main():
        create_task = asyncio.create_task
        t0 = clock()
        tasks = [create_task(work(i)) for i in range(1, n + 1)]
        r = await asyncio.gather(*tasks)
        t1 = clock()
        assert r[-1] == n, "gather lost a result"
        return (t1 - t0) * 1e9 / n

    measure("spawn", lambda: asyncio.run(main()))


def timer(n):
    rng = random.Random(42)
    delays = [rng.random() * 0.05 for _ in range(n)]

    async def sleeper(delay):
        await asyncio.sleep(delay)

    async def main():
        create_task = asyncio.create_task
        t0 = clock()
        tasks = [create_task(sleeper(d)) for d in delays]
        await asyncio.gather(*tasks)
        return (clock() - t0) * 1e9 / n

    measure("timer", lambda: asyncio.run(main()))


def ex42(n):
    state = {"counter": 0}

    async def worker(lk):
        async with lk:
            v = state["counter"]
            await asyncio.sleep(0)
            state["counter"] = v + 1

    async def main():
        lk = asyncio.Lock()
        tasks = [asyncio.create_task(worker(lk)) for _ in range(n)]
        await asyncio.gather(*tasks)

    def one_pass():
        state["counter"] = 0
        t0 = clock()
        asyncio.run(main())
        t1 = clock()
        assert state["counter"] == n, f"counter is {state['counter']}"
        return (t1 - t0) * 1e9

    measure("ex42", one_pass)


def mem_event(n):
    """Bytes per task blocked on an Event: first as resident set growth
    (mem_event_rss), then, in a second pass, as counted by tracemalloc
    (mem_event: Python's allocator, as Lua's collectgarbage count is)."""
    state = {}

    async def waiter(ev):
        await ev.wait()
        state["remaining"] -= 1

    async def main(use_tracemalloc):
        ev = asyncio.Event()
        state["remaining"] = n
        gc.collect()
        if use_tracemalloc:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
        else:
            base = rss()
        for _ in range(n):
            asyncio.create_task(waiter(ev))
        await asyncio.sleep(0)  # every waiter is now blocked in wait()
        gc.collect()
        if use_tracemalloc:
            used = tracemalloc.get_traced_memory()[0] - base
            tracemalloc.stop()
        else:
            used = rss() - base
        ev.set()
        while state["remaining"] > 0:
            await asyncio.sleep(0)
        return used / n

    if rss() is not None:
        rss_bytes = asyncio.run(main(False))
        gc.collect()
    else:
        rss_bytes = None
    result("mem_event", asyncio.run(main(True)))
    if rss_bytes is not None:
        result("mem_event_rss", rss_bytes)


WORKLOADS = {
    "sleep0": (sleep0, 500000),
    "lock": (lock, 30000),
    "event": (event, 50000),
    "queue": (queue, 300000),
    "spawn": (spawn, 200000),
    "timer": (timer, 100000),
    "ex42": (ex42, 10000),
    "mem_event": (mem_event, 100000),
}


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if not args or args[0] not in WORKLOADS:
        sys.exit(f"usage: workloads.py {{{'|'.join(WORKLOADS)}}} [SIZE] [--uvloop]")
    if "--uvloop" in argv:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    fn, default = WORKLOADS[args[0]]
    fn(int(args[1]) if len(args) > 1 else default)


if __name__ == "__main__":
    main(sys.argv[1:])
