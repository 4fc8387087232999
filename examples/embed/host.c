/*
 * host.c - a C host embedding corral (examples/embed).
 *
 * 1. It makes a sandboxed Lua state (memory limit, instruction budget,
 *    restricted globals), drives a corral loop from its own main loop
 *    (next_deadline / run), and hands a result into a Lua task through a
 *    future it resolves from C.
 * 2. It runs an untrusted script that never stops in a second sandbox: the
 *    script ends with LimitError, and the host goes on unharmed.
 *
 * Build and run: make build/embed_host && build/embed_host
 */
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>

#include "corral.h"

/* The task the host drives: it waits for the host's answer. */
static const char *const worker_src =
    "local answer = ...\n"
    "print('task: asking the host')\n"
    "local value, unit = answer:await()\n"
    "print('task: the host answered', value, unit)\n"
    "corral.sleep(0.01)\n"
    "return value * 2\n";

static int drive_a_loop(void) {
    corral_limits limits = {.max_memory = 16u << 20, .max_instructions = 10000000};
    lua_State *L = corral_sandbox_new(&limits, 1, NULL);
    if (L == NULL)
        return 1;
    corral_loop *loop = corral_loop_new(L, NULL);
    if (loop == NULL)
        return 1;

    /* A future to hand into Lua, and a task that awaits it. */
    corral_future *answer = corral_future_new(loop);       /* pushes it */
    if (luaL_loadstring(L, worker_src) != LUA_OK)
        return 1;
    lua_insert(L, -2);                                      /* fn, future */
    if (corral_loop_spawn(loop, 1) != CORRAL_OK) {          /* pushes the Task */
        fprintf(stderr, "spawn: %s\n", lua_tostring(L, -1));
        return 1;
    }
    int task = luaL_ref(L, LUA_REGISTRYINDEX);

    /* The host's own loop: run what is ready, then "do host work". */
    int pending = corral_loop_run(loop, CORRAL_RUN_NOWAIT);
    printf("host: %d task pending, next deadline %s\n", pending,
           corral_loop_next_deadline(loop) < 0 ? "none (waiting on the host)" : "set");
    lua_pushinteger(L, 21);
    lua_pushstring(L, "apples");
    corral_future_resolve(answer, 2);
    corral_future_release(answer);
    while ((pending = corral_loop_run(loop, CORRAL_RUN_ONCE)) > 0) {
    }

    lua_rawgeti(L, LUA_REGISTRYINDEX, task);
    luaL_unref(L, LUA_REGISTRYINDEX, task);
    int n = corral_loop_run_until_complete(loop);
    if (n < 0) {
        fprintf(stderr, "task failed: %s\n", lua_tostring(L, -1));
        return 1;
    }
    printf("host: the task returned %d\n", (int)lua_tointeger(L, -1));
    lua_pop(L, n);
    corral_loop_close(loop);
    corral_sandbox_close(L);
    return 0;
}

static int run_untrusted(void) {
    corral_limits limits = {.max_memory = 4u << 20, .max_instructions = 1000000, .deadline = 5};
    lua_State *L = corral_sandbox_new(&limits, 1, NULL);
    if (L == NULL)
        return 1;
    const char *src = "print('untrusted: io is', io)\n"
                      "corral.run(function() while true do end end)\n";
    int status = luaL_loadstring(L, src);
    if (status == LUA_OK)
        status = lua_pcall(L, 0, 0, 0);
    if (status != LUA_OK)
        printf("host: the untrusted script ended: %s (limit %d)\n", luaL_tolstring(L, -1, NULL),
               corral_sandbox_limit(L));
    corral_sandbox_close(L);
    return 0;
}

int main(void) {
    if (drive_a_loop() != 0)
        return 1;
    if (run_untrusted() != 0)
        return 1;
    printf("host: still running, all states closed\n");
    return 0;
}
