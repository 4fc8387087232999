/*
 * lblock.c - blocking calls: finding the running loop and task, suspending
 * a task (a yield carrying corral's private sentinel) and resuming its op
 * in a continuation, and preemption from a count hook.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../include/corral.h"
#include "lcorral.h"

static char running_key;   /* registry: lightuserdata(lloop) while running */
static char sentinel;      /* first value of every corral yield */

/* The loop running on this OS thread (innermost), a cache of the registry
 * entry: trusted only when the caller is the thread of its current task,
 * which proves the caller belongs to that loop's Lua state. */
static _Thread_local lloop *tls_running;

lloop *lcr_running_loop(lua_State *L) {
    lloop *fast = tls_running;
    if (fast != NULL && fast->core.current != NULL && ((ltask *)fast->core.current)->co == L)
        return fast;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &running_key);
    lloop *loop = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return loop;
}

/* Set the running loop of L's state (NULL: none); returns the previous
 * one of this OS thread, for restore_running. */
lloop *lcr_set_running(lua_State *L, lloop *loop) {
    lloop *previous = tls_running;
    if (loop)
        lua_pushlightuserdata(L, loop);
    else
        lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &running_key);
    tls_running = loop;
    return previous;
}


lloop *lcr_same_state_loop(lua_State *L) {
    lloop *fast = tls_running;
    if (fast != NULL && fast->core.current != NULL && ((ltask *)fast->core.current)->co == L)
        return fast;
    return NULL;
}

void lcr_forget_running(lloop *loop) {
    if (tls_running == loop)
        tls_running = NULL;
}

int corral_preempt(lua_State *L) {
    lloop *loop = tls_running;
    if (loop == NULL || loop->core.current == NULL || !loop->preempt)
        return 0;
    ltask *task = (ltask *)loop->core.current;
    /* Only the task's own thread: a yield from a nested coroutine would go
     * to that coroutine's resumer. */
    if (task->co != L || !lua_isyieldable(L) || task->core.blocked)
        return 0;
    if (task->deliver_cancel) {
        /* cancelled while preempted: raise it where the task goes on */
        task->deliver_cancel = 0;
        lua_sethook(L, lua_gethook(L), lua_gethookmask(L), loop->hook_period);
        return lcr_raise_code(L, task, CR_ECANCELLED);
    }
    if (!task->hooked) { /* the first hook call of this step */
        task->hooked = 1;
        return 0;
    }
    task->preempted = 1;
    return lua_yield(L, 0);
}

/* A suspension of this task was swallowed on its way to the loop. */
static void lost_suspension(lua_State *L, ltask *task, const char *fname) {
    cr_task_unblock(&task->core);
    task->blocker = NULL;
    luaL_error(L, "%s: an earlier suspension of this task was lost: a coroutine was resumed by "
                  "something other than coroutine.resume or coroutine.wrap (which corral replaces)",
               fname);
}

ltask *lcr_need_task(lua_State *L, const char *fname) {
    lloop *fast = tls_running;
    ltask *task;
    if (fast != NULL && fast->core.current != NULL && ((ltask *)fast->core.current)->co == L
        && lua_isyieldable(L)) {
        task = (ltask *)fast->core.current;
    } else {
        lloop *loop = lcr_running_loop(L);
        if (loop == NULL || loop->core.current == NULL)
            luaL_error(L, "%s: no running task", fname);
        if (!lua_isyieldable(L))
            luaL_error(L, "%s: no running task (cannot suspend here: attempt to yield across a C-call boundary)",
                       fname);
        task = (ltask *)loop->core.current;
    }
    if (task->core.blocked)
        lost_suspension(L, task, fname);
    return task;
}

void *lcr_sentinel(void) {
    return &sentinel;
}

int lcr_yield_sentinel(lua_State *L) {
    return lua_touserdata(L, -1) == &sentinel;
}

int lcr_op_wait(lua_State *L, ltask *task, lua_KFunction k) {
    int rc = cr_op_run(&task->core);
    if (rc != CR_WAIT)
        return rc;
    lua_pushlightuserdata(L, &sentinel);
    return lua_yieldk(L, 1, (lua_KContext)task, k); /* does not return */
}

static int block_finish(lua_State *L, ltask *self, int rc) {
    const lcr_blocker *b = self->blocker;
    self->blocker = NULL;
    if (rc != CR_OK)
        return lcr_raise_code(L, self, rc);
    return b->push(L, self);
}

static int block_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    ltask *self = (ltask *)ctx;
    return block_finish(L, self, lcr_op_wait(L, self, block_k));
}

int lcr_block(lua_State *L, ltask *self, const lcr_blocker *b) {
    self->blocker = b;
    return block_finish(L, self, lcr_op_wait(L, self, block_k));
}

int lcr_push_self(lua_State *L, ltask *self) {
    (void)self;
    lua_settop(L, 1);
    return 1;
}

int lcr_push_true(lua_State *L, ltask *self) {
    (void)self;
    lua_pushboolean(L, 1);
    return 1;
}

int lcr_push_none(lua_State *L, ltask *self) {
    (void)L;
    (void)self;
    return 0;
}

