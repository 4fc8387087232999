/*
 * lloop.c - the loop as a Lua object: task steps (lua_resume), spawning,
 * callbacks, run_until_complete, close, and the Loop class for hosts.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../include/corral.h"
#include "lcorral.h"

static char running_key;   /* registry: lightuserdata(lloop) while running */
static char loops_key;     /* registry: weak table lightuserdata -> Loop */
static char sentinel;      /* first value of every corral yield */

#if LUA_VERSION_RELEASE_NUM >= 50406
#define lcr_closethread(co, from) lua_closethread((co), (from))
#else
#define lcr_closethread(co, from) ((void)(from), lua_resetthread(co))
#endif

/* The loop running on this OS thread (innermost), a cache of the registry
 * entry: trusted only when the caller is the thread of its current task,
 * which proves the caller belongs to that loop's Lua state. */
static _Thread_local lloop *tls_running;

lloop *lcr_running_loop(lua_State *L) {
    lloop *fast = tls_running;
    if (fast != NULL && fast->core.current != NULL && ((ltask *)fast->core.current)->co == L)
        return fast;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &running_key);
    lloop *loop = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return loop;
}

/* Set the running loop of L's state (NULL: none); returns the previous
 * one of this OS thread, for restore_running. */
static lloop *set_running(lua_State *L, lloop *loop) {
    lloop *previous = tls_running;
    if (loop)
        lua_pushlightuserdata(L, loop);
    else
        lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &running_key);
    tls_running = loop;
    return previous;
}

lloop *lcr_check_loop(lua_State *L, int idx) {
    return lcr_checkudata(L, idx, LCR_C_LOOP, LCR_LOOP);
}

int corral_preempt(lua_State *L) {
    lloop *loop = tls_running;
    if (loop == NULL || loop->core.current == NULL || !loop->preempt)
        return 0;
    ltask *task = (ltask *)loop->core.current;
    /* Only the task's own thread: a yield from a nested coroutine would go
     * to that coroutine's resumer. */
    if (task->co != L || !lua_isyieldable(L) || task->core.blocked)
        return 0;
    if (task->deliver_cancel) {
        /* cancelled while preempted: raise it where the task goes on */
        task->deliver_cancel = 0;
        lua_sethook(L, lua_gethook(L), lua_gethookmask(L), loop->hook_period);
        return lcr_raise_code(L, task, CR_ECANCELLED);
    }
    task->preempted = 1;
    return lua_yield(L, 0);
}

/* A suspension of this task was swallowed on its way to the loop. */
static void lost_suspension(lua_State *L, ltask *task, const char *fname) {
    cr_task_unblock(&task->core);
    task->blocker = NULL;
    luaL_error(L, "%s: an earlier suspension of this task was lost: a coroutine was resumed by "
                  "something other than coroutine.resume or coroutine.wrap (which corral replaces)",
               fname);
}

ltask *lcr_need_task(lua_State *L, const char *fname) {
    lloop *fast = tls_running;
    ltask *task;
    if (fast != NULL && fast->core.current != NULL && ((ltask *)fast->core.current)->co == L
        && lua_isyieldable(L)) {
        task = (ltask *)fast->core.current;
    } else {
        lloop *loop = lcr_running_loop(L);
        if (loop == NULL || loop->core.current == NULL)
            luaL_error(L, "%s: no running task", fname);
        if (!lua_isyieldable(L))
            luaL_error(L, "%s: no running task (cannot suspend here: attempt to yield across a C-call boundary)",
                       fname);
        task = (ltask *)loop->core.current;
    }
    if (task->core.blocked)
        lost_suspension(L, task, fname);
    return task;
}

void *lcr_sentinel(void) {
    return &sentinel;
}

int lcr_yield_sentinel(lua_State *L) {
    return lua_touserdata(L, -1) == &sentinel;
}

int lcr_op_wait(lua_State *L, ltask *task, lua_KFunction k) {
    int rc = cr_op_run(&task->core);
    if (rc != CR_WAIT)
        return rc;
    lua_pushlightuserdata(L, &sentinel);
    return lua_yieldk(L, 1, (lua_KContext)task, k); /* does not return */
}

static int block_finish(lua_State *L, ltask *self, int rc) {
    const lcr_blocker *b = self->blocker;
    self->blocker = NULL;
    if (rc != CR_OK)
        return lcr_raise_code(L, self, rc);
    return b->push(L, self);
}

static int block_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    ltask *self = (ltask *)ctx;
    return block_finish(L, self, lcr_op_wait(L, self, block_k));
}

int lcr_block(lua_State *L, ltask *self, const lcr_blocker *b) {
    self->blocker = b;
    return block_finish(L, self, lcr_op_wait(L, self, block_k));
}

int lcr_push_self(lua_State *L, ltask *self) {
    (void)self;
    lua_settop(L, 1);
    return 1;
}

int lcr_push_true(lua_State *L, ltask *self) {
    (void)self;
    lua_pushboolean(L, 1);
    return 1;
}

int lcr_push_none(lua_State *L, ltask *self) {
    (void)L;
    (void)self;
    return 0;
}

/* ---- refs held by callbacks ---- */

void lcr_push_ref(lua_State *L, lloop *loop, int ref) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, loop->refs);
    lua_rawgeti(L, -1, ref);
    lua_remove(L, -2);
}

int lcr_ref(lua_State *L, lloop *loop, int idx) {
    idx = lua_absindex(L, idx);
    lua_rawgeti(L, LUA_REGISTRYINDEX, loop->refs);
    lua_pushvalue(L, idx);
    int ref = luaL_ref(L, -2);
    lua_pop(L, 1);
    return ref;
}

void lcr_unref(lua_State *L, lloop *loop, int ref) {
    if (ref == LUA_NOREF || ref == LUA_REFNIL)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, loop->refs);
    luaL_unref(L, -1, ref);
    lua_pop(L, 1);
}

/* ---- callbacks ---- */

static void callback_run(cr_loop *core, cr_handle *handle);

lcallback *lcr_callback_new(lua_State *L, lloop *loop, int kind, int fn_idx, int arg_idx) {
    lcallback *cb = loop->core.alloc(loop->core.alloc_data, NULL, 0, sizeof *cb);
    if (cb == NULL)
        luaL_error(L, "not enough memory");
    cr_handle_init(&cb->handle, callback_run);
    cb->loop = loop;
    cb->kind = kind;
    cb->ref_fn = fn_idx ? lcr_ref(L, loop, fn_idx) : LUA_NOREF;
    cb->ref_arg = arg_idx ? lcr_ref(L, loop, arg_idx) : LUA_NOREF;
    cr_link_clear(&cb->live);
    cr_list_push_back(&loop->callbacks, &cb->live);
    return cb;
}

void lcr_callback_free(lua_State *L, lcallback *cb) {
    lloop *loop = cb->loop;
    cr_handle_detach(&loop->core, &cb->handle);
    cr_list_remove(&cb->live);
    lcr_unref(L, loop, cb->ref_fn);
    lcr_unref(L, loop, cb->ref_arg);
    loop->core.alloc(loop->core.alloc_data, cb, sizeof *cb, 0);
}

static int traceback_handler(lua_State *L) {
    if (lua_type(L, 1) == LUA_TSTRING || lua_isnil(L, 1)) {
        luaL_traceback(L, L, lua_tostring(L, 1), 1);
        return 1;
    }
    lua_settop(L, 1);
    return 1;
}

/* Report an error raised by a callback, as asyncio's default handler. */
static void report_callback_error(lua_State *L) {
    const char *msg = luaL_tolstring(L, -1, NULL);
    fprintf(stderr, "Exception in callback: %s\n", msg);
    fflush(stderr);
    lua_pop(L, 2);
}

static void callback_run(cr_loop *core, cr_handle *handle) {
    lloop *loop = core->userdata;
    lcallback *cb = cr_container_of(handle, lcallback, handle);
    lua_State *L = loop->L;
    switch (cb->kind) {
    case LCB_STOP:
        loop->stopping = 1;
        lcr_callback_free(L, cb);
        return;
    default:
        lua_pushcfunction(L, traceback_handler);
        lcr_push_ref(L, loop, cb->ref_fn);
        int nargs = 0;
        if (cb->ref_arg != LUA_NOREF) {
            lcr_push_ref(L, loop, cb->ref_arg);
            nargs = 1;
        }
        lcr_callback_free(L, cb);
        if (lua_pcall(L, nargs, 0, -2 - nargs) != LUA_OK)
            report_callback_error(L);
        lua_pop(L, 1);
        return;
    }
}

/* ---- task steps ---- */

void lcr_push_pending_task(lua_State *L, ltask *task) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ltask_loop(task)->anchors);
    lua_rawgeti(L, -1, task->slot);
    lua_remove(L, -2);
}

/* Anchor the Task at the top of L in a free slot. */
static void task_anchor(lua_State *L, lloop *loop, ltask *task) {
    int slot;
    if (loop->nfree > 0) {
        slot = loop->free_slots[--loop->nfree];
    } else {
        slot = ++loop->next_slot;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, loop->anchors);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, slot);
    lua_pop(L, 1);
    task->slot = slot;
}

/* The task is over: drop its anchor. */
static void task_unanchor(lua_State *L, ltask *task) {
    lloop *loop = ltask_loop(task);
    if (task->slot == 0)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, loop->anchors);
    lua_pushnil(L);
    lua_rawseti(L, -2, task->slot);
    lua_pop(L, 1);
    if (loop->nfree == loop->cap_free) {
        int cap = loop->cap_free ? loop->cap_free * 2 : 64;
        int *slots = loop->core.alloc(loop->core.alloc_data, loop->free_slots,
                                      (size_t)loop->cap_free * sizeof *slots, (size_t)cap * sizeof *slots);
        if (slots == NULL) { /* keep the slot unused: a small leak of one index */
            task->slot = 0;
            return;
        }
        loop->free_slots = slots;
        loop->cap_free = cap;
    }
    loop->free_slots[loop->nfree++] = task->slot;
    task->slot = 0;
}

/* Keep a weak reference to a failed task, to report it at close if its
 * error was never retrieved (its __gc reports it if it goes first). */
static void remember_failed(lua_State *L, lloop *loop, int tidx) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, loop->failed);
    lua_pushvalue(L, tidx);
    lua_rawsetp(L, -2, lua_touserdata(L, tidx));
    lua_pop(L, 1);
}

/* Report the failed tasks nobody looked at (loop close). */
static void report_failed(lua_State *L, lloop *loop) {
    if (loop->failed == LUA_NOREF)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, loop->failed);
    int t = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        lcr_task_report_unretrieved(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* debug: a step or callback ran too long. */
static void on_slow(cr_loop *core, cr_task *ctask, double seconds) {
    lloop *loop = core->userdata;
    ltask *task = (ltask *)ctask;
    if (task != NULL && task->slot != 0) {
        lua_State *L = loop->L;
        lcr_push_pending_task(L, task);
        lcr_task_push_name(L, task, -1);
        fprintf(stderr, "Executing <corral.Task %p '%s'> took %.3f seconds\n", (void *)task,
                lua_tostring(L, -1), seconds);
        lua_pop(L, 2);
    } else if (task != NULL) {
        fprintf(stderr, "Executing <corral.Task %p> (now done) took %.3f seconds\n", (void *)task, seconds);
    } else {
        fprintf(stderr, "Executing a callback took %.3f seconds\n", seconds);
    }
    fflush(stderr);
}

static char defaults_key; /* registry: defaults set by corral_set_default */

int corral_set_default(lua_State *L, const char *option) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &defaults_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &defaults_key);
    }
    lua_insert(L, -2);
    lua_setfield(L, -2, option);
    lua_pop(L, 1);
    return CORRAL_OK;
}

void lcr_opt_field(lua_State *L, int idx, const char *name) {
    if (idx != 0 && lua_istable(L, idx)) {
        if (lua_getfield(L, idx, name) != LUA_TNIL)
            return;
        lua_pop(L, 1);
    }
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &defaults_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
}

int lcr_opt_clock(lua_State *L, int idx, const char *fname) {
    if (idx != 0 && !lua_isnoneornil(L, idx))
        luaL_checktype(L, idx, LUA_TTABLE);
    lcr_opt_field(L, idx, "clock");
    const char *clock = luaL_optstring(L, -1, "monotonic");
    int virtual_clock = strcmp(clock, "virtual") == 0;
    if (!virtual_clock && strcmp(clock, "monotonic") != 0)
        luaL_error(L, "bad option 'clock' to '%s' (\"monotonic\" or \"virtual\" expected, got \"%s\")", fname,
                   clock);
    lua_pop(L, 1);
    return virtual_clock;
}

void lcr_loop_options(lua_State *L, lloop *loop, int idx) {
    if (idx != 0 && lua_isnone(L, idx))
        idx = 0;
    if (idx != 0)
        idx = lua_absindex(L, idx);
    lcr_opt_field(L, idx, "seed");
    if (!lua_isnil(L, -1)) {
        int isint;
        lua_Integer seed = lua_tointegerx(L, -1, &isint);
        if (!isint)
            luaL_error(L, "bad option 'seed' (integer expected, got %s)", luaL_typename(L, -1));
        cr_loop_seed(&loop->core, (uint64_t)seed);
    }
    lua_pop(L, 1);
    lcr_opt_field(L, idx, "trace");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "bad option 'trace' (file name expected, got %s)", luaL_typename(L, -1));
        if (loop->trace == NULL)
            lcr_trace_open(L, loop, lua_tostring(L, -1));
    }
    lua_pop(L, 1);
    lcr_opt_field(L, idx, "deadline");
    loop->deadline = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    lcr_opt_field(L, idx, "preempt");
    loop->preempt = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lcr_opt_field(L, idx, "debug");
    if (lua_toboolean(L, -1)) {
        loop->core.slow_threshold = 0.1;
        loop->core.on_slow = on_slow;
    }
    lua_pop(L, 1);
}

/* A closed thread's stack is emptied: put back the Task and the Loop at
 * 1 and 2, so the task keeps its loop alive. */
static void keep_task_anchors(lua_State *L, lua_State *co, int tidx, lloop *loop) {
    lua_settop(co, 0);
    lua_pushvalue(L, tidx);
    lcr_push_loop(L, loop);
    lua_xmove(L, co, 2);
}

/* Store the error at the top of L as the task's (pops it). */
static void task_set_error(lua_State *L, int task_idx) {
    lcr_task_set_info(L, task_idx, "error");
}

static void cancelled_error_for(lua_State *L, ltask *task) {
    lcr_error_push(L, "CancelledError", task->core.fut.cancel_msg);
}

/* Setting the hook again restarts its instruction count: a task is
 * preempted after N instructions without suspending, not N in all.  A
 * task resumed from a preemption with a cancellation to throw gets its
 * hook at the very next instruction, to raise it there. */
static void restart_hook_count(lloop *loop, ltask *task, int cancel) {
    lua_State *co = task->co;
    lua_Hook hook = lua_gethook(co);
    if (hook == NULL)
        return;
    if (loop->hook_period == 0)
        loop->hook_period = lua_gethookcount(co);
    int was_preempted = task->was_preempted;
    task->was_preempted = 0;
    if (cancel && was_preempted) {
        task->deliver_cancel = 1;
        lua_sethook(co, hook, lua_gethookmask(co), 1);
    } else {
        lua_sethook(co, hook, lua_gethookmask(co), loop->hook_period);
    }
}

static void loop_step(cr_loop *core, cr_task *ctask, int cancel) {
    lloop *loop = core->userdata;
    ltask *task = (ltask *)ctask;
    lua_State *L = loop->L;
    lua_State *co = task->co;
    int nres = 0, status;
    if (loop->trace != NULL)
        lcr_trace_step_begin(L, loop, task);
    if (!task->launched) {
        task->launched = 1;
        if (cancel) {
            /* Cancelled before its first step: the body never runs. */
            luaL_checkstack(L, 8, "corral step");
            lcr_push_pending_task(L, task);
            int tidx = lua_gettop(L);
            lua_settop(co, 2);
            cancelled_error_for(L, task);
            task_set_error(L, tidx);
            cr_task_step_done(ctask, CR_STEP_CANCELLED);
            task_unanchor(L, task);
            lua_settop(L, tidx - 1);
            return;
        }
        if (loop->preempt)
            restart_hook_count(loop, task, cancel);
        status = lua_resume(co, L, lua_gettop(co) - 3, &nres);
    } else {
        if (loop->preempt)
            restart_hook_count(loop, task, cancel);
        status = lua_resume(co, L, 0, &nres);
    }
    if (status == LUA_YIELD && task->preempted) {
        /* preempted by a count hook: to the back of the ready queue */
        task->preempted = 0;
        task->was_preempted = 1;
        lua_pop(co, nres);
        if (loop->trace != NULL)
            lcr_trace_step_end(loop, task);
        cr_task_block_on(ctask, NULL);
        cr_task_step_done(ctask, CR_STEP_BLOCKED);
        return;
    }
    if (loop->trace != NULL)
        lcr_trace_step_end(loop, task);
    if (status == LUA_YIELD && nres >= 1 && ctask->blocked && lua_touserdata(co, -1) == &sentinel) {
        lua_pop(co, nres);
        cr_task_step_done(ctask, CR_STEP_BLOCKED);
        return;
    }
    /* The body stopped for good: record how (dropping any suspension a
     * nested coroutine swallowed on its way here). */
    cr_task_unblock(ctask);
    task->blocker = NULL;
    luaL_checkstack(L, 8, "corral step");
    lcr_push_pending_task(L, task);
    int tidx = lua_gettop(L);
    if (status == LUA_YIELD) {
        /* A yield that is not corral's: the task cannot go on. */
        lua_pop(co, nres);
        lua_pushstring(co, "attempt to yield from a corral task outside a nested coroutine "
                           "(use corral.sleep(0) to let other tasks run)");
        luaL_traceback(L, co, lua_tostring(co, -1), 0);
        lua_pop(co, 1);
        lcr_closethread(co, L);
        keep_task_anchors(L, co, tidx, loop);
        task_set_error(L, tidx);
        cr_task_step_done(ctask, CR_STEP_FAILED);
        remember_failed(L, loop, tidx);
        lcr_task_mark_failed(L, tidx);
    } else if (status == LUA_OK) {
        task->nresults = nres - 2; /* indices 1 and 2 hold the Task and the Loop */
        if (ctask->must_cancel) {
            cancelled_error_for(L, task);
            task_set_error(L, tidx);
        }
        cr_task_step_done(ctask, CR_STEP_RETURNED);
    } else {
        int cancelled = lcr_is_error(co, -1, "CancelledError");
        /* The traceback: on the error table, and kept for the report of a
         * failure nobody retrieves.  Not for the mass cancellation of a
         * closing loop, where nobody will read them. */
        if (!(cancelled && loop->closing)) {
            luaL_traceback(L, co, lua_type(co, -1) == LUA_TSTRING ? lua_tostring(co, -1) : NULL, 0);
            if (lcr_is_error(co, -1, NULL)) {
                lua_getfield(co, -1, "traceback");
                int has = !lua_isnil(co, -1);
                lua_pop(co, 1);
                if (!has) {
                    lua_pushvalue(L, -1);
                    lua_xmove(L, co, 1);
                    lua_setfield(co, -2, "traceback");
                }
            }
            if (cancelled)
                lua_pop(L, 1);
            else
                lcr_task_set_info(L, tidx, "trace");
        }
        lua_xmove(co, L, 1);
        /* Close the thread: pending <close> variables run now. */
        if (lcr_closethread(co, L) != LUA_OK) {
            lua_xmove(co, L, 1);
            lua_replace(L, -2);
            cancelled = lcr_is_error(L, -1, "CancelledError");
        }
        keep_task_anchors(L, co, tidx, loop);
        if (cancelled && loop->closing && lua_isnil(L, -1) == 0 && task->core.fut.cancel_msg == NULL)
            lua_pop(L, 1); /* a closing loop's plain CancelledError: made again if asked for */
        else
            task_set_error(L, tidx);
        cr_task_step_done(ctask, cancelled ? CR_STEP_CANCELLED : CR_STEP_FAILED);
        if (!cancelled) {
            remember_failed(L, loop, tidx);
            lcr_task_mark_failed(L, tidx);
        }
    }
    task_unanchor(L, task);
    lua_settop(L, tidx - 1);
}

/* ---- loops ---- */

static void loop_release(lua_State *L, lloop *loop) {
    if (tls_running == loop)
        tls_running = NULL;
    lcr_trace_close(loop);
    cr_link *node;
    while ((node = loop->callbacks.next) != &loop->callbacks) {
        lcallback *cb = cr_container_of(node, lcallback, live);
        lcr_callback_free(L, cb);
    }
    cr_loop_free(&loop->core);
    if (loop->free_slots != NULL)
        loop->core.alloc(loop->core.alloc_data, loop->free_slots,
                         (size_t)loop->cap_free * sizeof *loop->free_slots, 0);
    loop->free_slots = NULL;
    loop->nfree = loop->cap_free = 0;
    if (loop->anchors != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, loop->anchors);
        luaL_unref(L, LUA_REGISTRYINDEX, loop->refs);
        luaL_unref(L, LUA_REGISTRYINDEX, loop->failed);
        loop->anchors = loop->refs = loop->failed = LUA_NOREF;
    }
}

lloop *lcr_loop_new(lua_State *L, int virtual_clock) {
    lloop *loop = lua_newuserdatauv(L, sizeof *loop, 0);
    memset(loop, 0, sizeof *loop);
    loop->anchors = loop->refs = loop->failed = LUA_NOREF;
    cr_list_init(&loop->callbacks);
    lcr_setmetatable(L, LCR_C_LOOP);
    cr_loop_init(&loop->core, loop_step, virtual_clock);
    void *alloc_data;
    lua_Alloc alloc = lua_getallocf(L, &alloc_data);
    loop->core.alloc = alloc;
    loop->core.alloc_data = alloc_data;
    loop->core.userdata = loop;
    lua_newtable(L);
    loop->anchors = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    loop->refs = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    loop->failed = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &loops_key);
    lua_pushvalue(L, -2);
    lua_rawsetp(L, -2, loop);
    lua_pop(L, 1);
    return loop;
}

void lcr_push_loop(lua_State *L, lloop *loop) {
    if (loop->running && loop->ud_idx != 0) {
        /* Fast path: the Loop sits on the driving thread's stack. */
        lua_pushvalue(loop->L, loop->ud_idx);
        if (loop->L != L)
            lua_xmove(loop->L, L, 1);
        return;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &loops_key);
    lua_rawgetp(L, -1, loop);
    lua_remove(L, -2);
}

ltask *lcr_spawn(lua_State *L, lloop *loop, int fidx, int nargs) {
    fidx = lua_absindex(L, fidx);
    if (loop->closed)
        luaL_error(L, "corral.spawn: the loop is closed");
    int type = lua_type(L, fidx);
    if (type != LUA_TFUNCTION && type != LUA_TTHREAD)
        luaL_typeerror(L, fidx, "function or coroutine");
    lua_State *given = type == LUA_TTHREAD ? lua_tothread(L, fidx) : NULL;
    if (given != NULL) {
        lua_Debug ar;
        if (lua_status(given) != LUA_OK || lua_getstack(given, 0, &ar) || lua_gettop(given) == 0)
            luaL_argerror(L, fidx, "coroutine already started or dead");
    }
    luaL_checkstack(L, nargs + 8, "corral.spawn");
    ltask *task = lua_newuserdatauv(L, sizeof *task, TUV_COUNT);
    memset(task, 0, sizeof *task);
    lcr_setmetatable(L, LCR_C_TASK);
    int tidx = lua_gettop(L);
    lua_State *co;
    if (given != NULL) {
        co = given;
        lua_pushvalue(L, fidx);
    } else {
        co = lua_newthread(L);
    }
    lua_setiuservalue(L, tidx, TUV_THREAD);
    luaL_checkstack(co, nargs + 4, "corral.spawn");
    /* The thread's stack: [Task, Loop, function, args...]; the Loop slot
     * keeps the loop alive as long as the task (see keep_task_anchors). */
    lua_pushvalue(L, tidx);
    lcr_push_loop(L, loop);
    lua_xmove(L, co, 2);
    if (given != NULL) {
        lua_rotate(co, 1, 2);
    } else {
        lua_pushvalue(L, fidx);
        lua_xmove(L, co, 1);
    }
    for (int i = 1; i <= nargs; i++)
        lua_pushvalue(L, fidx + i);
    lua_xmove(L, co, nargs);
    task->co = co;
    cr_task_init(&task->core, &loop->core);
    lua_pushvalue(L, tidx);
    task_anchor(L, loop, task);
    lua_pop(L, 1);
    if (loop->trace != NULL)
        lcr_trace_spawn(L, loop, task);
    return task;
}

/* Describe the blocked tasks, for a DeadlockError. */
static void push_deadlock_message(lua_State *L, lloop *loop) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "no task can make progress:");
    cr_link *node;
    int first = 1;
    cr_list_for_each(node, &loop->core.tasks) {
        ltask *task = (ltask *)cr_container_of(node, cr_task, tasks_link);
        lcr_push_pending_task(L, task);
        lcr_task_push_name(L, task, lua_gettop(L));
        const char *name = lua_tostring(L, -1);
        char line[256];
        snprintf(line, sizeof line, "%s %s waits on %s", first ? "" : ";", name,
                 task->blocker ? task->blocker->what : "something");
        lua_pop(L, 2);
        luaL_addstring(&b, line);
        first = 0;
    }
    luaL_pushresult(&b);
}

/* Returns 1 when stopped, 0 on a deadlock, 2 past the deadline. */
static int run_iterations(lua_State *L, lloop *loop) {
    while (!loop->stopping) {
        double timeout = INFINITY;
        if (loop->deadline > 0) {
            double left = loop->deadline - cr_monotonic_now();
            if (left <= 0)
                return 2;
            if (!loop->core.virtual_clock)
                timeout = left;
        }
        if (cr_loop_is_idle(&loop->core)) {
            ltask *main = loop->main;
            if (main == NULL || loop->deadlocked)
                return 0;
            loop->deadlocked = 1;
            lua_rawgeti(L, LUA_REGISTRYINDEX, loop->refs);
            push_deadlock_message(L, loop);
            lua_setfield(L, -2, "deadlock_message");
            lua_pop(L, 1);
            main->deadlock = 1;
            cr_task_interrupt(&main->core);
        }
        cr_loop_run_once(&loop->core, timeout);
    }
    return 1;
}

/* Run until the task at task_idx is done (plus one iteration, as asyncio).
 * Leaves nothing on the stack; returns 0 if the loop deadlocked for good. */
int lcr_run_until_complete(lua_State *L, lloop *loop, int loop_idx, int task_idx, const char *fname) {
    ltask *task = lcr_check_task(L, task_idx);
    if (loop->running || lcr_running_loop(L) != NULL)
        luaL_error(L, "%s: cannot be called from a running loop", fname);
    lcallback *stop = lcr_callback_new(L, loop, LCB_STOP, 0, 0);
    cr_future_add_callback(&task->core.fut, &stop->handle);
    lua_State *saved_L = loop->L;
    int saved_idx = loop->ud_idx;
    loop->L = L;
    loop->ud_idx = lua_absindex(L, loop_idx);
    loop->running = 1;
    loop->stopping = 0;
    loop->main = task;
    loop->deadlocked = 0;
    set_running(L, loop);
    int ok = run_iterations(L, loop);
    set_running(L, NULL);
    if (ok == 2) {
        loop->running = 0;
        loop->main = NULL;
        loop->L = saved_L;
        loop->ud_idx = saved_idx;
        if (!loop->stopping)
            lcr_callback_free(L, stop);
        lcr_limit_error(L, "deadline");
    }
    loop->running = 0;
    loop->main = NULL;
    loop->L = saved_L;
    loop->ud_idx = saved_idx;
    if (!loop->stopping)
        lcr_callback_free(L, stop); /* it never ran */
    return ok;
}

void lcr_loop_close(lua_State *L, lloop *loop, int loop_idx) {
    if (loop->closed)
        return;
    lua_State *saved_L = loop->L;
    int saved_idx = loop->ud_idx;
    loop->ud_idx = loop_idx ? lua_absindex(L, loop_idx) : 0;
    int was_running = lcr_running_loop(L) != NULL;
    loop->L = L;
    loop->running = 1;
    if (!was_running)
        set_running(L, loop);
    loop->closing = 1;
    /* Cancel everything still pending and let it finish. */
    cr_link *node;
    cr_list_for_each(node, &loop->core.tasks) {
        cr_task_cancel(cr_container_of(node, cr_task, tasks_link));
    }
    for (int i = 0; i < 1000 && loop->core.ntasks > 0 && !cr_loop_is_idle(&loop->core); i++)
        cr_loop_run_once(&loop->core, INFINITY);
    /* Tasks that would not finish: close their threads (<close> runs). */
    while (!cr_list_is_empty(&loop->core.tasks)) {
        cr_task *ctask = cr_container_of(loop->core.tasks.next, cr_task, tasks_link);
        ltask *task = (ltask *)ctask;
        lcr_push_pending_task(L, task);
        int tidx = lua_gettop(L);
        cr_task_abandon(ctask);
        if (task->launched)
            lcr_closethread(task->co, L);
        keep_task_anchors(L, task->co, tidx, loop);
        cancelled_error_for(L, task);
        task_set_error(L, tidx);
        task_unanchor(L, task);
        lua_pop(L, 1);
    }
    /* Let done callbacks already queued run once. */
    for (int i = 0; i < 8 && !cr_list_is_empty(&loop->core.ready); i++)
        cr_loop_run_once(&loop->core, 0);
    if (!was_running)
        set_running(L, NULL);
    loop->running = 0;
    loop->L = saved_L;
    loop->ud_idx = saved_idx;
    loop->closed = 1;
    report_failed(L, loop);
    loop_release(L, loop);
}

/* ---- corral.dump ---- */

/* One line per pending task: its repr and what it is doing. */
static void push_dump(lua_State *L, lloop *loop) {
    int base = lua_gettop(L);
    lua_pushfstring(L, "%d task%s at t=%f\n", (int)loop->core.ntasks,
                    loop->core.ntasks == 1 ? "" : "s", cr_loop_time(&loop->core));
    cr_link *node;
    cr_list_for_each(node, &loop->core.tasks) {
        ltask *task = (ltask *)cr_container_of(node, cr_task, tasks_link);
        cr_task *core = &task->core;
        luaL_checkstack(L, 4, "corral.dump");
        lcr_push_pending_task(L, task);
        lcr_task_push_name(L, task, -1);
        const char *name = lua_tostring(L, -1);
        if (core == loop->core.current)
            lua_pushfstring(L, "  '%s' running\n", name);
        else if (core->step.where == CR_IN_READY)
            lua_pushfstring(L, "  '%s' ready\n", name);
        else if (core->timer.where == CR_IN_HEAP)
            lua_pushfstring(L, "  '%s' sleeping until t=%f\n", name, core->timer.when);
        else
            lua_pushfstring(L, "  '%s' waiting on %s\n", name,
                            task->blocker ? task->blocker->what : "something");
        lua_replace(L, -3);
        lua_pop(L, 1);
    }
    lua_concat(L, lua_gettop(L) - base);
}

static int corral_dump(lua_State *L) {
    lloop *loop = lcr_running_loop(L);
    if (loop == NULL)
        return luaL_error(L, "corral.dump: no running loop");
    push_dump(L, loop);
    return 1;
}

/* ---- the Loop class ---- */

static int loop_gc(lua_State *L) {
    lloop *loop = lcr_check_loop(L, 1);
    if (!loop->closed) {
        loop->closed = 1;
        loop_release(L, loop);
    }
    return 0;
}

static int loop_new(lua_State *L) {
    lua_settop(L, 1);
    lloop *loop = lcr_loop_new(L, lcr_opt_clock(L, 1, "corral.Loop"));
    lcr_loop_options(L, loop, 1);
    return 1;
}

static int loop_spawn(lua_State *L) {
    lloop *loop = lcr_check_loop(L, 1);
    lcr_spawn(L, loop, 2, lua_gettop(L) - 2);
    return 1;
}

static int loop_time(lua_State *L) {
    lloop *loop = lcr_check_loop(L, 1);
    lua_pushnumber(L, cr_loop_time(&loop->core));
    return 1;
}

static int loop_next_deadline(lua_State *L) {
    lloop *loop = lcr_check_loop(L, 1);
    double d = cr_loop_next_deadline(&loop->core);
    if (d < 0)
        lua_pushnil(L);
    else
        lua_pushnumber(L, d);
    return 1;
}

static int loop_step_method(lua_State *L) {
    lloop *loop = lcr_check_loop(L, 1);
    double timeout = luaL_optnumber(L, 2, 0);
    if (isnan(timeout))
        luaL_argerror(L, 2, "number expected, got NaN");
    if (loop->running || lcr_running_loop(L) != NULL)
        luaL_error(L, "loop:step: cannot be called from a running loop");
    if (loop->closed)
        luaL_error(L, "loop:step: the loop is closed");
    lua_State *saved_L = loop->L;
    int saved_idx = loop->ud_idx;
    loop->L = L;
    loop->ud_idx = 1;
    loop->running = 1;
    set_running(L, loop);
    size_t ran = cr_loop_run_once(&loop->core, timeout > 0 ? timeout : 0);
    set_running(L, NULL);
    loop->running = 0;
    loop->L = saved_L;
    loop->ud_idx = saved_idx;
    lua_pushinteger(L, (lua_Integer)ran);
    return 1;
}

static int loop_run_until_complete(lua_State *L) {
    lloop *loop = lcr_check_loop(L, 1);
    if (loop->closed)
        luaL_error(L, "loop:run_until_complete: the loop is closed");
    if (lcr_to_task(L, 2) == NULL)
        lcr_spawn(L, loop, 2, lua_gettop(L) - 2);
    else
        lua_pushvalue(L, 2);
    int tidx = lua_gettop(L);
    if (!lcr_run_until_complete(L, loop, 1, tidx, "loop:run_until_complete"))
        return lcr_error_raise(L, "DeadlockError", "no task can make progress");
    ltask *task = lcr_to_task(L, tidx);
    if (!cr_future_done(&task->core.fut))
        return lcr_error_raise(L, "DeadlockError", "no task can make progress");
    return lcr_task_push_results(L, task, tidx, 0);
}

static int loop_close(lua_State *L) {
    lloop *loop = lcr_check_loop(L, 1);
    if (loop->running)
        luaL_error(L, "loop:close: cannot close a running loop");
    lcr_loop_close(L, loop, 1);
    return 0;
}

static int loop_tostring(lua_State *L) {
    lloop *loop = lcr_check_loop(L, 1);
    char extra[64];
    snprintf(extra, sizeof extra, "%s, tasks:%zu",
             loop->closed ? "closed" : loop->running ? "running" : "idle", loop->core.ntasks);
    lcr_repr(L, "Loop", loop, extra);
    return 1;
}

void lcr_loop_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"spawn", loop_spawn},
        {"step", loop_step_method},
        {"next_deadline", loop_next_deadline},
        {"run_until_complete", loop_run_until_complete},
        {"time", loop_time},
        {"close", loop_close},
        {NULL, NULL},
    };
    static const luaL_Reg metamethods[] = {
        {"__gc", loop_gc},
        {"__tostring", loop_tostring},
        {NULL, NULL},
    };
    lcr_new_class_fast(L, LCR_C_LOOP, LCR_LOOP, methods, metamethods);
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &loops_key);
    lua_pushcfunction(L, loop_new);
    lua_setfield(L, -2, "Loop");
    lua_pushcfunction(L, corral_dump);
    lua_setfield(L, -2, "dump");
}
