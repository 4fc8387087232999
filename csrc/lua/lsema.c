/*
 * lsema.c - corral.Semaphore and corral.BoundedSemaphore.
 */
#include <stdio.h>

#include "lcorral.h"

typedef struct lsema {
    cr_sema core;
} lsema;

static lsema *check_sema(lua_State *L, int idx) {
    lsema *sema = lcr_testudata(L, idx, LCR_C_SEMAPHORE);
    if (sema == NULL)
        sema = lcr_testudata(L, idx, LCR_C_BSEMAPHORE);
    if (sema == NULL)
        luaL_typeerror(L, idx, LCR_SEMAPHORE);
    return sema;
}

static int sema_create(lua_State *L, const char *cls, const char *name, int bounded) {
    lua_Integer value = 1;
    if (!lua_isnoneornil(L, 1)) {
        int isnum;
        value = lua_tointegerx(L, 1, &isnum);
        if (!isnum)
            return luaL_error(L, "bad argument #1 to '%s' (integer expected, got %s)", name,
                              luaL_typename(L, 1));
    }
    if (value < 0)
        return luaL_error(L, "bad argument #1 to '%s' (initial value must be >= 0)", name);
    lsema *sema = lua_newuserdatauv(L, sizeof *sema, 0);
    cr_sema_init(&sema->core, (long)value, bounded);
    luaL_setmetatable(L, cls);
    return 1;
}

static int sema_new(lua_State *L) {
    return sema_create(L, LCR_SEMAPHORE, "Semaphore", 0);
}

static int bsema_new(lua_State *L) {
    return sema_create(L, LCR_BSEMAPHORE, "BoundedSemaphore", 1);
}

static int sema_acquire(lua_State *L) {
    lsema *sema = check_sema(L, 1);
    ltask *self = lcr_need_task(L, "semaphore:acquire");
    cr_op_sema_acquire(&self->core, &sema->core);
    static const lcr_blocker blocker = {"Semaphore", lcr_push_self};
    return lcr_block(L, self, &blocker);
}

static int sema_release(lua_State *L) {
    lsema *sema = check_sema(L, 1);
    if (cr_sema_release(&sema->core) != CR_OK)
        return luaL_error(L, "BoundedSemaphore released too many times");
    return 0;
}

static int sema_locked(lua_State *L) {
    lua_pushboolean(L, cr_sema_locked(&check_sema(L, 1)->core));
    return 1;
}

static int sema_with(lua_State *L) {
    check_sema(L, 1);
    return lcr_with(L);
}

static int sema_tostring(lua_State *L) {
    lsema *sema = check_sema(L, 1);
    char extra[96];
    int n;
    if (cr_sema_locked(&sema->core))
        n = snprintf(extra, sizeof extra, "locked");
    else
        n = snprintf(extra, sizeof extra, "unlocked, value:%ld", sema->core.value);
    if (sema->core.waiters.n)
        snprintf(extra + n, sizeof extra - (size_t)n, ", waiters:%zu", sema->core.waiters.n);
    lcr_repr(L, sema->core.bound >= 0 ? "BoundedSemaphore" : "Semaphore", sema, extra);
    return 1;
}

void lcr_sema_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"acquire", sema_acquire},
        {"release", sema_release},
        {"locked", sema_locked},
        {"with", sema_with},
        {NULL, NULL},
    };
    static const luaL_Reg metamethods[] = {
        {"__tostring", sema_tostring},
        {"__close", sema_release},
        {NULL, NULL},
    };
    lcr_new_class_fast(L, LCR_C_SEMAPHORE, LCR_SEMAPHORE, methods, metamethods);
    lcr_new_class_fast(L, LCR_C_BSEMAPHORE, LCR_BSEMAPHORE, methods, metamethods);
    lua_pushcfunction(L, sema_new);
    lua_setfield(L, -2, "Semaphore");
    lua_pushcfunction(L, bsema_new);
    lua_setfield(L, -2, "BoundedSemaphore");
}
