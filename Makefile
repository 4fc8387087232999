# corral - a coroutine runtime for Lua 5.4 with its scheduler in C.
#
#   make          build build/corral.so, build/libcorral.a, build/corral
#   make run      install what is missing, build, run every example
#   make test     install what is missing, build, run every test
#   make check    the tests under ASan+UBSan, then under valgrind
#   make bench    benchmarks against asyncio, uvloop, cqueues, pure Lua
#   make install PREFIX=/usr/local ; make uninstall ; make clean

# ---- settings -------------------------------------------------------
CC       ?= cc
LUA_PC   ?= lua5.4
LUA      ?= lua5.4
BUSTED   ?= busted
PREFIX   ?= /usr/local
OPT      ?= -O2
WARN      = -Wall -Wextra -Wpedantic
CFLAGS   ?= $(OPT) -g
LDFLAGS  ?=
LUA_CFLAGS := $(shell pkg-config --cflags $(LUA_PC) 2>/dev/null || echo -I/usr/include/lua5.4)
LUA_LIBS   := $(shell pkg-config --libs $(LUA_PC) 2>/dev/null || echo -llua5.4)
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden -DCORRAL_BUILDING \
             -Icsrc/include $(LUA_CFLAGS) -MMD -MP
LUA_VERSION_DIR = 5.4
LIBDIR   = $(PREFIX)/lib
CMODDIR  = $(PREFIX)/lib/lua/$(LUA_VERSION_DIR)
LMODDIR  = $(PREFIX)/share/lua/$(LUA_VERSION_DIR)

B = build

# ---- sources ----------------------------------------------------------
CORE_SRC = csrc/core/loop.c csrc/core/future.c csrc/core/task.c csrc/core/wait.c \
           csrc/core/lock.c csrc/core/event.c csrc/core/cond.c csrc/core/sema.c \
           csrc/core/barrier.c csrc/core/queue.c
LUA_SRC  = csrc/lua/lcorral.c csrc/lua/lerror.c csrc/lua/lblock.c csrc/lua/lcallback.c \
           csrc/lua/lstep.c csrc/lua/lloop.c csrc/lua/ltask.c \
           csrc/lua/lfuture.c csrc/lua/llock.c csrc/lua/levent.c csrc/lua/lcond.c \
           csrc/lua/lsema.c csrc/lua/lbarrier.c \
           csrc/lua/lhandle.c csrc/lua/lcoro.c csrc/lua/lqueue.c \
           csrc/lua/ltrace.c csrc/lua/lcapi.c csrc/sandbox/sandbox.c
RUNNER_SRC = csrc/runner/main.c
CTEST_SRC  = spec/c/test_main.c spec/c/test_core.c spec/c/test_prims.c spec/c/harness.c spec/c/test_queue.c

CORE_OBJ   = $(CORE_SRC:%.c=$(B)/obj/%.o)
LUA_OBJ    = $(LUA_SRC:%.c=$(B)/obj/%.o)
RUNNER_OBJ = $(RUNNER_SRC:%.c=$(B)/obj/%.o)
CTEST_OBJ  = $(CTEST_SRC:%.c=$(B)/obj/%.o)
GEN_OBJ    = $(B)/obj/gen/std_lua.o
LIB_OBJ    = $(CORE_OBJ) $(LUA_OBJ) $(GEN_OBJ)

.PHONY: all run test check bench bench-deps deps install uninstall clean FORCE

all: $(B)/corral.so $(B)/libcorral.a $(B)/corral $(B)/test_core $(B)/embed_host $(B)/corral.pc

FORCE:

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# Lua helpers compiled in (csrc/tools/embed.c).
$(B)/embed: csrc/tools/embed.c
	@mkdir -p $(B)
	$(CC) -std=c11 $(WARN) -O1 -o $@ $<

$(B)/gen/std_lua.c: lua/corral/std.lua $(B)/embed
	@mkdir -p $(dir $@)
	$(B)/embed corral_std_lua $< > $@

$(B)/obj/gen/std_lua.o: $(B)/gen/std_lua.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/corral.so: $(LIB_OBJ)
	$(CC) $(LDFLAGS) -shared -o $@ $(LIB_OBJ) -lm

$(B)/libcorral.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(B)/corral: $(RUNNER_OBJ) $(B)/libcorral.a
	$(CC) $(LDFLAGS) -o $@ $(RUNNER_OBJ) $(B)/libcorral.a $(LUA_LIBS) -lm -Wl,-E

# The embedding example: a C host linked with libcorral.a.
$(B)/embed_host: examples/embed/host.c $(B)/libcorral.a
	$(CC) -std=c11 $(WARN) $(CFLAGS) $(LDFLAGS) -Icsrc/include $(LUA_CFLAGS) -o $@ $< $(B)/libcorral.a $(LUA_LIBS) -lm

$(B)/test_core: $(CTEST_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $(CTEST_OBJ) $(CORE_OBJ) -lm

$(B)/corral.pc: FORCE
	@mkdir -p $(B)
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: corral\nDescription: coroutine runtime for Lua 5.4\nVersion: 0.1.0\nRequires: %s\nLibs: -L$${libdir} -lcorral -lm\nCflags: -I$${includedir}\n' \
	  '$(PREFIX)' '$(LUA_PC)' > $@

# ---- set-up on a fresh Debian machine -----------------------------------
deps:
	@if ! command -v $(LUA) >/dev/null 2>&1 || ! command -v $(BUSTED) >/dev/null 2>&1 \
	   || ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists $(LUA_PC) ; then \
	  echo "installing lua5.4 liblua5.4-dev lua-busted pkg-config"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq lua5.4 liblua5.4-dev lua-busted pkg-config ; \
	fi

# ---- the main job: run the examples ----------------------------------------
run: deps
	@$(MAKE) --no-print-directory all
	@for f in examples/ex_*.lua examples/queue_workers.lua examples/timeouts.lua examples/taskgroup.lua; do \
	  [ -f "$$f" ] || continue; \
	  echo "== $$f"; \
	  $(B)/corral "$$f" || exit 1; \
	done
	@echo "== examples/embed/host.c (build/embed_host)"
	@$(B)/embed_host

# ---- tests -----------------------------------------------------------
test: deps
	@$(MAKE) --no-print-directory all
	@bash spec/run_tests.sh

check: deps
	@bash spec/check.sh

# The anchors of the benchmarks (each is skipped with a note if missing).
bench-deps:
	@if ! /usr/bin/python3 -c 'import uvloop' >/dev/null 2>&1 || ! $(LUA) -e 'require "cqueues"' >/dev/null 2>&1 \
	   || ! $(LUA) -e 'require "system"' >/dev/null 2>&1; then \
	  echo "installing python3-uvloop lua-cqueues lua-system (benchmark anchors)"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-uvloop lua-cqueues lua-system || true; \
	fi

bench: deps bench-deps
	@$(MAKE) --no-print-directory all
	python3 bench/run.py

# ---- install ------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(CMODDIR) $(DESTDIR)$(LMODDIR)/corral $(DESTDIR)$(LIBDIR)/pkgconfig \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include
	install -m 755 $(B)/corral.so $(DESTDIR)$(CMODDIR)/corral.so
	for f in lua/corral/*.lua; do [ "$$f" = lua/corral/std.lua ] || install -m 644 "$$f" $(DESTDIR)$(LMODDIR)/corral/; done
	install -m 644 $(B)/libcorral.a $(DESTDIR)$(LIBDIR)/libcorral.a
	install -m 644 $(B)/corral.pc $(DESTDIR)$(LIBDIR)/pkgconfig/corral.pc
	install -m 644 csrc/include/corral.h $(DESTDIR)$(PREFIX)/include/corral.h
	install -m 755 $(B)/corral $(DESTDIR)$(PREFIX)/bin/corral

uninstall:
	rm -f $(DESTDIR)$(CMODDIR)/corral.so $(DESTDIR)$(LIBDIR)/libcorral.a \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/corral.pc $(DESTDIR)$(PREFIX)/include/corral.h \
	  $(DESTDIR)$(PREFIX)/bin/corral
	rm -rf $(DESTDIR)$(LMODDIR)/corral

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
