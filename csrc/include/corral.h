/*
 * corral.h - the public C API of corral, a coroutine runtime for Lua 5.4.
 *
 * Everything a host needs to load corral into a lua_State.  Types are
 * opaque; functions return 0 or a negative CORRAL_E* code.
 */
#ifndef CORRAL_H
#define CORRAL_H

#include <lua.h>

#if defined(CORRAL_BUILDING) && defined(__GNUC__)
#define CORRAL_API __attribute__((visibility("default")))
#else
#define CORRAL_API
#endif

#define CORRAL_VERSION "0.1.0"

/* Error codes (negative), as returned by the C API. */
#define CORRAL_OK 0
#define CORRAL_ENOMEM (-5)
#define CORRAL_EINVAL (-6)
#define CORRAL_ERUN (-7)      /* a Lua error: the error object is pushed */
#define CORRAL_ECLOSED (-8)   /* the loop is closed */

/* Open the corral module: pushes the module table (for luaL_requiref). */
CORRAL_API int luaopen_corral(lua_State *L);

/* Set the default of option `option` ("clock", "seed", "debug", "trace")
 * for every corral.run and corral.Loop in L's state that does not give it:
 * the value is at the top of the stack and is popped.  The runner's
 * --clock and --seed use this.  Returns CORRAL_OK. */
CORRAL_API int corral_set_default(lua_State *L, const char *option);

/* For a count hook: if L is the thread of the running task (and may
 * yield), suspend that task to the back of the ready queue; otherwise
 * return 0 and do nothing.  Only effective in a loop whose "preempt"
 * option (or default) is true.  The sandbox's --preempt uses it. */
CORRAL_API int corral_preempt(lua_State *L);

/* ---- loops and futures for hosts ---- */

/* A loop driven by the host.  It lives in the lua_State it was made on,
 * which must have corral loaded (luaL_requiref, or corral_sandbox_new). */
typedef struct corral_loop corral_loop;
/* A Future the host resolves from C. */
typedef struct corral_future corral_future;

/* Run modes of corral_loop_run (as libuv's). */
#define CORRAL_RUN_DEFAULT 0  /* until no task is pending or nothing can run */
#define CORRAL_RUN_ONCE 1     /* one iteration, waiting for the next timer */
#define CORRAL_RUN_NOWAIT 2   /* one iteration, without waiting */

/* A new loop on L (clock: "monotonic", "virtual", or NULL for the
 * default).  NULL on failure (the error object pushed on L). */
CORRAL_API corral_loop *corral_loop_new(lua_State *L, const char *clock);
/* Spawn the function below the top `nargs` values of L as a task: pops
 * them, pushes the Task.  0 or CORRAL_ERUN/CORRAL_ECLOSED. */
CORRAL_API int corral_loop_spawn(corral_loop *loop, int nargs);
/* Run the loop (CORRAL_RUN_*).  Returns the number of tasks still
 * pending (>= 0), or CORRAL_ERUN / CORRAL_ECLOSED. */
CORRAL_API int corral_loop_run(corral_loop *loop, int mode);
/* Run until the Task at the top of L is done: pops it, pushes its results
 * and returns their number, or CORRAL_ERUN with its error pushed. */
CORRAL_API int corral_loop_run_until_complete(corral_loop *loop);
/* Seconds until something can run: 0 if something is ready, the time to
 * the first timer, or -1 when nothing is scheduled (sleep that long in
 * the host's own loop, or until a host future is resolved). */
CORRAL_API double corral_loop_next_deadline(corral_loop *loop);
/* Cancel and finish every pending task (their <close> variables run), then
 * free the loop.  The handle is invalid afterwards. */
CORRAL_API void corral_loop_close(corral_loop *loop);

/* A new pending Future on the loop, pushed on L to hand to Lua (a task
 * awaits it with future:await()).  NULL on failure. */
CORRAL_API corral_future *corral_future_new(corral_loop *loop);
/* Push the Future again. */
CORRAL_API void corral_future_push(corral_future *future);
/* Resolve with the top `nvalues` values of L (popped); the awaiting tasks
 * resume on the loop's next iteration.  0, CORRAL_EINVAL if already done,
 * or CORRAL_ERUN. */
CORRAL_API int corral_future_resolve(corral_future *future, int nvalues);
/* Fail with the error value at the top of L (popped). */
CORRAL_API int corral_future_fail(corral_future *future);
/* Let go of the handle (the Future lives on while Lua references it). */
CORRAL_API void corral_future_release(corral_future *future);

/* ---- the sandbox ---- */

/* Limits of a sandboxed state; 0 means none. */
typedef struct corral_limits {
    size_t max_memory;                  /* bytes the state may hold */
    unsigned long long max_instructions; /* VM instructions it may run */
    double deadline;                    /* seconds of wall-clock time */
    unsigned long preempt;              /* preempt a task after this many
                                         * instructions without suspending */
} corral_limits;

/* Which limit ended a sandboxed script (corral_sandbox_limit). */
#define CORRAL_LIMIT_NONE 0
#define CORRAL_LIMIT_MEMORY 1
#define CORRAL_LIMIT_INSTRUCTIONS 2
#define CORRAL_LIMIT_DEADLINE 3

/* A new Lua state with the standard libraries and corral loaded (the
 * global `corral`), under `limits` (NULL: none).  With `restricted`, its
 * global environment is cut down for untrusted code: no io, no os but
 * os.time/os.clock/os.date, no debug, no dofile/loadfile, load only for
 * text chunks, and require only for "corral" and the modules named in
 * `allowed` (a NULL-terminated list, or NULL).  A limit that is exceeded
 * raises LimitError (field `limit`: "memory", "instructions" or
 * "deadline") in the script, again at every later attempt to go on, so
 * the script ends with it.  Returns NULL if the state cannot be made. */
CORRAL_API lua_State *corral_sandbox_new(const corral_limits *limits, int restricted,
                                         const char *const *allowed);
/* The limit a sandboxed state exceeded (CORRAL_LIMIT_*), or
 * CORRAL_LIMIT_NONE. */
CORRAL_API int corral_sandbox_limit(lua_State *L);
/* Close a state made by corral_sandbox_new and free everything. */
CORRAL_API void corral_sandbox_close(lua_State *L);

/* A static description of an error code. */
CORRAL_API const char *corral_strerror(int code);

#endif
