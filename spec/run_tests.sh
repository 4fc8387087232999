#!/bin/sh
# Run every test: the C core tests, the busted specs, the example checks.
# Prints each part's counts, then the sum as the last line:
#   N passed, N failed
# and exits non-zero if anything failed.
cd "$(dirname "$0")/.." || exit 2
LUA=${LUA:-lua5.4}
BUSTED=${BUSTED:-$(command -v busted)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0

add() { # $1 = passed, $2 = failed
    passed=$((passed + $1))
    failed=$((failed + $2))
}

# 1. C tests of the core (no Lua).
if [ -x build/test_core ]; then
    build/test_core > "$out/c.txt" 2>&1
    rc=$?
    cat "$out/c.txt"
    line=$(grep -E '^c: [0-9]+ passed, [0-9]+ failed$' "$out/c.txt" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^c: ([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
        add "$p" "$f"
        [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && add 0 1
    else
        echo "c: the test binary crashed (status $rc)"
        add 0 1
    fi
else
    echo "c: build/test_core is missing"
    add 0 1
fi

# 2. busted specs (TAP output: one 'ok' / 'not ok' line per test).
"$LUA" "$BUSTED" -o TAP spec > "$out/busted.txt" 2>&1
rc=$?
grep -E '^not ok' -A 12 "$out/busted.txt"
p=$(grep -E '^ok ' "$out/busted.txt" | grep -vc '# SKIP')
f=$(grep -cE '^not ok ' "$out/busted.txt")
echo "busted: $p passed, $f failed"
if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    cat "$out/busted.txt"
    f=1
fi
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { tail -n 20 "$out/busted.txt"; f=1; }
add "$p" "$f"

# 3. The examples: output through build/corral and through lua5.4.
bash spec/examples.sh > "$out/examples.txt" 2>&1
rc=$?
cat "$out/examples.txt"
line=$(grep -E '^examples: [0-9]+ passed, [0-9]+ failed$' "$out/examples.txt" | tail -n 1)
if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/^examples: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
    add "$p" "$f"
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && add 0 1
else
    add 0 1
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
