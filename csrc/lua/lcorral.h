/*
 * lcorral.h - private declarations shared by the Lua binding's files.
 *
 * Object model: every corral object is a full userdata whose memory
 * embeds the core struct; Lua values it owns hang off its uservalues.
 * A loop anchors its pending tasks in a table (lightuserdata -> Task) so
 * that a task nobody references still runs to completion.
 */
#ifndef CORRAL_LCORRAL_H
#define CORRAL_LCORRAL_H

#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>

#include "../core/core.h"

#if LUA_VERSION_NUM != 504
#error "corral needs Lua 5.4"
#endif

#define LCR_LOOP "corral.Loop"
#define LCR_TASK "corral.Task"
#define LCR_FUTURE "corral.Future"
#define LCR_HANDLE "corral.Handle"
#define LCR_ERROR "corral.Error"
#define LCR_LOCK "corral.Lock"
#define LCR_EVENT "corral.Event"
#define LCR_CONDITION "corral.Condition"
#define LCR_SEMAPHORE "corral.Semaphore"
#define LCR_BSEMAPHORE "corral.BoundedSemaphore"
#define LCR_BARRIER "corral.Barrier"

/* Uservalue slots of a Task. */
/* TUV_INFO is nil or a table {name = ..., trace = ..., error = ...}, made
 * when needed (most tasks never have one).  The Loop is kept alive by the
 * task's thread, whose stack always starts [Task, Loop, ...]. */
enum { TUV_THREAD = 1, TUV_INFO, TUV_COUNT = TUV_INFO };
/* Uservalue slots of a Future. */
enum { FUV_VALUE = 1, FUV_CHILDREN, FUV_LOOP, FUV_COUNT = FUV_LOOP };

typedef struct lloop {
    cr_loop core;            /* the core loop */
    lua_State *L;            /* thread driving the loop while it runs */
    int anchors;             /* registry ref: slot -> Task, for pending tasks */
    int *free_slots;         /* anchor slots free for reuse */
    int nfree;               /* entries in free_slots */
    int cap_free;            /* allocated entries of free_slots */
    int next_slot;           /* highest anchor slot used so far */
    int ud_idx;              /* stack index of the Loop in L while running */
    int failed;              /* registry ref: weak table of failed Tasks */
    uint32_t gather_serial;  /* serial of the last gather (dedup marks) */
    const void *mt_task;     /* this state's Task metatables and Future */
    const void *mt_task_failed; /* metatable (lua_topointer), for quick */
    const void *mt_future;   /* type checks of values of this state */
    double deadline;         /* CLOCK_MONOTONIC time the run must end by, or 0 */
    int preempt;             /* tasks are preempted by a count hook */
    int hook_period;         /* that hook's instruction count */
    FILE *trace;             /* trace option: the trace-event file, or NULL */
    void *trace_slots;       /* per anchor slot trace state (ltrace.c) */
    int trace_cap;           /* entries of trace_slots */
    int trace_first;         /* no event written yet */
    double trace_t0;         /* loop time when tracing began */
    int refs;                /* registry ref: values held by callbacks */
    cr_link callbacks;       /* live lcallbacks, freed at close */
    int running;             /* inside run_until_complete / step */
    int closed;              /* close() has finished */
    int closing;             /* close() is cancelling what is pending */
    int stopping;            /* run_until_complete's target is done */
    int deadlocked;          /* DeadlockError was raised in the main task */
    struct ltask *main;      /* run_until_complete's target task, or NULL */
} lloop;

typedef struct ltask {
    cr_task core;            /* the core task */
    lua_State *co;           /* its thread (anchored: TUV_THREAD) */
    const struct lcr_blocker *blocker; /* the blocking call in progress */
    int nresults;            /* values returned, on co's stack above index 2 */
    int slot;                /* anchor slot while pending, 0 when done */
    uint32_t gather_mark;    /* serial of the gather that last took it (dedup) */
    uint8_t launched;        /* its function was started */
    uint8_t retrieved;       /* its error was handed out */
    uint8_t deadlock;        /* the next cancellation is a DeadlockError */
    uint8_t preempted;       /* corral_preempt yielded it (for loop_step) */
    uint8_t was_preempted;   /* its current suspension is a preemption */
    uint8_t deliver_cancel;  /* raise CancelledError at the next hook call */
    uint8_t hooked;          /* the preemption hook was called this step */
} ltask;

/* The loop a task runs on (anchored by the task's thread). */
static inline lloop *ltask_loop(const ltask *task) {
    return (lloop *)task->core.fut.loop->userdata;
}

typedef struct lfuture {
    cr_future core;          /* the core future */
    lloop *loop;             /* loop its callbacks run on (FUV_LOOP) */
    int nvalues;             /* results packed in the FUV_VALUE table */
    uint8_t retrieved;       /* its error was handed out */
    uint8_t is_gather;       /* a gather's outer future */
    uint8_t return_exceptions; /* gather option */
    uint8_t cancel_requested;  /* gather: a cancel reached the children */
    int nchildren;           /* gather: distinct children */
    int nfinished;           /* gather: children done */
    int nitems;              /* gather: items (duplicates included) */
    int ref;                 /* gather: anchor while children are pending */
    uint32_t gather_mark;    /* serial of the gather that last took it (dedup) */
    uint32_t serial;         /* gather: its serial in the loop */
} lfuture;

/* One distinct child of a gather: its done callback, kept in an array
 * after the outer lfuture in the same userdata. */
typedef struct lgather_link {
    cr_handle handle;        /* queued on the child's completion */
    struct lfuture *outer;   /* the gather */
    cr_future *child;        /* the child's core future */
    int item;                /* an item index of the child (1-based) */
} lgather_link;

/* A callback queued on a future (or a call_soon handle owned by a loop). */
typedef struct lcallback {
    cr_handle handle;        /* the core handle */
    lloop *loop;             /* owner */
    cr_link live;            /* membership in loop->callbacks */
    int kind;                /* LCB_* */
    int ref_fn;              /* ref in loop->refs: the function / outer */
    int ref_arg;             /* ref in loop->refs: the argument */
} lcallback;

enum { LCB_LUA = 1, LCB_STOP };

/* lerror.c */
void lcr_error_push(lua_State *L, const char *type, const char *message);
int lcr_error_raise(lua_State *L, const char *type, const char *message);
int lcr_is_error(lua_State *L, int idx, const char *type);
/* Raise LimitError {limit = limit} ("memory", "instructions", "deadline"). */
int lcr_limit_error(lua_State *L, const char *limit);
void lcr_error_open(lua_State *L);
int lcr_raise_code(lua_State *L, ltask *task, int rc);
/* cancel() with the optional message at msg_idx (0: none): cancels the
 * core future, carrying the message down every cascade. */
int lcr_cancel_with_msg(lua_State *L, lloop *loop, cr_future *future, int msg_idx);

/* lblock.c: the running loop, blocking calls */
lloop *lcr_set_running(lua_State *L, lloop *loop);
void lcr_forget_running(lloop *loop);
/* The running loop if L is its current task's thread (so it is of L's
 * state), else NULL: a cheap way to its cached metatable pointers. */
lloop *lcr_same_state_loop(lua_State *L);

/* lstep.c: task steps, anchors, options */
void lcr_loop_step(cr_loop *core, cr_task *ctask, int cancel);
void lcr_task_anchor(lua_State *L, lloop *loop, ltask *task);
void lcr_task_unanchor(lua_State *L, ltask *task);
void lcr_report_failed(lua_State *L, lloop *loop);
void lcr_keep_task_anchors(lua_State *L, lua_State *co, int tidx, lloop *loop);
void lcr_task_set_error(lua_State *L, int task_idx);
void lcr_cancelled_error_for(lua_State *L, ltask *task);

/* lloop.c */
lloop *lcr_running_loop(lua_State *L);
lloop *lcr_check_loop(lua_State *L, int idx);
void lcr_push_loop(lua_State *L, lloop *loop);
lloop *lcr_loop_new(lua_State *L, int virtual_clock);
/* Push option `name` from the table at idx (0: none), or else its default
 * set with corral_set_default, or nil. */
void lcr_opt_field(lua_State *L, int idx, const char *name);
/* The clock option (table at idx, or the default): 1 for "virtual". */
int lcr_opt_clock(lua_State *L, int idx, const char *fname);
/* Apply the options table at idx (0: none; clock is read by the caller):
 * seed, debug; missing fields take corral_set_default's defaults. */
void lcr_loop_options(lua_State *L, lloop *loop, int idx);
ltask *lcr_need_task(lua_State *L, const char *fname);
/* Push a task that is not done (anchored by its loop). */
void lcr_push_pending_task(lua_State *L, ltask *task);
ltask *lcr_spawn(lua_State *L, lloop *loop, int fidx, int nargs);
int lcr_run_until_complete(lua_State *L, lloop *loop, int loop_idx, int task_idx, const char *fname);
void lcr_loop_close(lua_State *L, lloop *loop, int loop_idx);
void lcr_push_ref(lua_State *L, lloop *loop, int ref);
int lcr_ref(lua_State *L, lloop *loop, int idx);
void lcr_unref(lua_State *L, lloop *loop, int ref);
lcallback *lcr_callback_new(lua_State *L, lloop *loop, int kind, int fn_idx, int arg_idx);
void lcr_callback_free(lua_State *L, lcallback *cb);
int lcr_op_wait(lua_State *L, ltask *task, lua_KFunction k);
/* How a blocking call hands back its results once its op succeeded. */
typedef int (*lcr_push_fn)(lua_State *L, ltask *self);
/* A kind of blocking call: what it waits on (for deadlock reports) and
 * how it returns (NULL for calls that finish by themselves). */
typedef struct lcr_blocker {
    const char *what;
    lcr_push_fn push;
} lcr_blocker;
/* Finish a blocking call whose op is set up on self: suspend the task as
 * often as the op needs (the call goes on in a continuation), then return
 * b->push(L, self), or raise the error the op ended with. */
int lcr_block(lua_State *L, ltask *self, const lcr_blocker *b);
/* Common results: the object the method was called on, true, nothing. */
int lcr_push_self(lua_State *L, ltask *self);
int lcr_push_true(lua_State *L, ltask *self);
int lcr_push_none(lua_State *L, ltask *self);
void lcr_loop_open(lua_State *L);
int lcr_yield_sentinel(lua_State *L);
/* The light userdata every corral suspension yields first. */
void *lcr_sentinel(void);

/* ltask.c */
ltask *lcr_check_task(lua_State *L, int idx);
ltask *lcr_to_task(lua_State *L, int idx);
void lcr_task_push_name(lua_State *L, ltask *task, int task_idx);
/* Push field `key` of the Task's info table (nil when unset). */
void lcr_task_get_info(lua_State *L, int task_idx, const char *key);
/* Set field `key` of the Task's info table to the value on top (popped). */
void lcr_task_set_info(lua_State *L, int task_idx, const char *key);
int lcr_task_push_results(lua_State *L, ltask *task, int task_idx, int first_only);
int lcr_future_push_outcome(lua_State *L, cr_future *future, int idx, int first_only, int raise);
void lcr_task_open(lua_State *L);
/* Print "Task exception was never retrieved" for the Task at idx if it
 * failed and nobody took its error; marks it reported. */
void lcr_task_report_unretrieved(lua_State *L, int idx);
/* A task failed: give it the metatable with __gc (the report). */
void lcr_task_mark_failed(lua_State *L, int idx);
cr_future *lcr_to_awaitable(lua_State *L, int idx);
/* The same for a value of loop's own state, by the loop's cached
 * metatable pointers (no registry lookups). */
cr_future *lcr_loop_to_awaitable(lua_State *L, lloop *loop, int idx);

/* lfuture.c */
lfuture *lcr_future_new(lua_State *L, lloop *loop);
lfuture *lcr_to_future(lua_State *L, int idx);
void lcr_future_open(lua_State *L);
int lcr_gather(lua_State *L);

/* ltrace.c: the trace option */
void lcr_trace_open(lua_State *L, lloop *loop, const char *path);
void lcr_trace_close(lloop *loop);
void lcr_trace_spawn(lua_State *L, lloop *loop, ltask *task);
void lcr_trace_cancel(lloop *loop, ltask *task);
void lcr_trace_step_begin(lua_State *L, lloop *loop, ltask *task);
void lcr_trace_step_end(lloop *loop, ltask *task);

/* synchronization classes */
void lcr_lock_open(lua_State *L);
void lcr_event_open(lua_State *L);
void lcr_cond_open(lua_State *L);
void lcr_sema_open(lua_State *L);
void lcr_barrier_open(lua_State *L);
void lcr_queue_open(lua_State *L);
void lcr_handle_open(lua_State *L);
void lcr_coro_open(lua_State *L);
int lcr_with(lua_State *L);

/* Classes with a fast type check: their metatables are also kept in the
 * registry under a lightuserdata key (no string lookups on hot paths). */
enum {
    LCR_C_LOOP, LCR_C_TASK, LCR_C_TASK_FAILED, LCR_C_FUTURE, LCR_C_HANDLE, LCR_C_LOCK, LCR_C_EVENT,
    LCR_C_CONDITION, LCR_C_SEMAPHORE, LCR_C_BSEMAPHORE, LCR_C_BARRIER, LCR_C_QUEUE,
    LCR_C_LIFOQUEUE, LCR_C_PRIOQUEUE, LCR_C_OTHER,
    LCR_C_COUNT
};

/* Register a class: metatable `name` with methods as __index; `cls` is
 * its fast-check slot (LCR_C_OTHER for none). */
void lcr_new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                   const luaL_Reg *metamethods);
void lcr_new_class_fast(lua_State *L, int cls, const char *name, const luaL_Reg *methods,
                        const luaL_Reg *metamethods);
/* The registry key of class `cls`'s metatable. */
const void *lcr_class_key(int cls);
/* The userdata at idx if it is of class `cls`, else NULL. */
void *lcr_testudata(lua_State *L, int idx, int cls);
/* The userdata at idx if its class is one of the n slots from `first`. */
void *lcr_testudata_range(lua_State *L, int idx, int first, int n);
/* The same, raising luaL_typeerror(name) when it is not. */
void *lcr_checkudata(lua_State *L, int idx, int cls, const char *name);
/* Set the metatable of class `cls` on the value at the top. */
void lcr_setmetatable(lua_State *L, int cls);
/* "<corral.Lock 0x55d0c8a4 [...]>"-style repr prefix pushed on the stack. */
void lcr_repr(lua_State *L, const char *cls, const void *ptr, const char *extra);

#endif
