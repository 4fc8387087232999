/*
 * main.c - the `corral` runner: runs a Lua script like lua5.4 does, with
 * corral already loaded as the global `corral` (and in package.loaded).
 * It is a client of the public API (corral.h) only.
 *
 *   corral [options] [script [args...]]
 *     -e stat          execute string 'stat'
 *     -l mod           require 'mod' into global 'mod'
 *     -i               enter interactive mode after running script
 *     -v               show version information
 *     --               stop handling options
 *     -                stop handling options and execute stdin
 *     --clock=NAME     default clock of every corral.run: monotonic, virtual
 *     --seed=N         default schedule seed of every corral.run
 *     --debug          default debug option of every corral.run
 *     --trace=FILE     default trace file of every corral.run
 *     --explore=N      run the script N times with seeds 1..N on the virtual
 *                      clock and report the distinct outputs
 *     --sandbox        restricted globals for untrusted code
 *     --max-memory=SIZE, --max-instructions=N, --deadline=SECONDS
 *                      limits (the script ends with LimitError)
 *     --preempt=N      preempt a task after N instructions without suspending
 *
 * Exit status: 0 on success, 1 on an uncaught error, 2 on bad usage, 3 when
 * a limit ended the script.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "corral.h"

enum { EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_LIMIT = 3 };

static const char *progname = "corral";

/* What the command line asked for. */
struct options {
    int argc;
    char **argv;
    int script;          /* index of the script in argv, or 0 */
    int interactive;     /* -i */
    int version;         /* -v */
    int has_e;           /* some -e */
    const char *clock;   /* --clock */
    const char *seed;    /* --seed (validated) */
    int debug;           /* --debug */
    const char *trace;   /* --trace=FILE */
    long explore;        /* --explore=N, or 0 */
    int sandbox;         /* --sandbox */
    int limited;         /* some limit option */
    corral_limits limits; /* --max-memory, --max-instructions, --deadline, --preempt */
    int limit_error;     /* the uncaught error was a LimitError */
};

static void usage(const char *message, const char *what) {
    if (message)
        fprintf(stderr, "%s: %s '%s'\n", progname, message, what);
    fprintf(stderr,
            "usage: %s [options] [script [args]]\n"
            "Available options are:\n"
            "  -e stat          execute string 'stat'\n"
            "  -i               enter interactive mode after executing 'script'\n"
            "  -l mod           require library 'mod' into global 'mod'\n"
            "  -v               show version information\n"
            "  --clock=NAME     default clock of corral.run: monotonic or virtual\n"
            "  --seed=N         default schedule seed of corral.run (shuffles ready tasks)\n"
            "  --debug          report slow task steps and callbacks\n"
            "  --trace=FILE     write a Chrome trace-event file of the run\n"
            "  --explore=N      run the script with seeds 1..N (virtual clock) and\n"
            "                   count its distinct outputs\n"
            "  --sandbox        restricted globals (no io, os, debug, package...)\n"
            "  --max-memory=SIZE       memory limit, e.g. 64M (K, M, G suffixes)\n"
            "  --max-instructions=N    instruction budget\n"
            "  --deadline=SECONDS      wall-clock deadline\n"
            "  --preempt=N      preempt a task after N instructions without suspending\n"
            "  --               stop handling options\n"
            "  -                stop handling options and execute stdin\n",
            progname);
}

static int starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "65536", "64K", "64M", "1G" -> bytes; 0 on a bad size. */
static int parse_size(const char *text, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (end == text || errno != 0 || text[0] == '-')
        return 0;
    unsigned long long unit = 1;
    if (*end == 'K' || *end == 'k')
        unit = 1024ULL;
    else if (*end == 'M' || *end == 'm')
        unit = 1024ULL * 1024;
    else if (*end == 'G' || *end == 'g')
        unit = 1024ULL * 1024 * 1024;
    else if (*end != '\0')
        return 0;
    if (unit != 1 && end[1] != '\0')
        return 0;
    if (n == 0 || n > (unsigned long long)SIZE_MAX / unit)
        return 0;
    *out = (size_t)(n * unit);
    return 1;
}

/* Parse argv; returns 0 or EXIT_USAGE. */
static int parse(struct options *o) {
    int i;
    for (i = 1; i < o->argc; i++) {
        const char *a = o->argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            o->script = i;
            return 0;
        }
        if (strcmp(a, "--") == 0) {
            if (i + 1 < o->argc)
                o->script = i + 1;
            return 0;
        }
        if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) {
            if (i + 1 >= o->argc) {
                usage("option needs an argument:", a);
                return EXIT_USAGE;
            }
            if (a[1] == 'e')
                o->has_e = 1;
            i++;
        } else if (strcmp(a, "-i") == 0) {
            o->interactive = 1;
        } else if (strcmp(a, "-v") == 0) {
            o->version = 1;
        } else if (starts_with(a, "--clock=")) {
            o->clock = a + 8;
            if (strcmp(o->clock, "virtual") != 0 && strcmp(o->clock, "monotonic") != 0) {
                usage("bad clock (monotonic or virtual expected):", o->clock);
                return EXIT_USAGE;
            }
        } else if (starts_with(a, "--seed=")) {
            char *end;
            errno = 0;
            (void)strtoll(a + 7, &end, 10);
            if (a[7] == '\0' || *end != '\0' || errno != 0) {
                usage("bad seed (an integer expected):", a + 7);
                return EXIT_USAGE;
            }
            o->seed = a + 7;
        } else if (strcmp(a, "--debug") == 0) {
            o->debug = 1;
        } else if (starts_with(a, "--explore=")) {
            char *end;
            o->explore = strtol(a + 10, &end, 10);
            if (a[10] == '\0' || *end != '\0' || o->explore < 1) {
                usage("bad run count (a positive integer expected):", a + 10);
                return EXIT_USAGE;
            }
        } else if (starts_with(a, "--trace=") && a[8] != '\0') {
            o->trace = a + 8;
        } else if (strcmp(a, "--sandbox") == 0) {
            o->sandbox = 1;
        } else if (starts_with(a, "--max-memory=")) {
            if (!parse_size(a + 13, &o->limits.max_memory)) {
                usage("bad memory size (e.g. 65536, 64K, 64M, 1G):", a + 13);
                return EXIT_USAGE;
            }
            o->limited = 1;
        } else if (starts_with(a, "--max-instructions=")) {
            size_t n;
            if (!parse_size(a + 19, &n)) {
                usage("bad instruction count:", a + 19);
                return EXIT_USAGE;
            }
            o->limits.max_instructions = n;
            o->limited = 1;
        } else if (starts_with(a, "--deadline=")) {
            char *end;
            o->limits.deadline = strtod(a + 11, &end);
            if (a[11] == '\0' || *end != '\0' || !(o->limits.deadline > 0)) {
                usage("bad deadline (seconds > 0 expected):", a + 11);
                return EXIT_USAGE;
            }
            o->limited = 1;
        } else if (starts_with(a, "--preempt=")) {
            char *end;
            long n = strtol(a + 10, &end, 10);
            if (a[10] == '\0' || *end != '\0' || n < 1 || n > 1000000000L) {
                usage("bad preemption count (a positive integer expected):", a + 10);
                return EXIT_USAGE;
            }
            o->limits.preempt = (unsigned long)n;
            o->limited = 1;
        } else {
            usage("unrecognized option", a);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* ---- running chunks, as lua.c does ---- */

/* The options of the run in progress (msghandler notes a LimitError). */
static struct options *current_options;

static int msghandler(lua_State *L) {
    if (current_options != NULL && lua_istable(L, 1)) {
        lua_getfield(L, 1, "type");
        if (lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "LimitError") == 0)
            current_options->limit_error = 1;
        lua_pop(L, 1);
    }
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
            /* an error table: its message, and the task's traceback */
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
    if (status != LUA_OK && current_options != NULL
        && (current_options->sandbox || current_options->limited)
        && corral_sandbox_limit(L) == CORRAL_LIMIT_MEMORY && lua_type(L, -1) == LUA_TSTRING) {
        /* Lua's own out-of-memory error, from the sandbox's limit (said
         * without allocating: the state is at its limit) */
        fprintf(stderr, "%s: LimitError: memory limit exceeded\n", progname);
        fflush(stderr);
        lua_pop(L, 1);
        current_options->limit_error = 1;
        return status;
    }
    if (status != LUA_OK) {
        if (current_options != NULL && lua_istable(L, -1)) {
            lua_getfield(L, -1, "type");
            if (lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "LimitError") == 0)
                current_options->limit_error = 1;
            lua_pop(L, 1);
        }
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

static int runscript(lua_State *L, struct options *o) {
    const char *fname = o->argv[o->script];
    if (strcmp(fname, "-") == 0 && strcmp(o->argv[o->script - 1], "--") != 0)
        fname = NULL;
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = o->argc - o->script - 1;
        luaL_checkstack(L, n + 3, "too many arguments to script");
        for (int i = o->script + 1; i < o->argc; i++)
            lua_pushstring(L, o->argv[i]);
        status = docall(L, n, LUA_MULTRET);
    }
    return report(L, status);
}

/* ---- the interactive prompt ---- */

/* Read one statement (more lines while it is incomplete) and run it;
 * an expression's values are printed.  Returns 0 at end of input. */
static int repl_once(lua_State *L) {
    char line[4096];
    fputs("> ", stdout);
    fflush(stdout);
    if (fgets(line, sizeof line, stdin) == NULL)
        return 0;
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\n')
        line[--len] = '\0';
    lua_pushfstring(L, "return %s", line);
    int status = luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=stdin");
    lua_remove(L, -2);
    if (status != LUA_OK) {
        lua_pop(L, 1);
        lua_pushstring(L, line);
        for (;;) {
            size_t n;
            const char *chunk = lua_tolstring(L, -1, &n);
            status = luaL_loadbuffer(L, chunk, n, "=stdin");
            if (status != LUA_ERRSYNTAX)
                break;
            const char *msg = lua_tostring(L, -1);
            size_t ml = strlen(msg);
            if (ml < 5 || strcmp(msg + ml - 5, "<eof>") != 0)
                break; /* a real syntax error */
            lua_pop(L, 1);
            fputs(">> ", stdout);
            fflush(stdout);
            if (fgets(line, sizeof line, stdin) == NULL)
                break;
            len = strlen(line);
            if (len > 0 && line[len - 1] == '\n')
                line[--len] = '\0';
            lua_pushfstring(L, "%s\n%s", lua_tostring(L, -1), line);
            lua_remove(L, -2);
        }
        lua_remove(L, -2);
    }
    if (status == LUA_OK) {
        int base = lua_gettop(L);
        status = docall(L, 0, LUA_MULTRET);
        int n = lua_gettop(L) - base + 1;
        if (status == LUA_OK && n > 0) {
            lua_getglobal(L, "print");
            lua_insert(L, base);
            if (lua_pcall(L, n, 0, 0) != LUA_OK)
                report(L, LUA_ERRRUN);
        }
    }
    report(L, status);
    lua_settop(L, 0);
    return 1;
}

static void repl(lua_State *L) {
    while (repl_once(L)) {
    }
    fputs("\n", stdout);
    fflush(stdout);
}

/* ---- one run ---- */

static int pmain(lua_State *L) {
    struct options *o = lua_touserdata(L, 1);
    luaL_checkversion(L);
    if (!o->sandbox && !o->limited) {
        luaL_openlibs(L);
        luaL_requiref(L, "corral", luaopen_corral, 1);
        lua_pop(L, 1);
    }
    if (o->clock) {
        lua_pushstring(L, o->clock);
        corral_set_default(L, "clock");
    }
    if (o->seed) {
        lua_pushinteger(L, (lua_Integer)strtoll(o->seed, NULL, 10));
        corral_set_default(L, "seed");
    }
    if (o->debug) {
        lua_pushboolean(L, 1);
        corral_set_default(L, "debug");
    }
    if (o->trace) {
        lua_pushstring(L, o->trace);
        corral_set_default(L, "trace");
    }
    if (o->version)
        printf("corral %s (%s)\n", CORRAL_VERSION, LUA_RELEASE);
    createargtable(L, o->argv, o->argc, o->script ? o->script : 0);
    int end = o->script ? o->script : o->argc;
    for (int i = 1; i < end; i++) {
        int status = LUA_OK;
        if (strcmp(o->argv[i], "-e") == 0) {
            const char *chunk = o->argv[++i];
            status = dochunk(L, luaL_loadbuffer(L, chunk, strlen(chunk), "=(command line)"));
        } else if (strcmp(o->argv[i], "-l") == 0) {
            status = dorequire(L, o->argv[++i]);
        }
        if (status != LUA_OK) {
            lua_pushinteger(L, EXIT_ERROR);
            return 1;
        }
    }
    if (o->script) {
        if (runscript(L, o) != LUA_OK) {
            lua_pushinteger(L, EXIT_ERROR);
            return 1;
        }
    }
    if (o->interactive) {
        repl(L);
    } else if (!o->script && !o->has_e && !o->version) {
        if (isatty(0)) {
            printf("corral %s (%s)\n", CORRAL_VERSION, LUA_RELEASE);
            repl(L);
        } else if (dochunk(L, luaL_loadfile(L, NULL)) != LUA_OK) {
            lua_pushinteger(L, EXIT_ERROR);
            return 1;
        }
    }
    lua_pushinteger(L, 0);
    return 1;
}

static int run(struct options *o) {
    int sandboxed = o->sandbox || o->limited;
    current_options = o;
    lua_State *L = sandboxed ? corral_sandbox_new(&o->limits, o->sandbox, NULL) : luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
        return EXIT_ERROR;
    }
    lua_pushcfunction(L, pmain);
    lua_pushlightuserdata(L, o);
    int status = lua_pcall(L, 1, 1, 0);
    int code = EXIT_ERROR;
    if (status == LUA_OK)
        code = (int)lua_tointeger(L, -1);
    else
        report(L, status);
    if (sandboxed) {
        /* A limit, once hit, ends the script with status 3, even if the
         * script caught the LimitError and came to an end before the
         * next check. */
        if (o->limit_error || corral_sandbox_limit(L) != CORRAL_LIMIT_NONE) {
            if (code == 0)
                fprintf(stderr, "%s: LimitError: %s limit exceeded\n", progname,
                        corral_sandbox_limit(L) == CORRAL_LIMIT_MEMORY         ? "memory"
                        : corral_sandbox_limit(L) == CORRAL_LIMIT_INSTRUCTIONS ? "instructions"
                                                                               : "deadline");
            code = EXIT_LIMIT;
        }
        corral_sandbox_close(L);
    } else {
        lua_close(L);
    }
    return code;
}

/* ---- --explore=N ---- */

typedef struct outcome {
    char *output;        /* what the run printed on stdout */
    size_t len;          /* its length */
    long runs;           /* runs that printed it */
    long first_seed;     /* the first seed that did */
    int status;          /* that run's exit status */
} outcome;

/* Run the script once with `seed` in a child process; returns its stdout
 * (malloc'd) and exit status. */
static char *run_child(struct options *o, long seed, size_t *len, int *status) {
    int fds[2];
    if (pipe(fds) != 0)
        return NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return NULL;
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 1);
        close(fds[1]);
        char seedbuf[32];
        snprintf(seedbuf, sizeof seedbuf, "%ld", seed);
        o->clock = "virtual";
        o->seed = seedbuf;
        o->explore = 0;
        int code = run(o);
        fflush(stdout);
        _exit(code);
    }
    close(fds[1]);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL)
            break;
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fds[0], buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fds[0]);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    *status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + (WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
    *len = n;
    return buf;
}

static int explore(struct options *o) {
    if (!o->script) {
        usage("--explore needs a script", "");
        return EXIT_USAGE;
    }
    outcome *seen = calloc((size_t)o->explore, sizeof *seen);
    if (seen == NULL)
        return EXIT_ERROR;
    long distinct = 0;
    for (long seed = 1; seed <= o->explore; seed++) {
        size_t len;
        int status;
        char *out = run_child(o, seed, &len, &status);
        if (out == NULL) {
            fprintf(stderr, "%s: --explore: cannot run the script\n", progname);
            return EXIT_ERROR;
        }
        long k;
        for (k = 0; k < distinct; k++)
            if (seen[k].len == len && seen[k].status == status && memcmp(seen[k].output, out, len) == 0)
                break;
        if (k < distinct) {
            seen[k].runs++;
            free(out);
        } else {
            seen[distinct++] = (outcome){out, len, 1, seed, status};
        }
    }
    printf("explore: %ld run%s of %s with seeds 1..%ld: %ld distinct output%s\n", o->explore,
           o->explore == 1 ? "" : "s", o->argv[o->script], o->explore, distinct, distinct == 1 ? "" : "s");
    for (long k = 0; k < distinct; k++) {
        printf("output %ld: %ld run%s, first with --seed=%ld", k + 1, seen[k].runs,
               seen[k].runs == 1 ? "" : "s", seen[k].first_seed);
        if (seen[k].status != 0)
            printf(" (exit status %d)", seen[k].status);
        printf("\n");
        const char *p = seen[k].output, *end = p + seen[k].len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            printf("  | %.*s\n", (int)n, p);
            p += n + (nl ? 1 : 0);
        }
        free(seen[k].output);
    }
    free(seen);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    if (argv[0] && argv[0][0])
        progname = argv[0];
    struct options o;
    memset(&o, 0, sizeof o);
    o.argc = argc;
    o.argv = argv;
    int rc = parse(&o);
    if (rc != 0)
        return rc;
    if (o.explore > 0)
        return explore(&o);
    return run(&o);
}
