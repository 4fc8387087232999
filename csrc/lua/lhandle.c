/*
 * lhandle.c - corral.call_soon / call_later / call_at and their Handles.
 *
 * A Handle embeds its core handle; while scheduled it is anchored in the
 * loop's refs table.  Callbacks run in loop context (no current task), so
 * blocking calls inside them raise "no running task".  An error in a
 * callback is reported on stderr and the loop goes on, as asyncio's
 * default exception handler does.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lcorral.h"

typedef struct lhandle {
    cr_handle core;          /* the core handle */
    lloop *loop;             /* the loop it is scheduled on */
    int self_ref;            /* ref anchoring the Handle while scheduled */
    int nargs;               /* arguments stored after the function */
    uint8_t cancelled;       /* cancel() was called */
    uint8_t timer;           /* a TimerHandle (call_later / call_at) */
} lhandle;

static lhandle *check_handle(lua_State *L, int idx) {
    return lcr_checkudata(L, idx, LCR_C_HANDLE, LCR_HANDLE);
}

static int handle_traceback(lua_State *L) {
    if (lua_type(L, 1) == LUA_TSTRING)
        luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
}

static void handle_run(cr_loop *core, cr_handle *ch) {
    lhandle *h = cr_container_of(ch, lhandle, core);
    lloop *loop = core->userdata;
    lua_State *L = loop->L;
    luaL_checkstack(L, h->nargs + 4, "corral callback");
    lcr_push_ref(L, loop, h->self_ref);
    int hidx = lua_gettop(L);
    lcr_unref(L, loop, h->self_ref);
    h->self_ref = LUA_NOREF;
    lua_pushcfunction(L, handle_traceback);
    lua_getiuservalue(L, hidx, 1);
    int tidx = lua_gettop(L);
    for (int i = 1; i <= h->nargs + 1; i++)
        lua_rawgeti(L, tidx, i);
    lua_remove(L, tidx);
    if (lua_pcall(L, h->nargs, 0, hidx + 1) != LUA_OK) {
        fprintf(stderr, "Exception in callback: %s\n", luaL_tolstring(L, -1, NULL));
        fflush(stderr);
        lua_pop(L, 2);
    }
    lua_settop(L, hidx - 1);
}

/* Create a Handle for fn at `fidx` with the arguments after it. */
static lhandle *handle_new(lua_State *L, lloop *loop, int fidx) {
    luaL_checktype(L, fidx, LUA_TFUNCTION);
    int top = lua_gettop(L);
    int nargs = top - fidx;
    if (loop->closed)
        luaL_error(L, "the loop is closed");
    lhandle *h = lua_newuserdatauv(L, sizeof *h, 2);
    memset(h, 0, sizeof *h);
    cr_handle_init(&h->core, handle_run);
    h->loop = loop;
    h->nargs = nargs;
    lcr_setmetatable(L, LCR_C_HANDLE);
    lua_createtable(L, nargs + 1, 0);
    for (int i = 0; i <= nargs; i++) {
        lua_pushvalue(L, fidx + i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setiuservalue(L, -2, 1);
    lcr_push_loop(L, loop); /* the loop outlives its handles */
    lua_setiuservalue(L, -2, 2);
    h->self_ref = lcr_ref(L, loop, -1);
    return h;
}

static lloop *need_loop(lua_State *L, const char *fname) {
    lloop *loop = lcr_running_loop(L);
    if (loop == NULL)
        luaL_error(L, "%s: no running loop", fname);
    return loop;
}

static double check_time(lua_State *L, int idx) {
    lua_Number t = luaL_checknumber(L, idx);
    if (isnan(t))
        luaL_argerror(L, idx, "number expected, got NaN");
    return t;
}

static int corral_call_soon(lua_State *L) {
    lloop *loop = need_loop(L, "corral.call_soon");
    lhandle *h = handle_new(L, loop, 1);
    cr_loop_call_soon(&loop->core, &h->core);
    return 1;
}

static int schedule_at(lua_State *L, lloop *loop, double when, int fidx) {
    lhandle *h = handle_new(L, loop, fidx);
    h->timer = 1;
    if (cr_loop_call_at(&loop->core, &h->core, when) != CR_OK)
        return luaL_error(L, "not enough memory");
    return 1;
}

static int corral_call_later(lua_State *L) {
    lloop *loop = need_loop(L, "corral.call_later");
    double delay = check_time(L, 1);
    return schedule_at(L, loop, cr_loop_time(&loop->core) + delay, 2);
}

static int corral_call_at(lua_State *L) {
    lloop *loop = need_loop(L, "corral.call_at");
    double when = check_time(L, 1);
    return schedule_at(L, loop, when, 2);
}

static int handle_cancel(lua_State *L) {
    lhandle *h = check_handle(L, 1);
    if (!h->cancelled) {
        h->cancelled = 1;
        h->core.cancelled = 1;
        if (h->self_ref != LUA_NOREF && !h->loop->closed) {
            cr_handle_detach(&h->loop->core, &h->core);
            lcr_unref(L, h->loop, h->self_ref);
            h->self_ref = LUA_NOREF;
        }
    }
    return 0;
}

static int handle_cancelled(lua_State *L) {
    lua_pushboolean(L, check_handle(L, 1)->cancelled);
    return 1;
}

static int handle_when(lua_State *L) {
    lhandle *h = check_handle(L, 1);
    if (!h->timer)
        return luaL_error(L, "handle:when: not a timer handle");
    lua_pushnumber(L, h->core.when);
    return 1;
}

static int handle_tostring(lua_State *L) {
    lhandle *h = check_handle(L, 1);
    lua_pushfstring(L, "<corral.%s %p%s>", h->timer ? "TimerHandle" : "Handle", (void *)h,
                    h->cancelled ? " cancelled" : "");
    return 1;
}

static int handle_gc(lua_State *L) {
    lhandle *h = check_handle(L, 1);
    /* Only reachable when not scheduled, or when its loop is gone. */
    if (h->self_ref == LUA_NOREF || h->loop->closed)
        return 0;
    cr_handle_detach(&h->loop->core, &h->core);
    return 0;
}

void lcr_handle_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"cancel", handle_cancel},
        {"cancelled", handle_cancelled},
        {"when", handle_when},
        {NULL, NULL},
    };
    static const luaL_Reg metamethods[] = {
        {"__tostring", handle_tostring},
        {"__gc", handle_gc},
        {NULL, NULL},
    };
    lcr_new_class_fast(L, LCR_C_HANDLE, LCR_HANDLE, methods, metamethods);
    lua_pushcfunction(L, corral_call_soon);
    lua_setfield(L, -2, "call_soon");
    lua_pushcfunction(L, corral_call_later);
    lua_setfield(L, -2, "call_later");
    lua_pushcfunction(L, corral_call_at);
    lua_setfield(L, -2, "call_at");
}
