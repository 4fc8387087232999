/*
 * lerror.c - error tables: {type = "...", message = "..."} with the
 * corral.Error metatable; tostring gives "Type: message" (just "Type"
 * when the message is empty).
 */
#include <string.h>

#include "lcorral.h"

void lcr_error_push(lua_State *L, const char *type, const char *message) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, type);
    lua_setfield(L, -2, "type");
    lua_pushstring(L, message ? message : "");
    lua_setfield(L, -2, "message");
    luaL_setmetatable(L, LCR_ERROR);
}

int lcr_error_raise(lua_State *L, const char *type, const char *message) {
    lcr_error_push(L, type, message);
    return lua_error(L);
}

/* 1 if the value at idx is a corral error table (of `type`, if given). */
int lcr_is_error(lua_State *L, int idx, const char *type) {
    if (!lua_istable(L, idx) || !lua_getmetatable(L, idx))
        return 0;
    luaL_getmetatable(L, LCR_ERROR);
    int is = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!is || type == NULL)
        return is;
    lua_getfield(L, idx, "type");
    const char *t = lua_tostring(L, -1);
    is = t != NULL && strcmp(t, type) == 0;
    lua_pop(L, 1);
    return is;
}

static int error_tostring(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "type");
    lua_getfield(L, 1, "message");
    const char *type = luaL_optstring(L, -2, "Error");
    const char *message = lua_tostring(L, -1);
    if (message == NULL || *message == '\0')
        lua_pushstring(L, type);
    else
        lua_pushfstring(L, "%s: %s", type, message);
    return 1;
}

void lcr_error_open(lua_State *L) {
    luaL_newmetatable(L, LCR_ERROR);
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}

/* Raise the error a core result code stands for. */
int lcr_raise_code(lua_State *L, ltask *task, int rc) {
    switch (rc) {
    case CR_ECANCELLED:
        if (task != NULL && task->deadlock) {
            task->deadlock = 0;
            lua_rawgeti(L, LUA_REGISTRYINDEX, ltask_loop(task)->refs);
            lua_getfield(L, -1, "deadlock_message");
            const char *msg = lua_tostring(L, -1);
            return lcr_error_raise(L, "DeadlockError", msg ? msg : "");
        }
        if (task != NULL) {
            /* A thrown cancellation carries the task's cancel() message;
             * a cancelled future the message it was cancelled with. */
            const cr_task *t = &task->core;
            const void *msg = cr_task_cancel_msg(t);
            task->core.op.has_msg = 0;
            return lcr_error_raise(L, "CancelledError", msg);
        }
        return lcr_error_raise(L, "CancelledError", NULL);
    case CR_EBROKEN:
        return lcr_error_raise(L, "BrokenBarrierError", "Barrier aborted");
    case CR_ERESET:
        return lcr_error_raise(L, "BrokenBarrierError", "Abort or reset of barrier");
    case CR_ENOMEM:
        return luaL_error(L, "not enough memory");
    default:
        return luaL_error(L, "corral: internal error %d", rc);
    }
}

int lcr_cancel_with_msg(lua_State *L, lloop *loop, cr_future *future, int msg_idx) {
    const char *msg = NULL;
    if (msg_idx != 0 && !lua_isnoneornil(L, msg_idx)) {
        msg = luaL_checkstring(L, msg_idx);
        /* Anchor the message for the loop's lifetime (refs[msg] = true). */
        lua_rawgeti(L, LUA_REGISTRYINDEX, loop->refs);
        if (lua_istable(L, -1)) {
            lua_pushvalue(L, msg_idx);
            lua_pushboolean(L, 1);
            lua_rawset(L, -3);
        } else {
            msg = NULL;
        }
        lua_pop(L, 1);
    }
    const void *saved = loop->core.cancel_msg;
    loop->core.cancel_msg = msg;
    int r = cr_future_cancel(future);
    loop->core.cancel_msg = saved;
    return r;
}

int lcr_limit_error(lua_State *L, const char *limit) {
    lua_pushfstring(L, "%s limit exceeded", limit);
    lcr_error_push(L, "LimitError", lua_tostring(L, -1));
    lua_pushstring(L, limit);
    lua_setfield(L, -2, "limit");
    return lua_error(L);
}
