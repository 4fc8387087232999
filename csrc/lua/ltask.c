/*
 * ltask.c - the Task class, and outcome helpers shared with Future.
 */
#include <stdio.h>
#include <string.h>

#include "lcorral.h"

ltask *lcr_to_task(lua_State *L, int idx) {
    lloop *loop = lcr_same_state_loop(L);
    if (loop != NULL) {
        cr_future *f = lcr_loop_to_awaitable(L, loop, idx);
        return f != NULL && f->is_task ? (ltask *)(void *)f : NULL;
    }
    return lcr_testudata_range(L, idx, LCR_C_TASK, 2);
}

cr_future *lcr_loop_to_awaitable(lua_State *L, lloop *loop, int idx) {
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx))
        return NULL;
    const void *mt = lua_topointer(L, -1);
    lua_pop(L, 1);
    if (mt == loop->mt_task || mt == loop->mt_task_failed)
        return &((ltask *)p)->core.fut;
    if (mt == loop->mt_future)
        return &((lfuture *)p)->core;
    return NULL;
}

ltask *lcr_check_task(lua_State *L, int idx) {
    ltask *task = lcr_to_task(L, idx);
    if (task == NULL)
        luaL_typeerror(L, idx, LCR_TASK);
    return task;
}

cr_future *lcr_to_awaitable(lua_State *L, int idx) {
    lloop *loop = lcr_same_state_loop(L);
    if (loop != NULL)
        return lcr_loop_to_awaitable(L, loop, idx);
    ltask *task = lcr_to_task(L, idx);
    if (task != NULL)
        return &task->core.fut;
    lfuture *future = lcr_to_future(L, idx);
    if (future != NULL)
        return &future->core;
    return NULL;
}

void lcr_task_get_info(lua_State *L, int task_idx, const char *key) {
    if (lua_getiuservalue(L, task_idx, TUV_INFO) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    lua_getfield(L, -1, key);
    lua_remove(L, -2);
}

void lcr_task_set_info(lua_State *L, int task_idx, const char *key) {
    task_idx = lua_absindex(L, task_idx);
    if (lua_getiuservalue(L, task_idx, TUV_INFO) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 2);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, task_idx, TUV_INFO);
    }
    lua_insert(L, -2);
    lua_setfield(L, -2, key);
    lua_pop(L, 1);
}

void lcr_task_push_name(lua_State *L, ltask *task, int task_idx) {
    task_idx = lua_absindex(L, task_idx);
    lcr_task_get_info(L, task_idx, "name");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushfstring(L, "Task-%I", (lua_Integer)task->core.id);
    }
}

/* Push the CancelledError of a cancelled task or future at idx. */
static void push_cancelled_error(lua_State *L, cr_future *future, int idx) {
    idx = lua_absindex(L, idx);
    if (future->is_task)
        lcr_task_get_info(L, idx, "error");
    else
        lua_getiuservalue(L, idx, FUV_VALUE);
    if (lcr_is_error(L, -1, "CancelledError"))
        return;
    lua_pop(L, 1);
    lcr_error_push(L, "CancelledError", future->cancel_msg);
    lua_pushvalue(L, -1);
    if (future->is_task)
        lcr_task_set_info(L, idx, "error");
    else
        lua_setiuservalue(L, idx, FUV_VALUE);
}

int lcr_future_push_outcome(lua_State *L, cr_future *future, int idx, int first_only, int raise) {
    idx = lua_absindex(L, idx);
    /* The core future tells the class: a task's is embedded first in it. */
    ltask *task = future->is_task ? (ltask *)(void *)future : NULL;
    lfuture *lf = future->is_task ? NULL : (lfuture *)(void *)future;
    if (future->state == CR_PENDING)
        return lcr_error_raise(L, "InvalidStateError", "Result is not set.");
    if (future->state == CR_CANCELLED) {
        push_cancelled_error(L, future, idx);
        if (raise)
            return lua_error(L);
        return 1;
    }
    if (future->failed) {
        if (task)
            task->retrieved = 1;
        else
            lf->retrieved = 1;
        if (task)
            lcr_task_get_info(L, idx, "error");
        else
            lua_getiuservalue(L, idx, FUV_VALUE);
        if (raise)
            return lua_error(L);
        return 1;
    }
    if (task) {
        lua_State *co = task->co;
        int n = task->nresults;
        if (first_only) {
            if (n == 0) {
                lua_pushnil(L);
                return 1;
            }
            n = 1;
        }
        luaL_checkstack(L, n + 1, "too many results");
        int base = lua_gettop(co) - task->nresults;
        for (int i = 1; i <= n; i++)
            lua_pushvalue(co, base + i);
        if (co != L)
            lua_xmove(co, L, n);
        return n;
    }
    lua_getiuservalue(L, idx, FUV_VALUE);
    int n = lf->nvalues;
    if (first_only && n > 1)
        n = 1;
    if (first_only && n == 0) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return 1;
    }
    luaL_checkstack(L, n + 1, "too many results");
    int t = lua_gettop(L);
    for (int i = 1; i <= n; i++)
        lua_rawgeti(L, t, i);
    lua_remove(L, t);
    return n;
}

int lcr_task_push_results(lua_State *L, ltask *task, int task_idx, int first_only) {
    return lcr_future_push_outcome(L, &task->core.fut, task_idx, first_only, 1);
}

/* ---- await, shared by Task and Future ---- */

/* await() returns the outcome of the task or future it was called on. */
static int push_awaited(lua_State *L, ltask *self) {
    (void)self;
    return lcr_future_push_outcome(L, lcr_to_awaitable(L, 1), 1, 0, 1);
}

static int await_common(lua_State *L, const char *fname) {
    cr_future *future = lcr_to_awaitable(L, 1);
    if (future == NULL)
        return luaL_typeerror(L, 1, "corral.Task or corral.Future");
    lua_settop(L, 1);
    ltask *self = lcr_need_task(L, fname);
    if (&self->core.fut == future)
        return luaL_error(L, "%s: a task cannot await itself", fname);
    cr_op_await(&self->core, future);
    static const lcr_blocker on_task = {"a task", push_awaited};
    static const lcr_blocker on_future = {"a future", push_awaited};
    return lcr_block(L, self, future->is_task ? &on_task : &on_future);
}

static int task_await(lua_State *L) {
    lcr_check_task(L, 1);
    return await_common(L, "task:await");
}

int lcr_future_await(lua_State *L);
int lcr_future_await(lua_State *L) {
    return await_common(L, "future:await");
}

/* ---- Task methods ---- */

static int task_cancel(lua_State *L) {
    ltask *task = lcr_check_task(L, 1);
    if (cr_future_done(&task->core.fut)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lloop *loop = ltask_loop(task);
    if (loop->trace != NULL)
        lcr_trace_cancel(loop, task);
    lua_pushboolean(L, lcr_cancel_with_msg(L, loop, &task->core.fut, 2));
    return 1;
}

static int task_cancelled(lua_State *L) {
    ltask *task = lcr_check_task(L, 1);
    lua_pushboolean(L, task->core.fut.state == CR_CANCELLED);
    return 1;
}

static int task_done(lua_State *L) {
    ltask *task = lcr_check_task(L, 1);
    lua_pushboolean(L, cr_future_done(&task->core.fut));
    return 1;
}

static int task_result(lua_State *L) {
    ltask *task = lcr_check_task(L, 1);
    lua_settop(L, 1);
    return lcr_task_push_results(L, task, 1, 0);
}

int lcr_exception_common(lua_State *L, cr_future *future);
int lcr_exception_common(lua_State *L, cr_future *future) {
    if (future->state == CR_PENDING)
        return lcr_error_raise(L, "InvalidStateError", "Exception is not set.");
    if (future->state == CR_CANCELLED || future->failed)
        return lcr_future_push_outcome(L, future, 1, 1, future->state == CR_CANCELLED);
    lua_pushnil(L);
    return 1;
}

static int task_exception(lua_State *L) {
    ltask *task = lcr_check_task(L, 1);
    lua_settop(L, 1);
    return lcr_exception_common(L, &task->core.fut);
}

static int task_get_name(lua_State *L) {
    ltask *task = lcr_check_task(L, 1);
    lcr_task_push_name(L, task, 1);
    return 1;
}

static int task_set_name(lua_State *L) {
    lcr_check_task(L, 1);
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    luaL_tolstring(L, 2, NULL);
    lcr_task_set_info(L, 1, "name");
    return 0;
}

int lcr_add_done_callback(lua_State *L, cr_future *future, lloop *loop);
int lcr_add_done_callback(lua_State *L, cr_future *future, lloop *loop) {
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (loop->closed)
        return luaL_error(L, "add_done_callback: the loop is closed");
    lcallback *cb = lcr_callback_new(L, loop, LCB_LUA, 2, 1);
    cr_future_add_callback(future, &cb->handle);
    return 0;
}

int lcr_remove_done_callback(lua_State *L, cr_future *future, lloop *loop);
int lcr_remove_done_callback(lua_State *L, cr_future *future, lloop *loop) {
    luaL_checkany(L, 2);
    lua_Integer removed = 0;
    cr_link *node = future->callbacks.next;
    while (node != &future->callbacks) {
        cr_link *next = node->next;
        cr_handle *handle = cr_container_of(node, cr_handle, link);
        lcallback *cb = NULL;
        /* Only Lua callbacks are candidates. */
        for (cr_link *l = loop->callbacks.next; l != &loop->callbacks; l = l->next) {
            lcallback *c = cr_container_of(l, lcallback, live);
            if (&c->handle == handle && c->kind == LCB_LUA) {
                cb = c;
                break;
            }
        }
        if (cb != NULL) {
            lcr_push_ref(L, loop, cb->ref_fn);
            int same = lua_rawequal(L, -1, 2);
            lua_pop(L, 1);
            if (same) {
                lcr_callback_free(L, cb);
                removed++;
            }
        }
        node = next;
    }
    lua_pushinteger(L, removed);
    return 1;
}

static int task_add_done_callback(lua_State *L) {
    ltask *task = lcr_check_task(L, 1);
    return lcr_add_done_callback(L, &task->core.fut, ltask_loop(task));
}

static int task_remove_done_callback(lua_State *L) {
    ltask *task = lcr_check_task(L, 1);
    return lcr_remove_done_callback(L, &task->core.fut, ltask_loop(task));
}

static int task_cancelling(lua_State *L) {
    ltask *task = lcr_check_task(L, 1);
    lua_pushinteger(L, task->core.cancels_requested);
    return 1;
}

static int task_uncancel(lua_State *L) {
    ltask *task = lcr_check_task(L, 1);
    lua_pushinteger(L, cr_task_uncancel(&task->core));
    return 1;
}

static const char *task_state(const ltask *task) {
    const cr_future *fut = &task->core.fut;
    if (fut->state == CR_PENDING)
        return "pending";
    if (fut->state == CR_CANCELLED)
        return "cancelled";
    return fut->failed ? "failed" : "done";
}

static int task_tostring(lua_State *L) {
    ltask *task = lcr_check_task(L, 1);
    lcr_task_push_name(L, task, 1);
    lua_pushfstring(L, "<corral.Task %p '%s' %s>", (void *)task, lua_tostring(L, -1),
                    task_state(task));
    return 1;
}

/* Only failed tasks carry a __gc (the never-retrieved report): the
 * finalizer costs every task that has one, and most tasks succeed. */
void lcr_task_mark_failed(lua_State *L, int idx) {
    lua_pushvalue(L, idx);
    lcr_setmetatable(L, LCR_C_TASK_FAILED);
    lua_pop(L, 1);
}

void lcr_task_report_unretrieved(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    ltask *task = lcr_to_task(L, idx);
    if (task == NULL || !task->core.fut.failed || task->retrieved)
        return;
    task->retrieved = 1;
    int top = lua_gettop(L);
    lcr_task_push_name(L, task, idx);
    lua_pushfstring(L, "<corral.Task %p '%s' failed>", (void *)task, lua_tostring(L, -1));
    const char *repr = lua_tostring(L, -1);
    lcr_task_get_info(L, idx, "trace");
    const char *trace = lua_tostring(L, -1);
    lcr_task_get_info(L, idx, "error");
    int is_string = lua_type(L, -1) == LUA_TSTRING;
    const char *msg = luaL_tolstring(L, -1, NULL);
    if (trace != NULL && is_string)
        fprintf(stderr, "Task exception was never retrieved\ntask: %s\n%s\n", repr, trace);
    else
        fprintf(stderr, "Task exception was never retrieved\ntask: %s\n%s\n%s\n", repr, msg,
                trace ? trace : "");
    fflush(stderr);
    lua_settop(L, top);
}

static int task_gc(lua_State *L) {
    lcr_task_report_unretrieved(L, 1);
    return 0;
}

void lcr_task_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"await", task_await},
        {"cancel", task_cancel},
        {"cancelled", task_cancelled},
        {"done", task_done},
        {"result", task_result},
        {"exception", task_exception},
        {"get_name", task_get_name},
        {"set_name", task_set_name},
        {"add_done_callback", task_add_done_callback},
        {"remove_done_callback", task_remove_done_callback},
        {"cancelling", task_cancelling},
        {"uncancel", task_uncancel},
        {NULL, NULL},
    };
    static const luaL_Reg metamethods[] = {
        {"__tostring", task_tostring},
        {NULL, NULL},
    };
    static const luaL_Reg failed_metamethods[] = {
        {"__tostring", task_tostring},
        {"__gc", task_gc},
        {NULL, NULL},
    };
    lcr_new_class_fast(L, LCR_C_TASK, LCR_TASK, methods, metamethods);
    /* Same name: argument errors and __name read "corral.Task" for both. */
    lcr_new_class_fast(L, LCR_C_TASK_FAILED, LCR_TASK ".failed", methods, failed_metamethods);
    lua_rawgetp(L, LUA_REGISTRYINDEX, lcr_class_key(LCR_C_TASK_FAILED));
    lua_pushliteral(L, LCR_TASK);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
}
