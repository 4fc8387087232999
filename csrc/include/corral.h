/*
 * corral.h - the public C API of corral, a coroutine runtime for Lua 5.4.
 *
 * Everything a host needs to load corral into a lua_State.  Types are
 * opaque; functions return 0 or a negative CORRAL_E* code.
 */
#ifndef CORRAL_H
#define CORRAL_H

#include <lua.h>

#if defined(CORRAL_BUILDING) && defined(__GNUC__)
#define CORRAL_API __attribute__((visibility("default")))
#else
#define CORRAL_API
#endif

#define CORRAL_VERSION "0.1.0"

/* Error codes (negative), as returned by the C API. */
#define CORRAL_OK 0
#define CORRAL_ENOMEM (-5)
#define CORRAL_EINVAL (-6)

/* Open the corral module: pushes the module table (for luaL_requiref). */
CORRAL_API int luaopen_corral(lua_State *L);

/* Set the default of option `option` ("clock", "seed", "debug", "trace")
 * for every corral.run and corral.Loop in L's state that does not give it:
 * the value is at the top of the stack and is popped.  The runner's
 * --clock and --seed use this.  Returns CORRAL_OK. */
CORRAL_API int corral_set_default(lua_State *L, const char *option);

/* A static description of an error code. */
CORRAL_API const char *corral_strerror(int code);

#endif
