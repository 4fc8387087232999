#!/usr/bin/env bash
# spec/examples.sh: run the examples and compare their output.
#
# Every examples/ex_*.lua, and every other examples/*.lua that has an
# examples/expected/<name>.out, runs twice from the repository root:
#   - through the runner: build/corral examples/<name>.lua
#   - through the stock interpreter:
#       LUA_CPATH='build/?.so;;' LUA_PATH='lua/?.lua;lua/?/init.lua;;' lua5.4 examples/<name>.lua
# Its stdout, with every /0x[0-9a-f]+/ replaced by `0x?`, must equal
# examples/expected/<name>.out byte for byte, and it must exit with status 0.
# Prints `ok <name> (<runner>)` or `FAIL <name> (<runner>)` with the diff and
# the end of stderr, then one closing line `examples: N passed, N failed`.
# Exits 1 if anything failed (or nothing ran), 0 otherwise. No timing checks.
#
# Settings (environment): CORRAL (default build/corral), LUA (default lua5.4),
# EXAMPLE_TIMEOUT (seconds per run, default 120; a hang counts as a failure).

set -u
cd "$(dirname "$0")/.." || exit 2

CORRAL=${CORRAL:-build/corral}
LUA=${LUA:-lua5.4}
EXAMPLE_TIMEOUT=${EXAMPLE_TIMEOUT:-120}
LUA_PATH_ROOT='lua/?.lua;lua/?/init.lua;;'
LUA_CPATH_ROOT='build/?.so;;'

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0

mask() { sed -E 's/0x[0-9a-f]+/0x?/g'; }

# The examples to check, in name order: ex_*.lua always, others when they
# have an expected output.
examples=()
for script in examples/*.lua; do
  [ -e "$script" ] || continue
  name=$(basename "$script" .lua)
  case "$name" in
    ex_*) examples+=("$name") ;;
    *) [ -f "examples/expected/$name.out" ] && examples+=("$name") ;;
  esac
done

# run_one NAME RUNNER: runs the example under RUNNER (corral or lua5.4),
# compares, prints the verdict and counts it.
run_one() {
  local name=$1 runner=$2 script="examples/$1.lua"
  local expected="examples/expected/$1.out"
  local out="$tmp/$name.$runner.out" err="$tmp/$name.$runner.err" rc
  local why=""

  if [ ! -f "$expected" ]; then
    why="missing $expected"
  elif [ "$runner" = corral ] && [ ! -x "$CORRAL" ]; then
    why="$CORRAL not built (run make)"
  else
    if [ "$runner" = corral ]; then
      LUA_PATH=$LUA_PATH_ROOT timeout "$EXAMPLE_TIMEOUT" \
        "$CORRAL" "$script" </dev/null >"$out.raw" 2>"$err"
    else
      LUA_PATH=$LUA_PATH_ROOT LUA_CPATH=$LUA_CPATH_ROOT timeout "$EXAMPLE_TIMEOUT" \
        "$LUA" "$script" </dev/null >"$out.raw" 2>"$err"
    fi
    rc=$?
    mask <"$out.raw" >"$out"
    if [ "$rc" -eq 124 ]; then
      why="timed out after ${EXAMPLE_TIMEOUT}s"
    elif [ "$rc" -ne 0 ]; then
      why="exit status $rc"
    elif ! cmp -s "$expected" "$out"; then
      why="output differs"
    fi
  fi

  if [ -z "$why" ]; then
    echo "ok $name ($runner)"
    passed=$((passed + 1))
    return
  fi
  echo "FAIL $name ($runner): $why"
  failed=$((failed + 1))
  if [ -f "$expected" ] && [ -f "$out" ]; then
    diff -u --label "expected/$name.out" --label "actual ($runner)" "$expected" "$out" | sed 's/^/    /'
  fi
  if [ -s "${err:-/dev/null}" ]; then
    echo "    --- stderr (last 20 lines)"
    tail -n 20 "$err" | sed 's/^/    /'
  fi
}

for name in "${examples[@]}"; do
  run_one "$name" corral
  run_one "$name" lua5.4
done

# The C host of examples/embed: its output must match expected.out.
if [ -x build/embed_host ]; then
  if build/embed_host > "$tmp/embed.out" 2> "$tmp/embed.err" && cmp -s examples/embed/expected.out "$tmp/embed.out"; then
    echo "ok embed/host (build/embed_host)"
    passed=$((passed + 1))
  else
    echo "FAIL embed/host (build/embed_host)"
    diff -u examples/embed/expected.out "$tmp/embed.out" | sed 's/^/    /'
    tail -n 20 "$tmp/embed.err" | sed 's/^/    /'
    failed=$((failed + 1))
  fi
else
  echo "FAIL embed/host: build/embed_host is missing"
  failed=$((failed + 1))
fi

echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
