-- Written by hand (not by gen.py): two tasks awaiting each other.
-- Cancelling one of them recurses through the await cycle forever:
-- cr_task_cancel (csrc/core/task.c) calls itself until the C stack
-- overflows and the process dies with SIGSEGV, also under --sandbox.
-- asyncio 3.13 raises RecursionError from task.cancel() (and again when
-- asyncio.run cancels the leftovers). Expected here: no crash; the
-- cancellation ends both tasks.
corral.run(function()
  local t1, t2
  t1 = corral.spawn(function() t2:await() end)
  t2 = corral.spawn(function() t1:await() end)
  corral.sleep(0)
  pcall(t1.cancel, t1)
  print("cancel done")
  corral.sleep(0.1)
end, {clock = "virtual"})
print("survived")
