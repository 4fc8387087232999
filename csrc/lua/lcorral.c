/*
 * lcorral.c - luaopen_corral: the module table and its functions
 * (run, spawn, sleep, gather, current_task, all_tasks, now, is_error).
 */
#include <math.h>
#include <string.h>

#include "../include/corral.h"
#include "lcorral.h"

static const char class_keys[LCR_C_COUNT]; /* addresses are the keys */

void lcr_new_class_fast(lua_State *L, int cls, const char *name, const luaL_Reg *methods,
                        const luaL_Reg *metamethods) {
    luaL_newmetatable(L, name);
    luaL_setfuncs(L, metamethods, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &class_keys[cls]);
}

void lcr_new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                   const luaL_Reg *metamethods) {
    lcr_new_class_fast(L, LCR_C_OTHER, name, methods, metamethods);
}

const void *lcr_class_key(int cls) {
    return &class_keys[cls];
}

void *lcr_testudata(lua_State *L, int idx, int cls) {
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx))
        return NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &class_keys[cls]);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? p : NULL;
}

void *lcr_testudata_range(lua_State *L, int idx, int first, int n) {
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx))
        return NULL;
    for (int i = 0; i < n; i++) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &class_keys[first + i]);
        int same = lua_rawequal(L, -1, -2);
        lua_pop(L, 1);
        if (same) {
            lua_pop(L, 1);
            return p;
        }
    }
    lua_pop(L, 1);
    return NULL;
}

void *lcr_checkudata(lua_State *L, int idx, int cls, const char *name) {
    void *p = lcr_testudata(L, idx, cls);
    if (p == NULL)
        luaL_typeerror(L, idx, name);
    return p;
}

void lcr_setmetatable(lua_State *L, int cls) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &class_keys[cls]);
    lua_setmetatable(L, -2);
}

void lcr_repr(lua_State *L, const char *cls, const void *ptr, const char *extra) {
    lua_pushfstring(L, "<corral.%s %p [%s]>", cls, ptr, extra);
}

extern const char corral_std_lua[];
extern const unsigned long corral_std_lua_len;

/* ---- with(fn, ...): acquire, call, release even on error ---- */

static int with_after_call(lua_State *L, int status, lua_KContext ctx) {
    (void)ctx;
    int ok = status == LUA_OK || status == LUA_YIELD;
    lua_getfield(L, 1, "release");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 0);
    if (!ok)
        return lua_error(L);
    return lua_gettop(L) - 1;
}

static int with_after_acquire(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    int nargs = (int)ctx;
    lua_settop(L, 2 + nargs);
    return with_after_call(L, lua_pcallk(L, nargs, LUA_MULTRET, 0, ctx, with_after_call), ctx);
}

int lcr_with(lua_State *L) {
    luaL_checktype(L, 2, LUA_TFUNCTION);
    int nargs = lua_gettop(L) - 2;
    lua_getfield(L, 1, "acquire");
    lua_pushvalue(L, 1);
    lua_callk(L, 1, LUA_MULTRET, nargs, with_after_acquire);
    return with_after_acquire(L, LUA_OK, nargs);
}

/* ---- module functions ---- */

static lloop *need_loop(lua_State *L, const char *fname) {
    lloop *loop = lcr_running_loop(L);
    if (loop == NULL)
        luaL_error(L, "%s: no running loop", fname);
    return loop;
}

static int corral_run(lua_State *L) {
    if (lcr_running_loop(L) != NULL)
        return luaL_error(L, "corral.run: cannot be called from a running loop");
    int type = lua_type(L, 1);
    if (type != LUA_TFUNCTION && type != LUA_TTHREAD)
        return luaL_typeerror(L, 1, "function or coroutine");
    lua_settop(L, 2);
    lloop *loop = lcr_loop_new(L, lcr_opt_clock(L, 2, "corral.run"));
    int lidx = lua_gettop(L);
    lcr_loop_options(L, loop, 2);
    ltask *task = lcr_spawn(L, loop, 1, 0);
    int tidx = lua_gettop(L);
    if (!lua_isnil(L, 2)) {
        lua_getfield(L, 2, "name");
        if (!lua_isnil(L, -1)) {
            luaL_tolstring(L, -1, NULL);
            lcr_task_set_info(L, tidx, "name");
            /* A named task takes no number: the next one is Task-1. */
            loop->core.task_counter--;
        }
        lua_pop(L, 1);
    }
    int ok = lcr_run_until_complete(L, loop, lidx, tidx, "corral.run");
    task->retrieved = 1; /* main's error is handed to run's caller */
    lcr_loop_close(L, loop, lidx);
    if (!ok) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, loop->refs);
        return lcr_error_raise(L, "DeadlockError", "no task can make progress");
    }
    lua_settop(L, tidx);
    return lcr_task_push_results(L, task, tidx, 0);
}

static const lcr_blocker sleep_blocker = {"sleep", lcr_push_none};

/* sleep(0) resumes here: only a thrown cancellation can stop it. */
static int sleep0_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    ltask *self = (ltask *)ctx;
    self->blocker = NULL;
    if (self->core.cancel_thrown)
        return lcr_raise_code(L, self, CR_ECANCELLED);
    return 0;
}

static int corral_sleep(lua_State *L) {
    lua_Number seconds = luaL_checknumber(L, 1);
    if (isnan(seconds))
        return luaL_argerror(L, 1, "number expected, got NaN");
    ltask *self = lcr_need_task(L, "corral.sleep");
    if (!(seconds > 0)) {
        /* The fast path of the commonest switch: a bare yield of exactly
         * one iteration (the same as cr_op_sleep's phase 0, without the op). */
        self->blocker = &sleep_blocker;
        cr_task_block_on(&self->core, NULL);
        lua_pushlightuserdata(L, lcr_sentinel());
        return lua_yieldk(L, 1, (lua_KContext)self, sleep0_k);
    }
    cr_op_sleep(&self->core, seconds);
    return lcr_block(L, self, &sleep_blocker);
}

static int corral_spawn(lua_State *L) {
    lloop *loop = need_loop(L, "corral.spawn");
    lcr_spawn(L, loop, 1, lua_gettop(L) - 1);
    return 1;
}

static int corral_current_task(lua_State *L) {
    lloop *loop = lcr_running_loop(L);
    if (loop == NULL || loop->core.current == NULL) {
        lua_pushnil(L);
        return 1;
    }
    lcr_push_pending_task(L, (ltask *)loop->core.current);
    return 1;
}

static int corral_all_tasks(lua_State *L) {
    lloop *loop = need_loop(L, "corral.all_tasks");
    lua_createtable(L, (int)loop->core.ntasks, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, loop->anchors);
    lua_Integer i = 0;
    cr_link *node;
    cr_list_for_each(node, &loop->core.tasks) {
        ltask *task = (ltask *)cr_container_of(node, cr_task, tasks_link);
        lua_rawgeti(L, -1, task->slot);
        lua_rawseti(L, -3, ++i);
    }
    lua_pop(L, 1);
    return 1;
}

static int corral_now(lua_State *L) {
    lloop *loop = need_loop(L, "corral.now");
    lua_pushnumber(L, cr_loop_time(&loop->core));
    return 1;
}

static int corral_is_error(lua_State *L) {
    const char *type = luaL_optstring(L, 2, NULL);
    lua_pushboolean(L, lcr_is_error(L, 1, type));
    return 1;
}

LUAMOD_API int luaopen_corral(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"run", corral_run},
        {"sleep", corral_sleep},
        {"spawn", corral_spawn},
        {"gather", lcr_gather},
        {"current_task", corral_current_task},
        {"all_tasks", corral_all_tasks},
        {"now", corral_now},
        {"is_error", corral_is_error},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    lcr_error_open(L);
    luaL_getmetatable(L, LCR_ERROR);
    lua_setfield(L, -2, "Error");
    lcr_loop_open(L);
    lcr_task_open(L);
    lcr_future_open(L);
    lcr_lock_open(L);
    lcr_event_open(L);
    lcr_cond_open(L);
    lcr_sema_open(L);
    lcr_barrier_open(L);
    lcr_queue_open(L);
    lcr_handle_open(L);
    lcr_coro_open(L);
    lua_pushliteral(L, CORRAL_VERSION);
    lua_setfield(L, -2, "_VERSION");
    /* The parts written in Lua (lua/corral/std.lua, compiled in). */
    if (luaL_loadbuffer(L, corral_std_lua, corral_std_lua_len, "=corral/std.lua") != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, -2);
    lua_call(L, 1, 0);
    return 1;
}

const char *corral_strerror(int code) {
    switch (code) {
    case CORRAL_OK:
        return "success";
    case CORRAL_ENOMEM:
        return "not enough memory";
    case CORRAL_EINVAL:
        return "invalid argument";
    case CORRAL_ERUN:
        return "Lua error (the error object is on the stack)";
    case CORRAL_ECLOSED:
        return "the loop is closed";
    default:
        return "unknown error";
    }
}
