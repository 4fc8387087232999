/*
 * lbarrier.c - corral.Barrier(parties).
 */
#include <stdio.h>

#include "lcorral.h"

typedef struct lbarrier {
    cr_barrier core;
} lbarrier;

static lbarrier *check_barrier(lua_State *L, int idx) {
    return lcr_checkudata(L, idx, LCR_C_BARRIER, LCR_BARRIER);
}

static int barrier_new(lua_State *L) {
    int isnum;
    lua_Integer parties = lua_tointegerx(L, 1, &isnum);
    if (!isnum)
        return luaL_error(L, "bad argument #1 to 'Barrier' (integer expected, got %s)",
                          luaL_typename(L, 1));
    if (parties < 1)
        return luaL_error(L, "bad argument #1 to 'Barrier' (parties must be > 0)");
    lbarrier *barrier = lua_newuserdatauv(L, sizeof *barrier, 0);
    cr_barrier_init(&barrier->core, (long)parties);
    lcr_setmetatable(L, LCR_C_BARRIER);
    return 1;
}

/* wait() returns the caller's arrival index, 1-based. */
static int push_index(lua_State *L, ltask *self) {
    lua_pushinteger(L, (lua_Integer)self->core.op.value + 1);
    return 1;
}

static const lcr_blocker wait_blocker = {"Barrier", push_index};
static const lcr_blocker change_blocker = {"Barrier", lcr_push_none};

static int barrier_wait(lua_State *L) {
    lbarrier *barrier = check_barrier(L, 1);
    ltask *self = lcr_need_task(L, "barrier:wait");
    cr_op_barrier_wait(&self->core, &barrier->core);
    return lcr_block(L, self, &wait_blocker);
}

static int barrier_reset(lua_State *L) {
    lbarrier *barrier = check_barrier(L, 1);
    ltask *self = lcr_need_task(L, "barrier:reset");
    cr_op_barrier_reset(&self->core, &barrier->core);
    return lcr_block(L, self, &change_blocker);
}

static int barrier_abort(lua_State *L) {
    lbarrier *barrier = check_barrier(L, 1);
    ltask *self = lcr_need_task(L, "barrier:abort");
    cr_op_barrier_abort(&self->core, &barrier->core);
    return lcr_block(L, self, &change_blocker);
}

static int barrier_parties(lua_State *L) {
    lua_pushinteger(L, check_barrier(L, 1)->core.parties);
    return 1;
}

static int barrier_n_waiting(lua_State *L) {
    lua_pushinteger(L, cr_barrier_n_waiting(&check_barrier(L, 1)->core));
    return 1;
}

static int barrier_broken(lua_State *L) {
    lua_pushboolean(L, check_barrier(L, 1)->core.state == CR_BARRIER_BROKEN);
    return 1;
}

static int barrier_tostring(lua_State *L) {
    lbarrier *barrier = check_barrier(L, 1);
    static const char *const states[] = {"filling", "draining", "resetting", "broken"};
    char extra[96];
    const cr_barrier *b = &barrier->core;
    if (b->state == CR_BARRIER_BROKEN)
        snprintf(extra, sizeof extra, "broken");
    else
        snprintf(extra, sizeof extra, "%s, waiters:%ld/%ld", states[b->state],
                 cr_barrier_n_waiting(b), b->parties);
    lcr_repr(L, "Barrier", barrier, extra);
    return 1;
}

void lcr_barrier_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"wait", barrier_wait},
        {"reset", barrier_reset},
        {"abort", barrier_abort},
        {"parties", barrier_parties},
        {"n_waiting", barrier_n_waiting},
        {"broken", barrier_broken},
        {NULL, NULL},
    };
    static const luaL_Reg metamethods[] = {
        {"__tostring", barrier_tostring},
        {NULL, NULL},
    };
    lcr_new_class_fast(L, LCR_C_BARRIER, LCR_BARRIER, methods, metamethods);
    lua_pushcfunction(L, barrier_new);
    lua_setfield(L, -2, "Barrier");
}
