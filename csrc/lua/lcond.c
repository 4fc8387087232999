/*
 * lcond.c - corral.Condition([lock]).  Uservalue 1 holds its Lock.
 */
#include "lcorral.h"

cr_lock *lcr_lock_new(lua_State *L);
cr_lock *lcr_to_lock(lua_State *L, int idx);
int lcr_lock_acquire(lua_State *L, cr_lock *lock, const char *fname, int of_condition);
void lcr_lock_extra(char *buf, size_t size, const cr_lock *lock, size_t waiters);

typedef struct lcond {
    cr_cond core;
} lcond;

static lcond *check_cond(lua_State *L, int idx) {
    return lcr_checkudata(L, idx, LCR_C_CONDITION, LCR_CONDITION);
}

static int cond_new(lua_State *L) {
    cr_lock *lock;
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lock = lcr_lock_new(L);
    } else {
        lock = lcr_to_lock(L, 1);
        if (lock == NULL)
            return luaL_typeerror(L, 1, "corral.Lock");
        lua_settop(L, 1);
    }
    lcond *cond = lua_newuserdatauv(L, sizeof *cond, 1);
    cr_cond_init(&cond->core, lock);
    lcr_setmetatable(L, LCR_C_CONDITION);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static int cond_acquire(lua_State *L) {
    lcond *cond = check_cond(L, 1);
    return lcr_lock_acquire(L, cond->core.lock, "condition:acquire", 1);
}

static int cond_release(lua_State *L) {
    lcond *cond = check_cond(L, 1);
    if (cr_lock_release(cond->core.lock) != CR_OK)
        return luaL_error(L, "Lock is not acquired.");
    return 0;
}

static int cond_locked(lua_State *L) {
    lua_pushboolean(L, check_cond(L, 1)->core.lock->locked);
    return 1;
}

static int cond_with(lua_State *L) {
    check_cond(L, 1);
    return lcr_with(L);
}

static int cond_wait(lua_State *L) {
    lcond *cond = check_cond(L, 1);
    ltask *self = lcr_need_task(L, "condition:wait");
    if (cr_op_cond_wait(&self->core, &cond->core) != CR_OK)
        return luaL_error(L, "cannot wait on un-acquired lock");
    static const lcr_blocker blocker = {"Condition", lcr_push_true};
    return lcr_block(L, self, &blocker);
}

/* wait_for(predicate): call it; while false, wait() and call again. */
static int wait_for_after_pred(lua_State *L, int status, lua_KContext ctx);

static int wait_for_call(lua_State *L, lua_KContext ctx) {
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    lua_callk(L, 0, 1, ctx, wait_for_after_pred);
    return wait_for_after_pred(L, LUA_OK, ctx);
}

static int wait_for_after_wait(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    ltask *self = (ltask *)ctx;
    int rc = lcr_op_wait(L, self, wait_for_after_wait);
    self->blocker = NULL;
    if (rc != CR_OK)
        return lcr_raise_code(L, self, rc);
    return wait_for_call(L, ctx);
}

static int wait_for_after_pred(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    if (lua_toboolean(L, -1))
        return 1;
    ltask *self = (ltask *)ctx;
    lcond *cond = check_cond(L, 1);
    lua_settop(L, 2);
    if (cr_op_cond_wait(&self->core, &cond->core) != CR_OK)
        return luaL_error(L, "cannot wait on un-acquired lock");
    static const lcr_blocker blocker = {"Condition", NULL};
    self->blocker = &blocker;
    return wait_for_after_wait(L, LUA_OK, ctx);
}

static int cond_wait_for(lua_State *L) {
    check_cond(L, 1);
    luaL_checkany(L, 2);
    ltask *self = lcr_need_task(L, "condition:wait_for");
    return wait_for_call(L, (lua_KContext)self);
}

static int cond_notify(lua_State *L) {
    lcond *cond = check_cond(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 1);
    if (cr_cond_notify(&cond->core, n < 0 ? 0 : (size_t)n) != CR_OK)
        return luaL_error(L, "cannot notify on un-acquired lock");
    return 0;
}

static int cond_notify_all(lua_State *L) {
    lcond *cond = check_cond(L, 1);
    if (cr_cond_notify(&cond->core, cond->core.waiters.n) != CR_OK)
        return luaL_error(L, "cannot notify on un-acquired lock");
    return 0;
}

static int cond_tostring(lua_State *L) {
    lcond *cond = check_cond(L, 1);
    char extra[64];
    lcr_lock_extra(extra, sizeof extra, cond->core.lock, cond->core.waiters.n);
    lcr_repr(L, "Condition", cond, extra);
    return 1;
}

void lcr_cond_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"acquire", cond_acquire},
        {"release", cond_release},
        {"locked", cond_locked},
        {"with", cond_with},
        {"wait", cond_wait},
        {"wait_for", cond_wait_for},
        {"notify", cond_notify},
        {"notify_all", cond_notify_all},
        {NULL, NULL},
    };
    static const luaL_Reg metamethods[] = {
        {"__tostring", cond_tostring},
        {"__close", cond_release},
        {NULL, NULL},
    };
    lcr_new_class_fast(L, LCR_C_CONDITION, LCR_CONDITION, methods, metamethods);
    lua_pushcfunction(L, cond_new);
    lua_setfield(L, -2, "Condition");
}
