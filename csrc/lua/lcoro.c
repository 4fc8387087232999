/*
 * lcoro.c - coroutine.resume and coroutine.wrap that let corral's
 * suspensions pass through nested coroutines.
 *
 * A corral blocking call made inside a coroutine that a task's code
 * resumed yields corral's sentinel to that resumer.  These versions see
 * the sentinel, yield it on outward (so the whole task suspends), and
 * when the task is resumed they resume the inner coroutine again, so the
 * blocking call finishes right where it was made.  Every other yield goes
 * to the resumer as usual.  They replace the standard functions in the
 * `coroutine` table when corral is loaded; without a corral suspension
 * they behave exactly like Lua's.
 */
#include <lualib.h>

#include "lcorral.h"

/* Resume co with the n values on top of L; leave its results (or the
 * error) on L.  Returns the number of results, or -1 on error, after
 * passing corral suspensions on (which may not return: it yields). */
static int resume_k(lua_State *L, int status, lua_KContext ctx);

static lua_State *get_co(lua_State *L, int wrapped) {
    lua_State *co = wrapped ? lua_tothread(L, lua_upvalueindex(1)) : lua_tothread(L, 1);
    if (co == NULL)
        luaL_typeerror(L, 1, "coroutine");
    return co;
}

static int after_resume(lua_State *L, lua_State *co, int status, int nres, int wrapped) {
    if (status == LUA_OK || status == LUA_YIELD) {
        if (status == LUA_YIELD && nres == 1 && lua_touserdata(co, -1) == lcr_sentinel()) {
            /* A corral suspension: suspend the resumer too. */
            lua_pop(co, 1);
            lua_settop(L, wrapped ? 0 : 1);
            lua_pushlightuserdata(L, lcr_sentinel());
            return lua_yieldk(L, 1, (lua_KContext)wrapped, resume_k);
        }
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushliteral(L, "too many results to resume");
            return -1;
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1);
    return -1;
}

static int finish(lua_State *L, lua_State *co, int r, int wrapped) {
    if (!wrapped) {
        if (r < 0) {
            lua_pushboolean(L, 0);
            lua_insert(L, -2);
            return 2;
        }
        lua_pushboolean(L, 1);
        lua_insert(L, -(r + 1));
        return r + 1;
    }
    if (r < 0) {
        int stat = lua_status(co);
        if (stat != LUA_OK && stat != LUA_YIELD) {
#if LUA_VERSION_RELEASE_NUM >= 50406
            stat = lua_closethread(co, L);
#else
            stat = lua_resetthread(co);
#endif
            lua_xmove(co, L, 1);
            lua_replace(L, -2);
        }
        if (stat != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    return r;
}

static int resume_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    int wrapped = (int)ctx;
    lua_State *co = get_co(L, wrapped);
    int nres;
    int st = lua_resume(co, L, 0, &nres);
    int r = after_resume(L, co, st, nres, wrapped);
    return finish(L, co, r, wrapped);
}

static int start(lua_State *L, lua_State *co, int narg, int wrapped) {
    int st = lua_status(co);
    const char *bad = NULL;
    if (L == co)
        bad = "cannot resume non-suspended coroutine";
    else if (st == LUA_OK) {
        lua_Debug ar;
        if (lua_getstack(co, 0, &ar))
            bad = "cannot resume non-suspended coroutine";
        else if (lua_gettop(co) == 0)
            bad = "cannot resume dead coroutine";
    } else if (st != LUA_YIELD)
        bad = "cannot resume dead coroutine";
    if (bad != NULL) {
        lua_pushstring(L, bad);
        return finish(L, co, -1, wrapped);
    }
    if (!lua_checkstack(co, narg)) {
        lua_pushliteral(L, "too many arguments to resume");
        return finish(L, co, -1, wrapped);
    }
    lua_xmove(L, co, narg);
    int nres;
    st = lua_resume(co, L, narg, &nres);
    return finish(L, co, after_resume(L, co, st, nres, wrapped), wrapped);
}

static int co_resume(lua_State *L) {
    lua_State *co = get_co(L, 0);
    return start(L, co, lua_gettop(L) - 1, 0);
}

static int co_wrapped(lua_State *L) {
    lua_State *co = get_co(L, 1);
    return start(L, co, lua_gettop(L), 1);
}

static int co_wrap(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, co_wrapped, 1);
    return 1;
}

void lcr_coro_open(lua_State *L) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, LUA_COLIBNAME) == LUA_TTABLE) {
        lua_pushcfunction(L, co_resume);
        lua_setfield(L, -2, "resume");
        lua_pushcfunction(L, co_wrap);
        lua_setfield(L, -2, "wrap");
    }
    lua_pop(L, 2);
}
