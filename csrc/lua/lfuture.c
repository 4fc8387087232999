/*
 * lfuture.c - the Future class and gather (a future over children).
 */
#include <string.h>

#include "lcorral.h"

int lcr_future_await(lua_State *L);
int lcr_exception_common(lua_State *L, cr_future *future);
int lcr_add_done_callback(lua_State *L, cr_future *future, lloop *loop);
int lcr_remove_done_callback(lua_State *L, cr_future *future, lloop *loop);

lfuture *lcr_to_future(lua_State *L, int idx) {
    return lcr_testudata(L, idx, LCR_C_FUTURE);
}

static lfuture *check_future(lua_State *L, int idx) {
    return lcr_checkudata(L, idx, LCR_C_FUTURE, LCR_FUTURE);
}

lfuture *lcr_future_new(lua_State *L, lloop *loop) {
    lfuture *future = lua_newuserdatauv(L, sizeof *future, FUV_COUNT);
    memset(future, 0, sizeof *future);
    lcr_setmetatable(L, LCR_C_FUTURE);
    cr_future_init(&future->core, &loop->core);
    future->loop = loop;
    /* Keep the loop alive as long as the future. */
    lcr_push_loop(L, loop);
    lua_setiuservalue(L, -2, FUV_LOOP);
    return future;
}

static int future_new(lua_State *L) {
    lloop *loop = lcr_running_loop(L);
    if (loop == NULL)
        return luaL_error(L, "corral.Future: no running loop");
    lcr_future_new(L, loop);
    return 1;
}

static int future_set_result(lua_State *L) {
    lfuture *future = check_future(L, 1);
    if (cr_future_done(&future->core))
        return lcr_error_raise(L, "InvalidStateError", "invalid state: the future is already done");
    int n = lua_gettop(L) - 1;
    lua_createtable(L, n, 1);
    for (int i = 1; i <= n; i++) {
        lua_pushvalue(L, i + 1);
        lua_rawseti(L, -2, i);
    }
    lua_setiuservalue(L, 1, FUV_VALUE);
    future->nvalues = n;
    cr_future_set_result(&future->core, 0);
    return 0;
}

static int future_set_exception(lua_State *L) {
    lfuture *future = check_future(L, 1);
    luaL_checkany(L, 2);
    if (cr_future_done(&future->core))
        return lcr_error_raise(L, "InvalidStateError", "invalid state: the future is already done");
    lua_settop(L, 2);
    lua_setiuservalue(L, 1, FUV_VALUE);
    cr_future_set_failed(&future->core);
    return 0;
}

static int future_cancel(lua_State *L) {
    lfuture *future = check_future(L, 1);
    if (cr_future_done(&future->core)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_pushboolean(L, lcr_cancel_with_msg(L, future->loop, &future->core, 2));
    return 1;
}

static int future_done(lua_State *L) {
    lua_pushboolean(L, cr_future_done(&check_future(L, 1)->core));
    return 1;
}

static int future_cancelled(lua_State *L) {
    lua_pushboolean(L, check_future(L, 1)->core.state == CR_CANCELLED);
    return 1;
}

static int future_result(lua_State *L) {
    lfuture *future = check_future(L, 1);
    lua_settop(L, 1);
    return lcr_future_push_outcome(L, &future->core, 1, 0, 1);
}

static int future_exception(lua_State *L) {
    lfuture *future = check_future(L, 1);
    lua_settop(L, 1);
    return lcr_exception_common(L, &future->core);
}

static int future_await(lua_State *L) {
    check_future(L, 1);
    return lcr_future_await(L);
}

static int future_add_done_callback(lua_State *L) {
    lfuture *future = check_future(L, 1);
    return lcr_add_done_callback(L, &future->core, future->loop);
}

static int future_remove_done_callback(lua_State *L) {
    lfuture *future = check_future(L, 1);
    return lcr_remove_done_callback(L, &future->core, future->loop);
}

static int future_tostring(lua_State *L) {
    lfuture *future = check_future(L, 1);
    const char *state = future->core.state == CR_PENDING     ? "pending"
                        : future->core.state == CR_CANCELLED ? "cancelled"
                        : future->core.failed                ? "failed"
                                                             : "finished";
    lua_pushfstring(L, "<corral.Future %p %s>", (void *)future, state);
    return 1;
}

static int future_gc(lua_State *L) {
    lfuture *future = check_future(L, 1);
    if (future->core.failed && !future->retrieved && !future->is_gather) {
        future->retrieved = 1;
    }
    return 0;
}

/* ---- gather ---- */

/* Cancelling a gather cancels its children (asyncio _GatheringFuture). */
static int gather_cancel(cr_future *core) {
    lfuture *outer = (lfuture *)core;
    if (cr_future_done(core))
        return 0;
    int ret = 0;
    /* The distinct children, kept alive by FUV_CHILDREN. */
    cr_future **kids = (cr_future **)(outer + 1);
    for (int i = 0; i < outer->nchildren; i++)
        if (cr_future_cancel(kids[i]))
            ret = 1;
    if (ret)
        outer->cancel_requested = 1;
    return ret;
}

/* Mark a child's error as handed out. */
static void mark_retrieved(lua_State *L, int idx) {
    ltask *task = lcr_to_task(L, idx);
    if (task)
        task->retrieved = 1;
    else
        lcr_to_future(L, idx)->retrieved = 1;
}

static void child_done(lua_State *L, int oidx, int cidx);

void lcr_gather_child_done(lua_State *L, lcallback *cb) {
    lloop *loop = cb->loop;
    lcr_push_ref(L, loop, cb->ref_fn);
    int oidx = lua_gettop(L);
    lcr_push_ref(L, loop, cb->ref_arg);
    child_done(L, oidx, oidx + 1);
    lua_settop(L, oidx - 1);
}

/* asyncio gather's _done_callback, for the child at cidx of the outer
 * future at oidx.  Leaves the stack as it found it. */
static void child_done(lua_State *L, int oidx, int cidx) {
    int top = lua_gettop(L);
    lfuture *outer = lcr_to_future(L, oidx);
    cr_future *child = lcr_to_awaitable(L, cidx);
    outer->nfinished++;
    if (cr_future_done(&outer->core)) {
        if (child->state != CR_CANCELLED)
            mark_retrieved(L, cidx);
        return;
    }
    if (!outer->return_exceptions && (child->state == CR_CANCELLED || child->failed)) {
        lcr_future_push_outcome(L, child, cidx, 1, 0);
        lua_setiuservalue(L, oidx, FUV_VALUE);
        cr_future_set_failed(&outer->core);
        lua_settop(L, top);
        return;
    }
    if (outer->nfinished == outer->nchildren) {
        lua_getiuservalue(L, oidx, FUV_CHILDREN);
        int kidx = lua_gettop(L);
        lua_createtable(L, outer->nitems, 1);
        int ridx = lua_gettop(L);
        for (int i = 1; i <= outer->nitems; i++) {
            lua_rawgeti(L, kidx, i);
            cr_future *item = lcr_to_awaitable(L, -1);
            if (item->state == CR_CANCELLED) {
                lcr_future_push_outcome(L, item, -1, 1, 0);
                /* asyncio stores a fresh CancelledError carrying the message */
                lua_getfield(L, -1, "message");
                lcr_error_push(L, "CancelledError", lua_tostring(L, -1));
                lua_replace(L, -3);
                lua_pop(L, 1);
            } else {
                lcr_future_push_outcome(L, item, -1, 1, 0);
            }
            lua_rawseti(L, ridx, i);
            lua_pop(L, 1);
        }
        lua_pushinteger(L, outer->nitems);
        lua_setfield(L, ridx, "n");
        if (outer->cancel_requested) {
            lcr_future_push_outcome(L, child, cidx, 1, 0);
            if (child->state != CR_CANCELLED) {
                lua_pop(L, 1);
                lcr_error_push(L, "CancelledError", NULL);
            }
            lua_setiuservalue(L, oidx, FUV_VALUE);
            cr_future_set_failed(&outer->core);
        } else {
            lua_createtable(L, 1, 0); /* results are packed: {r} */
            lua_insert(L, -2);
            lua_rawseti(L, -2, 1);
            lua_setiuservalue(L, oidx, FUV_VALUE);
            outer->nvalues = 1;
            cr_future_set_result(&outer->core, 0);
        }
    }
    lua_settop(L, top);
}

static int gather_finish(lua_State *L, ltask *self, int rc) {
    self->waits_on = NULL;
    if (rc != CR_OK)
        return lcr_raise_code(L, self, rc);
    int oidx = lua_gettop(L);
    lfuture *outer = lcr_to_future(L, oidx);
    return lcr_future_push_outcome(L, &outer->core, oidx, 1, 1);
}

static int gather_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    ltask *self = (ltask *)ctx;
    return gather_finish(L, self, lcr_op_wait(L, self, gather_k));
}

int lcr_gather(lua_State *L) {
    int list_form = lua_type(L, 1) == LUA_TTABLE && !lua_getmetatable(L, 1);
    ltask *self = lcr_need_task(L, "corral.gather");
    lloop *loop = self->loop;
    int return_exceptions = 0;
    int n, items;
    if (list_form) {
        if (!lua_isnoneornil(L, 2)) {
            luaL_checktype(L, 2, LUA_TTABLE);
            lua_getfield(L, 2, "return_exceptions");
            return_exceptions = lua_toboolean(L, -1);
            lua_pop(L, 1);
        }
        lua_settop(L, 1);
        n = (int)luaL_len(L, 1);
        luaL_checkstack(L, n + 8, "corral.gather: too many items");
        for (int i = 1; i <= n; i++)
            lua_rawgeti(L, 1, i);
        items = 2;
    } else {
        n = lua_gettop(L);
        items = 1;
    }
    /* The outer future carries a C array of distinct children after it. */
    lfuture *outer = lua_newuserdatauv(L, sizeof *outer + (size_t)n * sizeof(cr_future *), FUV_COUNT);
    memset(outer, 0, sizeof *outer);
    lcr_setmetatable(L, LCR_C_FUTURE);
    cr_future_init(&outer->core, &loop->core);
    outer->loop = loop;
    outer->is_gather = 1;
    outer->return_exceptions = (uint8_t)return_exceptions;
    outer->nitems = n;
    outer->core.cancel = gather_cancel;
    int oidx = lua_gettop(L);
    lcr_push_loop(L, loop);
    lua_setiuservalue(L, oidx, FUV_LOOP);
    cr_future **kids = (cr_future **)(outer + 1);
    lua_createtable(L, n, 0); /* item index -> child */
    int kidx = lua_gettop(L);
    lua_createtable(L, 0, n); /* child -> true */
    int sidx = lua_gettop(L);
    for (int i = 0; i < n; i++) {
        int item = items + i;
        cr_future *child = lcr_to_awaitable(L, item);
        if (child != NULL) {
            lua_pushvalue(L, item);
        } else {
            int type = lua_type(L, item);
            if (type != LUA_TFUNCTION && type != LUA_TTHREAD) {
                if (list_form)
                    return luaL_error(L, "bad item #%d to 'gather' (task, future, function or coroutine expected, got %s)",
                                      i + 1, luaL_typename(L, item));
                return luaL_typeerror(L, item, "task, future, function or coroutine");
            }
            ltask *spawned = lcr_spawn(L, loop, item, 0);
            child = &spawned->core.fut;
        }
        int vidx = lua_gettop(L);
        lua_pushvalue(L, vidx);
        lua_rawseti(L, kidx, i + 1);
        lua_pushvalue(L, vidx);
        if (lua_rawget(L, sidx) == LUA_TNIL) {
            lua_pushvalue(L, vidx);
            lua_pushboolean(L, 1);
            lua_rawset(L, sidx);
            kids[outer->nchildren++] = child;
            if (!cr_future_done(child)) {
                lcallback *cb = lcr_callback_new(L, loop, LCB_GATHER, oidx, vidx);
                cr_future_add_callback(child, &cb->handle);
            }
        }
        lua_settop(L, vidx - 1);
    }
    lua_pushvalue(L, kidx);
    lua_setiuservalue(L, oidx, FUV_CHILDREN);
    /* Children already done are accounted for now (asyncio 3.12+): if all
     * are, the gather completes without suspending. */
    for (int i = 0; i < outer->nchildren; i++) {
        if (!cr_future_done(kids[i]))
            continue;
        for (int j = 1; j <= n; j++) {
            lua_rawgeti(L, kidx, j);
            if (lcr_to_awaitable(L, -1) == kids[i]) {
                child_done(L, oidx, lua_gettop(L));
                lua_pop(L, 1);
                break;
            }
            lua_pop(L, 1);
        }
    }
    lua_settop(L, oidx);
    if (n == 0) {
        lua_createtable(L, 0, 1);
        lua_pushinteger(L, 0);
        lua_setfield(L, -2, "n");
        return 1;
    }
    self->waits_on = "gather";
    cr_op_await(&self->core, &outer->core);
    return gather_finish(L, self, lcr_op_wait(L, self, gather_k));
}

void lcr_future_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"set_result", future_set_result},
        {"set_exception", future_set_exception},
        {"cancel", future_cancel},
        {"done", future_done},
        {"cancelled", future_cancelled},
        {"result", future_result},
        {"exception", future_exception},
        {"await", future_await},
        {"add_done_callback", future_add_done_callback},
        {"remove_done_callback", future_remove_done_callback},
        {NULL, NULL},
    };
    static const luaL_Reg metamethods[] = {
        {"__tostring", future_tostring},
        {"__gc", future_gc},
        {NULL, NULL},
    };
    lcr_new_class_fast(L, LCR_C_FUTURE, LCR_FUTURE, methods, metamethods);
    lua_pushcfunction(L, future_new);
    lua_setfield(L, -2, "Future");
}
