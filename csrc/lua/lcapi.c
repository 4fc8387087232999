/*
 * lcapi.c - the C API for hosts (corral.h): loops driven from C and
 * futures resolved from C.  Each handle holds a registry reference to its
 * Lua object; every call that runs Lua code runs it protected, so a Lua
 * error comes back as CORRAL_ERUN with the error object pushed.
 */
#include <math.h>
#include <stdlib.h>

#include "../include/corral.h"
#include "lcorral.h"

struct corral_loop {
    lua_State *L;   /* the state it lives in (main thread) */
    int ref;        /* registry ref of the Loop */
    lloop *loop;    /* the binding's loop */
};

struct corral_future {
    lua_State *L;       /* the state of its loop (main thread) */
    int ref;            /* registry ref of the Future */
};

/* Call method `name` of the Loop with the nargs values on top; nres
 * results.  Returns the lua_pcall status. */
static int call_method(corral_loop *loop, const char *name, int nargs, int nres) {
    lua_State *L = loop->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, loop->ref);
    lua_getfield(L, -1, name);
    lua_insert(L, -2 - nargs);
    lua_insert(L, -1 - nargs);
    return lua_pcall(L, nargs + 1, nres, 0);
}

static int new_loop_protected(lua_State *L) {
    const char *clock = lua_touserdata(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "corral");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "Loop");
    lua_createtable(L, 0, 1);
    if (clock != NULL) {
        lua_pushstring(L, clock);
        lua_setfield(L, -2, "clock");
    }
    lua_call(L, 1, 1);
    return 1;
}

corral_loop *corral_loop_new(lua_State *L, const char *clock) {
    corral_loop *loop = malloc(sizeof *loop);
    if (loop == NULL)
        return NULL;
    lua_pushcfunction(L, new_loop_protected);
    lua_pushlightuserdata(L, (void *)clock);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        free(loop);
        return NULL;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    loop->L = lua_tothread(L, -1);
    lua_pop(L, 1);
    loop->loop = lcr_check_loop(L, -1);
    loop->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return loop;
}

int corral_loop_spawn(corral_loop *loop, int nargs) {
    if (loop->loop->closed)
        return CORRAL_ECLOSED;
    return call_method(loop, "spawn", nargs + 1, 1) == LUA_OK ? CORRAL_OK : CORRAL_ERUN;
}

int corral_loop_run(corral_loop *loop, int mode) {
    lua_State *L = loop->L;
    lloop *l = loop->loop;
    if (l->closed)
        return CORRAL_ECLOSED;
    for (;;) {
        double timeout = 0;
        if (mode != CORRAL_RUN_NOWAIT) {
            double d = cr_loop_next_deadline(&l->core);
            if (d < 0) /* nothing scheduled: only the host can make progress */
                return (int)l->core.ntasks;
            timeout = d;
        }
        lua_pushnumber(L, isinf(timeout) ? 0 : timeout);
        if (call_method(loop, "step", 1, 1) != LUA_OK)
            return CORRAL_ERUN;
        lua_pop(L, 1);
        if (mode != CORRAL_RUN_DEFAULT || l->core.ntasks == 0)
            return (int)l->core.ntasks;
    }
}

int corral_loop_run_until_complete(corral_loop *loop) {
    lua_State *L = loop->L;
    if (loop->loop->closed)
        return CORRAL_ECLOSED;
    int base = lua_gettop(L) - 1;
    if (call_method(loop, "run_until_complete", 1, LUA_MULTRET) != LUA_OK)
        return CORRAL_ERUN;
    return lua_gettop(L) - base;
}

double corral_loop_next_deadline(corral_loop *loop) {
    if (loop->loop->closed)
        return -1;
    return cr_loop_next_deadline(&loop->loop->core);
}

void corral_loop_close(corral_loop *loop) {
    if (loop == NULL)
        return;
    lua_State *L = loop->L;
    if (call_method(loop, "close", 0, 0) != LUA_OK)
        lua_pop(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, loop->ref);
    free(loop);
}

static int new_future_protected(lua_State *L) {
    corral_future *future = lua_touserdata(L, 2);
    lcr_future_new(L, lua_touserdata(L, 1));
    lua_pushvalue(L, -1);
    future->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 1;
}

corral_future *corral_future_new(corral_loop *loop) {
    corral_future *future = malloc(sizeof *future);
    if (future == NULL || loop->loop->closed) {
        free(future);
        return NULL;
    }
    lua_State *L = loop->L;
    lua_pushcfunction(L, new_future_protected);
    lua_pushlightuserdata(L, loop->loop);
    lua_pushlightuserdata(L, future);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        free(future);
        return NULL;
    }
    future->L = L;
    return future;
}

void corral_future_push(corral_future *future) {
    lua_rawgeti(future->L, LUA_REGISTRYINDEX, future->ref);
}

static int settle(corral_future *future, const char *method, int nvalues) {
    lua_State *L = future->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, future->ref);
    lfuture *f = lcr_to_future(L, -1);
    if (f == NULL || cr_future_done(&f->core)) {
        lua_pop(L, 1 + nvalues);
        return CORRAL_EINVAL;
    }
    lua_getfield(L, -1, method);
    lua_insert(L, -2 - nvalues);
    lua_insert(L, -1 - nvalues);
    return lua_pcall(L, nvalues + 1, 0, 0) == LUA_OK ? CORRAL_OK : CORRAL_ERUN;
}

int corral_future_resolve(corral_future *future, int nvalues) {
    return settle(future, "set_result", nvalues);
}

int corral_future_fail(corral_future *future) {
    return settle(future, "set_exception", 1);
}

void corral_future_release(corral_future *future) {
    if (future == NULL)
        return;
    luaL_unref(future->L, LUA_REGISTRYINDEX, future->ref);
    free(future);
}
