/*
 * levent.c - corral.Event.
 */
#include <stdio.h>

#include "lcorral.h"

typedef struct levent {
    cr_event core;
} levent;

static levent *check_event(lua_State *L, int idx) {
    return lcr_checkudata(L, idx, LCR_C_EVENT, LCR_EVENT);
}

static int event_new(lua_State *L) {
    levent *event = lua_newuserdatauv(L, sizeof *event, 0);
    cr_event_init(&event->core);
    lcr_setmetatable(L, LCR_C_EVENT);
    return 1;
}

static int event_set(lua_State *L) {
    cr_event_set(&check_event(L, 1)->core);
    return 0;
}

static int event_clear(lua_State *L) {
    cr_event_clear(&check_event(L, 1)->core);
    return 0;
}

static int event_is_set(lua_State *L) {
    lua_pushboolean(L, check_event(L, 1)->core.is_set);
    return 1;
}

static int event_wait(lua_State *L) {
    levent *event = check_event(L, 1);
    ltask *self = lcr_need_task(L, "event:wait");
    cr_op_event_wait(&self->core, &event->core);
    static const lcr_blocker blocker = {"Event", lcr_push_true};
    return lcr_block(L, self, &blocker);
}

static int event_tostring(lua_State *L) {
    levent *event = check_event(L, 1);
    char extra[64];
    const char *state = event->core.is_set ? "set" : "unset";
    if (event->core.waiters.n)
        snprintf(extra, sizeof extra, "%s, waiters:%zu", state, event->core.waiters.n);
    else
        snprintf(extra, sizeof extra, "%s", state);
    lcr_repr(L, "Event", event, extra);
    return 1;
}

void lcr_event_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"set", event_set},
        {"clear", event_clear},
        {"is_set", event_is_set},
        {"wait", event_wait},
        {NULL, NULL},
    };
    static const luaL_Reg metamethods[] = {
        {"__tostring", event_tostring},
        {NULL, NULL},
    };
    lcr_new_class_fast(L, LCR_C_EVENT, LCR_EVENT, methods, metamethods);
    lua_pushcfunction(L, event_new);
    lua_setfield(L, -2, "Event");
}
