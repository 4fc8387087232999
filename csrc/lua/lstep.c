/*
 * lstep.c - task steps: resuming a task's thread (lua_resume) and
 * recording how it stopped; anchoring pending tasks; loop options and
 * their defaults; reports of failures nobody retrieved and slow steps.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../include/corral.h"
#include "lcorral.h"

#if LUA_VERSION_RELEASE_NUM >= 50406
#define lcr_closethread(co, from) lua_closethread((co), (from))
#else
#define lcr_closethread(co, from) ((void)(from), lua_resetthread(co))
#endif

/* ---- task steps ---- */

void lcr_push_pending_task(lua_State *L, ltask *task) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ltask_loop(task)->anchors);
    lua_rawgeti(L, -1, task->slot);
    lua_remove(L, -2);
}

/* Anchor the Task at the top of L in a free slot. */
void lcr_task_anchor(lua_State *L, lloop *loop, ltask *task) {
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
void lcr_task_unanchor(lua_State *L, ltask *task) {
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
void lcr_report_failed(lua_State *L, lloop *loop) {
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
    /* The sandbox's settings: defaults only, a script cannot lift them. */
    lcr_opt_field(L, 0, "deadline");
    loop->deadline = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    lcr_opt_field(L, 0, "preempt");
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
void lcr_keep_task_anchors(lua_State *L, lua_State *co, int tidx, lloop *loop) {
    lua_settop(co, 0);
    lua_pushvalue(L, tidx);
    lcr_push_loop(L, loop);
    lua_xmove(L, co, 2);
}

/* Store the error at the top of L as the task's (pops it). */
void lcr_task_set_error(lua_State *L, int task_idx) {
    lcr_task_set_info(L, task_idx, "error");
}

void lcr_cancelled_error_for(lua_State *L, ltask *task) {
    lcr_error_push(L, "CancelledError", task->core.fut.cancel_msg);
}

/* Before a step of a loop with preemption: the task is preempted at the
 * second hook call of the step (so after N to 2N instructions without
 * suspending; the hook's count is never reset, which keeps instruction
 * budgets exact).  A task resumed from a preemption with a cancellation
 * to throw gets its hook at the very next instruction, to raise it there. */
static void restart_hook_count(lloop *loop, ltask *task, int cancel) {
    lua_State *co = task->co;
    lua_Hook hook = lua_gethook(co);
    task->hooked = 0;
    if (hook == NULL)
        return;
    if (loop->hook_period == 0)
        loop->hook_period = lua_gethookcount(co);
    int was_preempted = task->was_preempted;
    task->was_preempted = 0;
    if (cancel && was_preempted) {
        task->deliver_cancel = 1;
        lua_sethook(co, hook, lua_gethookmask(co), 1);
    }
}

void lcr_loop_step(cr_loop *core, cr_task *ctask, int cancel) {
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
            lcr_cancelled_error_for(L, task);
            lcr_task_set_error(L, tidx);
            cr_task_step_done(ctask, CR_STEP_CANCELLED);
            lcr_task_unanchor(L, task);
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
    if (status == LUA_YIELD && nres >= 1 && ctask->blocked && lua_touserdata(co, -1) == lcr_sentinel()) {
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
        lcr_keep_task_anchors(L, co, tidx, loop);
        lcr_task_set_error(L, tidx);
        cr_task_step_done(ctask, CR_STEP_FAILED);
        remember_failed(L, loop, tidx);
        lcr_task_mark_failed(L, tidx);
    } else if (status == LUA_OK) {
        task->nresults = nres - 2; /* indices 1 and 2 hold the Task and the Loop */
        if (ctask->must_cancel) {
            lcr_cancelled_error_for(L, task);
            lcr_task_set_error(L, tidx);
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
        lcr_keep_task_anchors(L, co, tidx, loop);
        if (cancelled && loop->closing && lua_isnil(L, -1) == 0 && task->core.fut.cancel_msg == NULL)
            lua_pop(L, 1); /* a closing loop's plain CancelledError: made again if asked for */
        else
            lcr_task_set_error(L, tidx);
        cr_task_step_done(ctask, cancelled ? CR_STEP_CANCELLED : CR_STEP_FAILED);
        if (!cancelled) {
            remember_failed(L, loop, tidx);
            lcr_task_mark_failed(L, tidx);
        }
    }
    lcr_task_unanchor(L, task);
    lua_settop(L, tidx - 1);
}

