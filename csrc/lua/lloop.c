/*
 * lloop.c - the loop as a Lua object: making one, spawning tasks,
 * run_until_complete with deadlock detection, close, corral.dump, and the
 * Loop class for hosts.
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

static char loops_key;     /* registry: weak table lightuserdata -> Loop */

lloop *lcr_check_loop(lua_State *L, int idx) {
    return lcr_checkudata(L, idx, LCR_C_LOOP, LCR_LOOP);
}

/* ---- loops ---- */

static void loop_release(lua_State *L, lloop *loop) {
    lcr_forget_running(loop);
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
    cr_loop_init(&loop->core, lcr_loop_step, virtual_clock);
    void *alloc_data;
    lua_Alloc alloc = lua_getallocf(L, &alloc_data);
    loop->core.alloc = alloc;
    lua_rawgetp(L, LUA_REGISTRYINDEX, lcr_class_key(LCR_C_TASK));
    loop->mt_task = lua_topointer(L, -1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, lcr_class_key(LCR_C_TASK_FAILED));
    loop->mt_task_failed = lua_topointer(L, -1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, lcr_class_key(LCR_C_FUTURE));
    loop->mt_future = lua_topointer(L, -1);
    lua_pop(L, 3);
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
    lcr_task_anchor(L, loop, task);
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
    lcr_set_running(L, loop);
    int ok = run_iterations(L, loop);
    lcr_set_running(L, NULL);
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
        lcr_set_running(L, loop);
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
        lcr_keep_task_anchors(L, task->co, tidx, loop);
        lcr_cancelled_error_for(L, task);
        lcr_task_set_error(L, tidx);
        lcr_task_unanchor(L, task);
        lua_pop(L, 1);
    }
    /* Let done callbacks already queued run once. */
    for (int i = 0; i < 8 && !cr_list_is_empty(&loop->core.ready); i++)
        cr_loop_run_once(&loop->core, 0);
    if (!was_running)
        lcr_set_running(L, NULL);
    loop->running = 0;
    loop->L = saved_L;
    loop->ud_idx = saved_idx;
    loop->closed = 1;
    lcr_report_failed(L, loop);
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
    if (loop->deadline > 0) { /* a sandbox's deadline bounds the wait */
        double left = loop->deadline - cr_monotonic_now();
        if (left <= 0)
            return lcr_limit_error(L, "deadline");
        if (!loop->core.virtual_clock && timeout > left)
            timeout = left;
    }
    lua_State *saved_L = loop->L;
    int saved_idx = loop->ud_idx;
    loop->L = L;
    loop->ud_idx = 1;
    loop->running = 1;
    lcr_set_running(L, loop);
    size_t ran = cr_loop_run_once(&loop->core, timeout > 0 ? timeout : 0);
    lcr_set_running(L, NULL);
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
