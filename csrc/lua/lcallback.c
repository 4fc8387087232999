/*
 * lcallback.c - values held for callbacks (a per-loop refs table), and
 * the callbacks queued on futures (done callbacks, run_until_complete's
 * stop) with their error reporting.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../include/corral.h"
#include "lcorral.h"

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

