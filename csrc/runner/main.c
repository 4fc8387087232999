/*
 * main.c - the `corral` runner: runs a Lua script like lua5.4 does, with
 * corral already loaded as the global `corral` (and in package.loaded).
 *
 *   corral [options] [script [args...]]
 *     -e stat   execute string 'stat'
 *     -l mod    require 'mod' into global 'mod'
 *     -v        show version information
 *     -         run stdin
 *
 * Exit status: 0 on success, 1 on an uncaught error, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "corral.h"

static const char *progname = "corral";

static void usage(const char *badoption) {
    if (badoption)
        fprintf(stderr, "%s: unrecognized option '%s'\n", progname, badoption);
    fprintf(stderr,
            "usage: %s [options] [script [args]]\n"
            "Available options are:\n"
            "  -e stat   execute string 'stat'\n"
            "  -l mod    require library 'mod' into global 'mod'\n"
            "  -v        show version information\n"
            "  --        stop handling options\n"
            "  -         stop handling options and execute stdin\n",
            progname);
}

static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
            /* an error table: show its message and the task's traceback */
            lua_getfield(L, 1, "traceback");
            if (lua_isstring(L, -1)) {
                lua_pushfstring(L, "%s\n%s", lua_tostring(L, -2), lua_tostring(L, -1));
                return 1;
            }
            lua_pop(L, 1);
            msg = lua_tostring(L, -1);
        } else {
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
        }
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static int report(lua_State *L, int status) {
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "%s: %s\n", progname, msg ? msg : "(no message)");
        fflush(stderr);
        lua_pop(L, 1);
    }
    return status;
}

static int docall(lua_State *L, int narg, int nres) {
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    int status = lua_pcall(L, narg, nres, base);
    lua_remove(L, base);
    return status;
}

static int dochunk(lua_State *L, int status) {
    if (status == LUA_OK)
        status = docall(L, 0, 0);
    return report(L, status);
}

static int dorequire(lua_State *L, const char *name) {
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    int status = docall(L, 1, 1);
    if (status == LUA_OK)
        lua_setglobal(L, name);
    return report(L, status);
}

static void createargtable(lua_State *L, char **argv, int argc, int script) {
    lua_createtable(L, argc - script - 1, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

static int runscript(lua_State *L, char **argv, int argc, int script) {
    const char *fname = argv[script];
    if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0)
        fname = NULL;
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = argc - script - 1;
        luaL_checkstack(L, n + 3, "too many arguments to script");
        for (int i = script + 1; i < argc; i++)
            lua_pushstring(L, argv[i]);
        status = docall(L, n, LUA_MULTRET);
    }
    return report(L, status);
}

struct opts {
    int argc;
    char **argv;
};

static int pmain(lua_State *L) {
    struct opts *o = lua_touserdata(L, 1);
    int argc = o->argc;
    char **argv = o->argv;
    luaL_checkversion(L);
    luaL_openlibs(L);
    luaL_requiref(L, "corral", luaopen_corral, 1);
    lua_pop(L, 1);
    int script = 0, i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            script = i;
            break;
        }
        if (strcmp(a, "-") == 0) {
            script = i;
            break;
        }
        if (strcmp(a, "--") == 0) {
            if (i + 1 < argc)
                script = i + 1;
            break;
        }
        if (strcmp(a, "-v") == 0) {
            printf("corral %s (%s)\n", CORRAL_VERSION, LUA_RELEASE);
            continue;
        }
        if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) {
            if (i + 1 >= argc) {
                usage(NULL);
                lua_pushinteger(L, 2);
                return 1;
            }
            i++;
            continue;
        }
        usage(a);
        lua_pushinteger(L, 2);
        return 1;
    }
    createargtable(L, argv, argc, script ? script : argc - 1 < 0 ? 0 : 0);
    /* run -e and -l in order */
    int end = script ? script : argc;
    for (i = 1; i < end; i++) {
        if (strcmp(argv[i], "-e") == 0) {
            const char *chunk = argv[++i];
            if (dochunk(L, luaL_loadbuffer(L, chunk, strlen(chunk), "=(command line)")) != LUA_OK) {
                lua_pushinteger(L, 1);
                return 1;
            }
        } else if (strcmp(argv[i], "-l") == 0) {
            if (dorequire(L, argv[++i]) != LUA_OK) {
                lua_pushinteger(L, 1);
                return 1;
            }
        }
    }
    int has_e = 0;
    for (i = 1; i < end; i++)
        if (strcmp(argv[i], "-e") == 0 || strcmp(argv[i], "-v") == 0)
            has_e = 1;
    if (script) {
        if (runscript(L, argv, argc, script) != LUA_OK) {
            lua_pushinteger(L, 1);
            return 1;
        }
    } else if (!has_e) {
        if (dochunk(L, luaL_loadfile(L, NULL)) != LUA_OK) {
            lua_pushinteger(L, 1);
            return 1;
        }
    }
    lua_pushinteger(L, 0);
    return 1;
}

int main(int argc, char **argv) {
    if (argv[0] && argv[0][0])
        progname = argv[0];
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
        return 1;
    }
    struct opts o = {argc, argv};
    lua_pushcfunction(L, pmain);
    lua_pushlightuserdata(L, &o);
    int status = lua_pcall(L, 1, 1, 0);
    int code = 1;
    if (status == LUA_OK)
        code = (int)lua_tointeger(L, -1);
    else
        report(L, status);
    lua_close(L);
    return code;
}
