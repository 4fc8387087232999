#!/bin/sh
# make check: every test under ASan+UBSan, then under valgrind.
#  1. build/asan/: the runner and the C tests built with
#     -fsanitize=address,undefined; the C tests, the busted specs (busted
#     runs inside the sanitized runner, which has corral built in) and the
#     examples run there.  Any report fails the check.
#  2. valgrind (memcheck) over the C tests, the specs (lua5.4 loading
#     build/corral.so) and the examples: no error, no definite leak.
cd "$(dirname "$0")/.." || exit 2
BUSTED=${BUSTED:-$(command -v busted)}
status=0
SAN="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
make --no-print-directory B=build/asan CFLAGS="$SAN" LDFLAGS="-fsanitize=address,undefined" \
    build/asan/corral build/asan/test_core build/asan/embed_host >/dev/null || exit 1
make --no-print-directory all >/dev/null || exit 1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run() { # name, command...
    name=$1; shift
    if "$@" > build/check.log 2>&1 && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|definitely lost: [1-9]|Invalid (read|write)' build/check.log; then
        echo "ok   $name"
    else
        echo "FAIL $name"; tail -n 40 build/check.log; status=1
    fi
}

echo "== ASan+UBSan"
run "c tests" build/asan/test_core
run "busted specs" build/asan/corral "$BUSTED" -o TAP spec
for f in examples/*.lua; do
    [ -f "examples/expected/$(basename "$f" .lua).out" ] || continue
    run "example $f" build/asan/corral "$f"
done

run "embed host" build/asan/embed_host

echo "== valgrind"
VG="valgrind -q --error-exitcode=24 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
run "c tests" $VG build/test_core
run "busted specs" env LUA_CPATH='build/?.so;;' LUA_PATH='lua/?.lua;lua/?/init.lua;;' $VG lua5.4 "$BUSTED" -o TAP spec
for f in examples/*.lua; do
    [ -f "examples/expected/$(basename "$f" .lua).out" ] || continue
    run "example $f" env LUA_CPATH='build/?.so;;' LUA_PATH='lua/?.lua;lua/?/init.lua;;' $VG lua5.4 "$f"
done
run "embed host" $VG build/embed_host
[ $status -eq 0 ] && echo "check: clean" || echo "check: FAILED"
exit $status
