/*
 * sandbox.c - Lua states for untrusted scripts: a memory limit (the
 * state's allocator), an instruction budget and a wall-clock deadline (a
 * count hook), preemption of tasks that run too long without suspending,
 * and a cut-down global environment.  Built on the public API only.
 *
 * A limit, once exceeded, is sticky: the allocator keeps refusing, and the
 * hook raises LimitError every time the script tries to go on, so a script
 * that catches the error still ends with it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "corral.h"

/* Room granted past the memory limit while LimitError is being raised. */
#define GRACE_BYTES (256 * 1024)
/* Hook period when no preemption is asked for. */
#define DEFAULT_PERIOD 1000

typedef struct sandbox {
    size_t used;                      /* bytes allocated now */
    size_t max_memory;                /* limit, or 0 */
    int limit;                        /* CORRAL_LIMIT_* exceeded, or 0 */
    int grace;                        /* allow GRACE_BYTES past the limit */
    unsigned long long instructions;  /* counted so far (by hook periods) */
    unsigned long long max_instructions; /* limit, or 0 */
    double deadline;                  /* CLOCK_MONOTONIC limit, or 0 */
    unsigned long period;             /* the count hook's period */
    unsigned long preempt;            /* preemption period, or 0 */
} sandbox;

static double monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    sandbox *sb = ud;
    size_t old = ptr != NULL ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        sb->used -= old;
        return NULL;
    }
    if (sb->max_memory != 0 && nsize > old) {
        size_t cap = sb->max_memory + (sb->grace ? GRACE_BYTES : 0);
        if (sb->used + (nsize - old) > cap) {
            if (sb->limit == CORRAL_LIMIT_NONE)
                sb->limit = CORRAL_LIMIT_MEMORY;
            return NULL;
        }
    }
    void *p = realloc(ptr, nsize);
    if (p != NULL)
        sb->used = sb->used - old + nsize;
    return p;
}

static sandbox *sandbox_of(lua_State *L) {
    void *ud;
    lua_Alloc f = lua_getallocf(L, &ud);
    return f == sandbox_alloc ? ud : NULL;
}

static const char *limit_name(int limit) {
    switch (limit) {
    case CORRAL_LIMIT_MEMORY:
        return "memory";
    case CORRAL_LIMIT_INSTRUCTIONS:
        return "instructions";
    default:
        return "deadline";
    }
}

/* Raise LimitError {type, message, limit}, with room to build it. */
static int raise_limit(lua_State *L, sandbox *sb) {
    const char *name = limit_name(sb->limit);
    sb->grace = 1;
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, "LimitError");
    lua_setfield(L, -2, "type");
    lua_pushfstring(L, "%s limit exceeded", name);
    lua_setfield(L, -2, "message");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "limit");
    luaL_setmetatable(L, "corral.Error");
    sb->grace = 0;
    return lua_error(L);
}

static void sandbox_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    sandbox *sb = sandbox_of(L);
    if (sb == NULL)
        return;
    sb->instructions += sb->period;
    if (sb->limit == CORRAL_LIMIT_NONE) {
        if (sb->max_instructions != 0 && sb->instructions > sb->max_instructions)
            sb->limit = CORRAL_LIMIT_INSTRUCTIONS;
        else if (sb->deadline > 0 && monotonic() > sb->deadline)
            sb->limit = CORRAL_LIMIT_DEADLINE;
    }
    if (sb->limit != CORRAL_LIMIT_NONE)
        raise_limit(L, sb);
    if (sb->preempt != 0)
        corral_preempt(L);
}

/* The cut-down environment, applied by Lua code: `...` is the set of
 * modules require may load besides corral. */
static const char restrict_chunk[] =
    "local allowed = ...\n"
    "local G = _G\n"
    "local os_time, os_clock, os_date = os.time, os.clock, os.date\n"
    "local load, require, select, error, tostring = load, require, select, error, tostring\n"
    "G.io, G.debug, G.dofile, G.loadfile, G.package = nil, nil, nil, nil, nil\n"
    "G.os = { time = os_time, clock = os_clock, date = os_date }\n"
    "G.load = function(chunk, name, mode, ...)\n"
    "  if select('#', ...) > 0 then return load(chunk, name, 't', ...) end\n"
    "  return load(chunk, name, 't')\n"
    "end\n"
    "G.require = function(name)\n"
    "  if name == 'corral' or allowed[name] then return require(name) end\n"
    "  error((\"module '%s' is not allowed in the sandbox\"):format(tostring(name)), 2)\n"
    "end\n";

static int setup(lua_State *L) {
    const corral_limits *limits = lua_touserdata(L, 1);
    int restricted = lua_toboolean(L, 2);
    const char *const *allowed = lua_touserdata(L, 3);
    luaL_openlibs(L);
    luaL_requiref(L, "corral", luaopen_corral, 1);
    lua_pop(L, 1);
    if (limits != NULL && limits->deadline > 0) {
        lua_pushnumber(L, monotonic() + limits->deadline);
        corral_set_default(L, "deadline");
    }
    if (limits != NULL && limits->preempt != 0) {
        lua_pushboolean(L, 1);
        corral_set_default(L, "preempt");
    }
    if (restricted) {
        if (luaL_loadbuffer(L, restrict_chunk, sizeof restrict_chunk - 1, "=sandbox") != LUA_OK)
            return lua_error(L);
        lua_newtable(L);
        for (const char *const *m = allowed; m != NULL && *m != NULL; m++) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, *m);
        }
        lua_call(L, 1, 0);
    }
    return 0;
}

lua_State *corral_sandbox_new(const corral_limits *limits, int restricted, const char *const *allowed) {
    sandbox *sb = calloc(1, sizeof *sb);
    if (sb == NULL)
        return NULL;
    if (limits != NULL) {
        sb->max_memory = limits->max_memory;
        sb->max_instructions = limits->max_instructions;
        sb->preempt = limits->preempt;
    }
    sb->grace = 1; /* the libraries must load whatever the limit */
    lua_State *L = lua_newstate(sandbox_alloc, sb);
    if (L == NULL) {
        free(sb);
        return NULL;
    }
    lua_pushcfunction(L, setup);
    lua_pushlightuserdata(L, (void *)limits);
    lua_pushboolean(L, restricted);
    lua_pushlightuserdata(L, (void *)allowed);
    int status = lua_pcall(L, 3, 0, 0);
    sb->grace = 0;
    if (status != LUA_OK) {
        corral_sandbox_close(L);
        return NULL;
    }
    if (limits != NULL && limits->deadline > 0)
        sb->deadline = monotonic() + limits->deadline;
    int hooked = sb->max_memory || sb->max_instructions || sb->deadline > 0 || sb->preempt;
    if (hooked) {
        sb->period = sb->preempt ? sb->preempt : DEFAULT_PERIOD;
        if (sb->max_instructions != 0 && sb->max_instructions < sb->period)
            sb->period = (unsigned long)sb->max_instructions;
        lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, (int)sb->period);
    }
    return L;
}

int corral_sandbox_limit(lua_State *L) {
    sandbox *sb = sandbox_of(L);
    if (sb == NULL)
        return CORRAL_LIMIT_NONE;
    /* the loop enforces the deadline too, while it sleeps */
    if (sb->limit == CORRAL_LIMIT_NONE && sb->deadline > 0 && monotonic() > sb->deadline)
        sb->limit = CORRAL_LIMIT_DEADLINE;
    return sb->limit;
}

void corral_sandbox_close(lua_State *L) {
    sandbox *sb = sandbox_of(L);
    if (sb != NULL) {
        sb->grace = 1; /* finalizers may allocate */
        sb->limit = CORRAL_LIMIT_NONE;
        sb->max_instructions = 0;
        sb->deadline = 0;
    }
    lua_sethook(L, NULL, 0, 0);
    lua_close(L);
    free(sb);
}
