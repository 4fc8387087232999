/*
 * lfuture.c - the Future class and gather (a future over children).
 */
#include <limits.h>
#include <string.h>

#include "lcorral.h"

int lcr_future_await(lua_State *L);
int lcr_exception_common(lua_State *L, cr_future *future);
int lcr_add_done_callback(lua_State *L, cr_future *future, lloop *loop);
int lcr_remove_done_callback(lua_State *L, cr_future *future, lloop *loop);

lfuture *lcr_to_future(lua_State *L, int idx) {
    lloop *loop = lcr_same_state_loop(L);
    if (loop != NULL) {
        cr_future *f = lcr_loop_to_awaitable(L, loop, idx);
        return f != NULL && !f->is_task ? (lfuture *)(void *)f : NULL;
    }
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
    if (future->is_gather) {
        /* Links still queued on children that outlive the gather. */
        lgather_link *links = (lgather_link *)(void *)(future + 1);
        for (int i = 0; i < future->nchildren; i++)
            if (links[i].handle.where == CR_IN_CALLBACKS)
                cr_handle_detach(&future->loop->core, &links[i].handle);
    }
    return 0;
}

/* ---- gather ---- */

/* The links of a gather's distinct children, after its lfuture; then,
 * after room for nitems links, each item's core future. */
static lgather_link *gather_links(lfuture *outer) {
    return (lgather_link *)(void *)(outer + 1);
}

static cr_future **gather_items(lfuture *outer) {
    return (cr_future **)(void *)(gather_links(outer) + outer->nitems);
}

/* Cancelling a gather cancels its children (asyncio _GatheringFuture). */
static int gather_cancel(cr_future *core) {
    lfuture *outer = (lfuture *)core;
    if (cr_future_done(core))
        return 0;
    int ret = 0;
    lgather_link *links = gather_links(outer);
    for (int i = 0; i < outer->nchildren; i++)
        if (cr_future_cancel(links[i].child))
            ret = 1;
    if (ret)
        outer->cancel_requested = 1;
    return ret;
}

/* Mark a child's error as handed out. */
static void mark_retrieved(cr_future *child) {
    if (child->is_task)
        ((ltask *)(void *)child)->retrieved = 1;
    else
        ((lfuture *)(void *)child)->retrieved = 1;
}

/* asyncio gather's _done_callback, for `child` (at cidx) of the outer
 * future at oidx.  Leaves the stack as it found it. */
static void child_done(lua_State *L, lfuture *outer, int oidx, cr_future *child, int cidx) {
    int top = lua_gettop(L);
    outer->nfinished++;
    if (cr_future_done(&outer->core)) {
        if (child->state != CR_CANCELLED && child->failed)
            mark_retrieved(child);
        return;
    }
    if (!outer->return_exceptions && (child->state == CR_CANCELLED || child->failed)) {
        lcr_future_push_outcome(L, child, cidx, 1, 0);
        lua_setiuservalue(L, oidx, FUV_VALUE);
        cr_future_set_failed(&outer->core);
        lua_settop(L, top);
        return;
    }
    if (outer->nfinished < outer->nchildren)
        return;
    lua_getiuservalue(L, oidx, FUV_CHILDREN);
    int kidx = lua_gettop(L);
    lua_createtable(L, outer->nitems, 1);
    int ridx = lua_gettop(L);
    cr_future **items = gather_items(outer);
    for (int i = 1; i <= outer->nitems; i++) {
        lua_rawgeti(L, kidx, i);
        cr_future *item = items[i - 1];
        lcr_future_push_outcome(L, item, -1, 1, 0);
        if (item->state == CR_CANCELLED) {
            /* asyncio stores a fresh CancelledError carrying the message */
            lua_pop(L, 1);
            lcr_error_push(L, "CancelledError", item->cancel_msg);
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
    lua_settop(L, top);
}

/* A child finished: run child_done from the loop. */
static void gather_link_run(cr_loop *core, cr_handle *handle) {
    lloop *loop = core->userdata;
    lgather_link *link = cr_container_of(handle, lgather_link, handle);
    lfuture *outer = link->outer;
    lua_State *L = loop->L;
    luaL_checkstack(L, 8, "corral gather");
    lcr_push_ref(L, loop, outer->ref);
    int oidx = lua_gettop(L);
    lua_getiuservalue(L, oidx, FUV_CHILDREN);
    lua_rawgeti(L, -1, link->item);
    child_done(L, outer, oidx, link->child, oidx + 2);
    if (outer->nfinished == outer->nchildren) {
        lcr_unref(L, loop, outer->ref);
        outer->ref = LUA_NOREF;
    }
    lua_settop(L, oidx - 1);
}

static uint32_t *gather_mark_of(cr_future *child) {
    if (child->is_task)
        return &((ltask *)(void *)child)->gather_mark;
    return &((lfuture *)(void *)child)->gather_mark;
}

/* gather() returns r, the outcome of its outer future (at the top). */
static int push_gathered(lua_State *L, ltask *self) {
    (void)self;
    int oidx = lua_gettop(L);
    lfuture *outer = lcr_to_future(L, oidx);
    return lcr_future_push_outcome(L, &outer->core, oidx, 1, 1);
}

int lcr_gather(lua_State *L) {
    int list_form = lua_type(L, 1) == LUA_TTABLE && !lua_getmetatable(L, 1);
    ltask *self = lcr_need_task(L, "corral.gather");
    lloop *loop = ltask_loop(self);
    int return_exceptions = 0;
    int n;
    if (list_form) {
        if (!lua_isnoneornil(L, 2)) {
            luaL_checktype(L, 2, LUA_TTABLE);
            lua_getfield(L, 2, "return_exceptions");
            return_exceptions = lua_toboolean(L, -1);
            lua_pop(L, 1);
        }
        lua_settop(L, 1);
        lua_Integer len = luaL_len(L, 1);
        if (len > INT_MAX / 2)
            return luaL_error(L, "bad argument #1 to 'gather' (too many items)");
        n = (int)len;
    } else {
        n = lua_gettop(L);
    }
    /* Items are read one at a time (a list may hold more than a Lua stack):
     * from the list at 1, or the arguments from 1. */
#define PUSH_ITEM(i) (list_form ? (void)lua_rawgeti(L, 1, (i) + 1) : lua_pushvalue(L, (i) + 1))
    luaL_checkstack(L, 8, "corral.gather");
    lfuture *outer = lua_newuserdatauv(L, sizeof *outer + (size_t)n * (sizeof(lgather_link) + sizeof(cr_future *)),
                                       FUV_COUNT);
    memset(outer, 0, sizeof *outer);
    lcr_setmetatable(L, LCR_C_FUTURE);
    cr_future_init(&outer->core, &loop->core);
    outer->loop = loop;
    outer->is_gather = 1;
    outer->serial = ++loop->gather_serial;
    if (outer->serial == 0) /* 0 marks "never gathered" */
        outer->serial = ++loop->gather_serial;
    outer->return_exceptions = (uint8_t)return_exceptions;
    outer->nitems = n;
    outer->ref = LUA_NOREF;
    outer->core.custom_cancel = 1;
    loop->core.cancel_hook = gather_cancel;
    int oidx = lua_gettop(L);
    lcr_push_loop(L, loop);
    lua_setiuservalue(L, oidx, FUV_LOOP);
    lgather_link *links = gather_links(outer);
    /* Check every item before spawning or linking anything, noting the
     * core future of each Task or Future (NULL: a function to spawn). */
    cr_future **items = gather_items(outer);
    for (int i = 0; i < n; i++) {
        PUSH_ITEM(i);
        int type = lua_type(L, -1);
        items[i] = type == LUA_TFUNCTION || type == LUA_TTHREAD ? NULL : lcr_loop_to_awaitable(L, loop, -1);
        int ok = items[i] != NULL || type == LUA_TFUNCTION || type == LUA_TTHREAD;
        lua_pop(L, 1);
        if (ok)
            continue;
        if (list_form) {
            PUSH_ITEM(i);
            return luaL_error(L, "bad argument #1 to 'gather' (item #%d: task, future, function or coroutine expected, got %s)",
                              i + 1, luaL_typename(L, -1));
        }
        return luaL_typeerror(L, i + 1, "task, future, function or coroutine");
    }
    lua_createtable(L, n, 0); /* item index -> child */
    int kidx = lua_gettop(L);
    int pending = 0;
    for (int i = 0; i < n; i++) {
        PUSH_ITEM(i);
        cr_future *child = items[i];
        if (child == NULL) {
            ltask *spawned = lcr_spawn(L, loop, -1, 0);
            child = &spawned->core.fut;
            lua_remove(L, -2);
            items[i] = child;
        }
        lua_rawseti(L, kidx, i + 1);
        uint32_t *mark = gather_mark_of(child);
        if (*mark == outer->serial)
            continue; /* the same child twice: awaited once */
        *mark = outer->serial;
        lgather_link *link = &links[outer->nchildren++];
        cr_handle_init(&link->handle, gather_link_run);
        link->outer = outer;
        link->child = child;
        link->item = i + 1;
        if (!cr_future_done(child)) {
            cr_future_add_callback(child, &link->handle);
            pending++;
        }
    }
    lua_pushvalue(L, kidx);
    lua_setiuservalue(L, oidx, FUV_CHILDREN);
    if (pending > 0)
        outer->ref = lcr_ref(L, loop, oidx);
    /* Children already done are accounted for now (asyncio 3.12+): if all
     * are, the gather completes without suspending. */
    for (int i = 0; i < outer->nchildren; i++) {
        lgather_link *link = &links[i];
        if (link->handle.where != CR_IN_NOTHING)
            continue;
        lua_rawgeti(L, kidx, link->item);
        child_done(L, outer, oidx, link->child, lua_gettop(L));
        lua_pop(L, 1);
    }
    lua_settop(L, oidx);
    if (n == 0) {
        lua_createtable(L, 0, 1);
        lua_pushinteger(L, 0);
        lua_setfield(L, -2, "n");
        return 1;
    }
    cr_op_await(&self->core, &outer->core);
    static const lcr_blocker blocker = {"gather", push_gathered};
    return lcr_block(L, self, &blocker);
#undef PUSH_ITEM
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
