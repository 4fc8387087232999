/*
 * llock.c - corral.Lock.
 */
#include <stdio.h>

#include "lcorral.h"

typedef struct llock {
    cr_lock core;
} llock;

static llock *check_lock(lua_State *L, int idx) {
    return lcr_checkudata(L, idx, LCR_C_LOCK, LCR_LOCK);
}

/* Also used by Condition for its underlying lock. */
cr_lock *lcr_lock_new(lua_State *L);
cr_lock *lcr_lock_new(lua_State *L) {
    llock *lock = lua_newuserdatauv(L, sizeof *lock, 0);
    cr_lock_init(&lock->core);
    lcr_setmetatable(L, LCR_C_LOCK);
    return &lock->core;
}

cr_lock *lcr_to_lock(lua_State *L, int idx);
cr_lock *lcr_to_lock(lua_State *L, int idx) {
    llock *lock = lcr_testudata(L, idx, LCR_C_LOCK);
    return lock ? &lock->core : NULL;
}

static int lock_new(lua_State *L) {
    lcr_lock_new(L);
    return 1;
}

/* acquire() for a Lock and for a Condition (self at 1, lock given). */
int lcr_lock_acquire(lua_State *L, cr_lock *lock, const char *fname, int of_condition);
int lcr_lock_acquire(lua_State *L, cr_lock *lock, const char *fname, int of_condition) {
    static const lcr_blocker on_lock = {"Lock", lcr_push_self};
    static const lcr_blocker on_condition = {"Condition (its lock)", lcr_push_self};
    ltask *self = lcr_need_task(L, fname);
    cr_op_lock_acquire(&self->core, lock);
    return lcr_block(L, self, of_condition ? &on_condition : &on_lock);
}

static int lock_acquire(lua_State *L) {
    llock *lock = check_lock(L, 1);
    return lcr_lock_acquire(L, &lock->core, "lock:acquire", 0);
}

static int lock_release(lua_State *L) {
    llock *lock = check_lock(L, 1);
    if (cr_lock_release(&lock->core) != CR_OK)
        return luaL_error(L, "Lock is not acquired.");
    return 0;
}

static int lock_locked(lua_State *L) {
    lua_pushboolean(L, check_lock(L, 1)->core.locked);
    return 1;
}

static int lock_with(lua_State *L) {
    check_lock(L, 1);
    return lcr_with(L);
}

void lcr_lock_extra(char *buf, size_t size, const cr_lock *lock, size_t waiters);
void lcr_lock_extra(char *buf, size_t size, const cr_lock *lock, size_t waiters) {
    if (waiters)
        snprintf(buf, size, "%s, waiters:%zu", lock->locked ? "locked" : "unlocked", waiters);
    else
        snprintf(buf, size, "%s", lock->locked ? "locked" : "unlocked");
}

static int lock_tostring(lua_State *L) {
    llock *lock = check_lock(L, 1);
    char extra[64];
    lcr_lock_extra(extra, sizeof extra, &lock->core, lock->core.waiters.n);
    lcr_repr(L, "Lock", lock, extra);
    return 1;
}

void lcr_lock_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"acquire", lock_acquire},
        {"release", lock_release},
        {"locked", lock_locked},
        {"with", lock_with},
        {NULL, NULL},
    };
    static const luaL_Reg metamethods[] = {
        {"__tostring", lock_tostring},
        {"__close", lock_release},
        {NULL, NULL},
    };
    lcr_new_class_fast(L, LCR_C_LOCK, LCR_LOCK, methods, metamethods);
    lua_pushcfunction(L, lock_new);
    lua_setfield(L, -2, "Lock");
}
