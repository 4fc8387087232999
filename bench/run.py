#!/usr/bin/env python3
"""bench/run.py: the benchmark driver of issue 4 (`make bench`).

Runs every workload on corral and on each anchor that is installed, in the
same session, interleaved (run 1 of every workload on every anchor, then
run 2, ... with the anchor order rotated each run), one fresh process per
measurement, and prints:

  1. the medians, with their spread;
  2. for each workload, the ratio of every anchor to corral;
  3. the targets of issue 4, as ratios: the issue gives corral a target time
     and the anchors' times on the machine it was measured on, so corral
     must be at most target/anchor times each anchor measured in this run.

Anchors: CPython asyncio (`python3` on PATH), uvloop (Debian's
/usr/bin/python3 with python3-uvloop), cqueues (lua-cqueues), purelua (the
minimal pure-Lua FIFO scheduler of bench/purelua/) and bare (a plain
coroutine.resume/yield loop, for the two workloads it is the floor of). A
missing anchor is skipped with a note.

Environment:
  BENCH_RUNS=N        runs per measurement (default 7; 2 with BENCH_QUICK)
  BENCH_MEM_RUNS=N    runs of the memory workload, whose result does not
                      vary from run to run (default 1)
  BENCH_QUICK=1       smoke run: sizes divided by 10, 2 runs
  BENCH_ONLY=a,b      only these workloads (sleep0 lock event queue spawn
                      timer ex42 mem_event)
  BENCH_ANCHORS=a,b   only these anchors (corral asyncio uvloop cqueues
                      purelua bare)
  BENCH_COLD=1        no warm-up pass inside each program
  BENCH_LUA           Lua interpreter (default lua5.4)
  BENCH_PYTHON        python for asyncio (default python3 on PATH)
  BENCH_UVLOOP_PYTHON python for uvloop (default /usr/bin/python3)
  BENCH_TIMEOUT=S     per-process timeout in seconds (default 300)
  BENCH_STRICT=1      exit 1 when a target is missed or corral fails

Options:
  --update-results    also rewrite the machine and latest-table sections of
                      bench/RESULTS.md
  --json FILE         write every sample and median as JSON (default
                      build/bench/latest.json when build/ exists)
"""

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Workload:
    """One row of the table. `issue` holds the per-anchor numbers of issue 4
    (same unit as the RESULT line), `target` corral's target in that unit."""

    def __init__(self, key, label, unit, size, issue=None, target=None,
                 bare=False, program=None, deterministic=False,
                 absolute=False):
        self.key = key            # RESULT name
        self.label = label        # row label
        self.unit = unit          # "ns" per op, "total" ns, or "B"
        self.size = size          # SIZE argument (None: not a program)
        self.issue = issue or {}  # anchor -> value measured in issue 4
        self.target = target      # corral's target, or None (info row)
        self.bare = bare          # bare.lua measures it too
        self.program = program or key  # program that prints this RESULT
        self.deterministic = deterministic  # same value every run: measure
        #                                     in the first BENCH_MEM_RUNS only
        self.absolute = absolute  # judged by the absolute target and the
        #                           bare ratio, not by the anchors (memory)


WORKLOADS = [
    Workload("sleep0", "sleep(0) switch", "ns", 500000, bare=True,
             issue={"asyncio": 1786, "uvloop": 823, "cqueues": 433,
                    "purelua": 152, "bare": 72}, target=110),
    Workload("lock", "contended lock round, 2 tasks", "ns", 30000,
             issue={"asyncio": 6960, "uvloop": 4030, "cqueues": 1490,
                    "purelua": 620}, target=400),
    Workload("event", "Event broadcast, per waiter", "ns", 50000,
             issue={"asyncio": 4970, "uvloop": 3450, "cqueues": 1460,
                    "purelua": 640}, target=400),
    Workload("queue", "Queue(100) put + get, per item", "ns", 300000,
             issue={"asyncio": 773, "uvloop": 729, "cqueues": 226,
                    "purelua": 231}, target=150),
    Workload("spawn", "spawn + run + gather, per task (200k)", "ns", 200000,
             issue={"asyncio": 9600, "uvloop": 7200, "cqueues": 3200,
                    "purelua": 2400}, target=1500),
    Workload("timer", "timer task (100k sleeps <= 50 ms), per task", "ns",
             100000, issue={"asyncio": 28000, "uvloop": 20000,
                            "cqueues": 5500, "purelua": 4800}, target=3000),
    Workload("ex42", "tutorial ex_4_2 (10000 tasks, Lock), total", "total",
             10000, issue={"asyncio": 156e6, "uvloop": 99e6, "cqueues": 59e6,
                           "purelua": 26e6}, target=15e6),
    Workload("mem_event", "memory per task blocked on an Event", "B", 100000,
             bare=True, deterministic=True, absolute=True,
             issue={"asyncio": 1154, "uvloop": 1154, "cqueues": 1974,
                    "purelua": 1519, "bare": 1077}, target=1200),
    Workload("mem_event_rss", "  same, as resident set growth (info)", "B",
             None, bare=True, program="mem_event"),
]

ANCHOR_ORDER = ["corral", "asyncio", "uvloop", "cqueues", "purelua", "bare"]
# Anchors whose ratio to corral the issue's targets are stated against for
# times; bare is shown (the floor) but not counted. Memory (absolute=True)
# is judged by its absolute target and bare instead: byte counts do not
# drift with the machine, and the issue's anchor byte counts (cqueues 1974 B,
# purelua 1519 B) put the ratio targets below a bare coroutine's 1077 B when
# the anchors are measured here (1327 B, 1266 B).
COUNTED = {"asyncio", "uvloop", "cqueues", "purelua"}


def env_flag(name):
    return os.environ.get(name, "") not in ("", "0")


def probe(argv, env=None):
    """Run a short command; return (ok, stdout+stderr stripped)."""
    try:
        p = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    return p.returncode == 0, (p.stdout + p.stderr).strip()


class Anchor:
    """A runtime the workloads run on. `command` builds the argv of one
    measurement; `measures` says whether it has that workload at all."""

    def __init__(self, name):
        self.name = name
        self.available = False  # installed and working
        self.note = ""          # why not, when not
        self.version = ""       # for the machine section

    def command(self, workload, size):
        raise NotImplementedError

    def measures(self, workload):
        return True


class LuaAnchor(Anchor):
    """corral, purelua and cqueues: bench/corral/<w>.lua on a runtime chosen
    by BENCH_RT (corral's own module, or an adapter with corral's API)."""

    def __init__(self, name, lua, runtime, lua_path, cpath=None):
        super().__init__(name)
        self.lua = lua
        self.env = dict(os.environ)
        self.env["BENCH_RT"] = runtime
        self.env["LUA_PATH"] = lua_path
        if cpath:
            self.env["LUA_CPATH"] = cpath

    def command(self, workload, size):
        return [self.lua, os.path.join("bench", "corral", workload + ".lua"),
                str(size)]


class BareAnchor(Anchor):
    def __init__(self, lua):
        super().__init__("bare")
        self.lua = lua
        self.env = dict(os.environ, LUA_PATH=lua_path_for())

    def command(self, workload, size):
        return [self.lua, os.path.join("bench", "bare.lua"), workload,
                str(size)]

    def measures(self, workload):
        return workload.bare


class PythonAnchor(Anchor):
    def __init__(self, name, python, uvloop):
        super().__init__(name)
        self.python = python
        self.uvloop = uvloop
        self.env = dict(os.environ)

    def command(self, workload, size):
        argv = [self.python, os.path.join("bench", "asyncio", "workloads.py"),
                workload, str(size)]
        return argv + (["--uvloop"] if self.uvloop else [])


def lua_path_for(*dirs):
    parts = [os.path.join("bench", "lib", "?.lua")]
    parts += [os.path.join(d, "?.lua") for d in dirs]
    parts += [os.path.join("lua", "?.lua"), os.path.join("lua", "?", "init.lua")]
    return ";".join(parts) + ";;"


def snapshot_corral():
    """Copy build/corral.so to build/bench/so/, so that a rebuild during a
    run does not mix two builds in one table; returns the LUA_CPATH."""
    snapshot = os.path.join("build", "bench", "so")
    built = os.path.join(ROOT, "build", "corral.so")
    if os.path.exists(built):
        os.makedirs(os.path.join(ROOT, snapshot), exist_ok=True)
        shutil.copy2(built, os.path.join(ROOT, snapshot, "corral.so"))
    return os.path.join(snapshot, "?.so") + ";;"


def make_anchors():
    lua = os.environ.get("BENCH_LUA", "lua5.4")
    python = os.environ.get("BENCH_PYTHON") or shutil.which("python3") or "python3"
    uv_python = os.environ.get("BENCH_UVLOOP_PYTHON", "/usr/bin/python3")
    anchors = []

    a = LuaAnchor("corral", lua, "corral", lua_path_for(), snapshot_corral())
    if not os.path.exists(os.path.join(ROOT, "build", "corral.so")):
        a.note = "build/corral.so not found: run `make` first"
    else:
        ok, out = probe([lua, "-e", 'require "corral"'], a.env)
        a.available = ok
        a.note = "" if ok else "require 'corral' failed: " + out.splitlines()[0]
        ok, rev = probe(["git", "rev-parse", "--short", "HEAD"])
        _, dirty = probe(["git", "status", "--porcelain", "--", "csrc", "lua"])
        a.version = ("git " + rev if ok else "no commit yet") + (" + local changes" if dirty else "")
    anchors.append(a)

    a = PythonAnchor("asyncio", python, False)
    ok, out = probe([python, "-c", "import sys, asyncio; print(sys.version.split()[0])"])
    a.available, a.version = ok, (f"CPython {out} ({python})" if ok else "")
    a.note = "" if ok else f"{python} not usable"
    anchors.append(a)

    a = PythonAnchor("uvloop", uv_python, True)
    ok, out = probe([uv_python, "-c", "import sys, uvloop; "
                     "print(uvloop.__version__, sys.version.split()[0])"])
    if ok:
        uv_version, py_version = out.split()
        a.available = True
        a.version = f"uvloop {uv_version} on CPython {py_version} ({uv_python})"
    else:
        a.note = (f"uvloop not importable by {uv_python} "
                  "(apt-get install python3-uvloop)")
    anchors.append(a)

    a = LuaAnchor("cqueues", lua, "cqlib",
                  lua_path_for(os.path.join("bench", "cqueues")))
    ok, out = probe([lua, "-e", 'local c = require "cqueues" print(c.VERSION)'],
                    a.env)
    a.available, a.version = ok, ("cqueues " + out if ok else "")
    a.note = "" if ok else "cqueues not installed (apt-get install lua-cqueues)"
    anchors.append(a)

    a = LuaAnchor("purelua", lua, "purelua",
                  lua_path_for(os.path.join("bench", "purelua")))
    anchors.append(a)
    b = BareAnchor(lua)
    anchors.append(b)
    ok, out = probe([lua, "-v"])
    for x in (a, b):
        x.available = ok
        x.version = " ".join(out.split()[:2]) + (" (pure-Lua FIFO scheduler, bench/purelua)"
                                                  if x is a else " (bare resume/yield)")
        x.note = "" if ok else f"{lua} not found"
    ok, out = probe([lua, "-e", 'local ok = pcall(require, "system") '
                     'assert(ok, "lua-system (Debian lua-system) is missing")'])
    if not ok:
        print("note: lua-system is missing: Lua programs time with os.clock "
              "(CPU time), so timer workloads undercount", file=sys.stderr)

    wanted = os.environ.get("BENCH_ANCHORS")
    if wanted:
        keep = set(wanted.split(","))
        for x in anchors:
            if x.name not in keep and x.available:
                x.available, x.note = False, "left out by BENCH_ANCHORS"
    return anchors


def run_one(anchor, program, size, timeout):
    """Run one program; return ({result name: value}, error text or None)."""
    argv = anchor.command(program, size)
    try:
        p = subprocess.run(argv, cwd=ROOT, env=anchor.env, capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {}, f"timed out after {timeout} s: {' '.join(argv)}"
    except OSError as e:
        return {}, f"{e}: {' '.join(argv)}"
    values = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "RESULT":
            try:
                values[parts[1]] = float(parts[2])
            except ValueError:
                pass
    if p.returncode != 0 or not values:
        tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-3:]
        return values, f"exit {p.returncode}: " + " | ".join(tail)
    return values, None


def fmt_value(value, unit):
    if value is None:
        return "—"
    if unit == "B":
        return f"{value:.0f} B"
    if unit == "total":
        return f"{value / 1e6:.1f} ms"
    if value >= 1000:
        return f"{value / 1000:.2f} µs"
    return f"{value:.0f} ns"


def fmt_ratio(r):
    if r is None:
        return "—"
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x"


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i == 0 else "--:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def machine_info(anchors, runs, quick):
    def read(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""
    cpu = next((l.split(":", 1)[1].strip() for l in read("/proc/cpuinfo").splitlines()
                if l.startswith("model name")), platform.processor() or "?")
    mem = next((l.split()[1] for l in read("/proc/meminfo").splitlines()
                if l.startswith("MemTotal")), None)
    mem = f"{int(mem) / 1024 / 1024:.1f} GiB" if mem else "?"
    osname = next((l.split("=", 1)[1].strip('"') for l in read("/etc/os-release").splitlines()
                   if l.startswith("PRETTY_NAME")), platform.system())
    lines = [
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {cpu}, {os.cpu_count()} cores, {mem} RAM; "
        f"{osname}, Linux {platform.release()}",
        f"- runs: {runs} per cell (memory: {os.environ.get('BENCH_MEM_RUNS') or 1}), "
        "medians; interleaved; "
        f"{'BENCH_QUICK sizes (1/10)' if quick else 'full sizes'}; "
        f"{'cold (no warm-up pass)' if env_flag('BENCH_COLD') else 'one warm-up pass per process'}",
    ]
    for a in anchors:
        if a.available:
            lines.append(f"- {a.name}: {a.version}")
        else:
            lines.append(f"- {a.name}: skipped — {a.note}")
    return "\n".join(lines)


def main(argv):
    update = "--update-results" in argv
    json_path = None
    if "--json" in argv:
        json_path = argv[argv.index("--json") + 1]
    elif os.path.isdir(os.path.join(ROOT, "build")):
        json_path = os.path.join(ROOT, "build", "bench", "latest.json")

    quick = env_flag("BENCH_QUICK")
    runs = int(os.environ.get("BENCH_RUNS") or (2 if quick else 7))
    timeout = float(os.environ.get("BENCH_TIMEOUT") or 300)
    only = os.environ.get("BENCH_ONLY")
    only = set(only.split(",")) if only else None

    anchors = make_anchors()
    live = [a for a in anchors if a.available]
    for a in anchors:
        if not a.available:
            print(f"note: {a.name} skipped — {a.note}", file=sys.stderr)

    workloads = [w for w in WORKLOADS if only is None or w.program in only]
    mem_runs = int(os.environ.get("BENCH_MEM_RUNS") or 1)
    programs = []  # (program, size, runs) in table order, each once
    for w in workloads:
        if w.size is not None:
            size = max(1, w.size // 10) if quick else w.size
            programs.append((w.program, size, mem_runs if w.deterministic else runs))

    samples = {}  # (result name, anchor) -> [values]
    durations = {}  # (program, anchor) -> seconds spent, all runs
    errors = {}   # (program, anchor) -> message
    started = time.time()
    for r in range(runs):
        order = live[r % len(live):] + live[:r % len(live)] if live else []
        t0 = time.time()
        for program, size, program_runs in programs:
            if r >= program_runs:
                continue
            workload = next(w for w in workloads if w.program == program)
            for a in order:
                if not a.measures(workload) or (program, a.name) in errors:
                    continue
                t1 = time.time()
                values, err = run_one(a, program, size, timeout)
                durations[(program, a.name)] = durations.get((program, a.name), 0) + time.time() - t1
                if err:
                    errors[(program, a.name)] = err
                    print(f"error: {a.name} {program}: {err}", file=sys.stderr)
                for k, v in values.items():
                    samples.setdefault((k, a.name), []).append(v)
        print(f"run {r + 1}/{runs} done in {time.time() - t0:.0f} s",
              file=sys.stderr, flush=True)

    shown = [a for a in anchors if a.available or a.name == "corral"]
    names = [a.name for a in shown]
    med = {k: statistics.median(v) for k, v in samples.items()}

    def spread(key):
        v = samples.get(key)
        if not v or len(v) < 2:
            return ""
        m = statistics.median(v)
        return f" ±{(max(v) - min(v)) / 2 / m * 100:.0f}%" if m else ""

    # 1. medians
    rows = []
    for w in workloads:
        row = [w.label]
        for n in names:
            v = med.get((w.key, n))
            row.append(fmt_value(v, w.unit) + (spread((w.key, n)) if v is not None else ""))
        rows.append(row)
    t_medians = md_table(["workload"] + names, rows)

    # 2. ratios anchor / corral
    others = [n for n in names if n != "corral"]
    rows = []
    for w in workloads:
        c = med.get((w.key, "corral"))
        row = [w.label]
        for n in others:
            v = med.get((w.key, n))
            row.append(fmt_ratio(v / c) if (v is not None and c) else "—")
        rows.append(row)
    t_ratios = md_table(["workload"] + [f"{n} / corral" for n in others], rows)

    # 3. targets: corral / anchor <= target / issue anchor
    met = total = 0
    rows = []
    for w in workloads:
        if w.target is None:
            continue
        c = med.get((w.key, "corral"))
        row = [w.label]
        for n in others:
            issue = w.issue.get(n)
            v = med.get((w.key, n))
            if issue is None:
                row.append("—")
                continue
            need = w.target / issue
            if c is None or v is None:
                row.append(f"≤ {need:.3f}")
                continue
            have = c / v
            ok = have <= need
            if n in (("bare",) if w.absolute else COUNTED):
                total += 1
                met += ok
                mark = "PASS" if ok else "FAIL"
            else:
                mark = "info" + (" ok" if ok else "")
            row.append(f"{have:.3f} ≤ {need:.3f} {mark}")
        cell = f"{fmt_value(c, w.unit)} ≤ {fmt_value(w.target, w.unit)}"
        if c is None:
            pass
        elif w.absolute:
            total += 1
            met += c <= w.target
            cell += " PASS" if c <= w.target else " FAIL"
        elif c <= w.target:
            cell += " info ok"
        rows.append(row + [cell])
    t_targets = md_table(["workload"] + [f"corral/{n} (target)" for n in others]
                         + ["corral (absolute target)"], rows)

    info = machine_info(anchors, runs, quick)
    print()
    print(info)
    print(f"\nMedians of {runs} runs (± is half the range, in % of the median):\n")
    print(t_medians)
    print("\nRatio of every anchor to corral (> 1: corral is faster or smaller):\n")
    print(t_ratios)
    print("\nTargets of issue 4 as ratios: corral/anchor measured here must be at "
          "most target/anchor as measured in the issue. Times are judged by the "
          "four anchors (bare and the absolute time: info); memory, which does "
          "not drift, by its absolute target and the bare coroutine (anchors: "
          "info):\n")
    print(t_targets)
    notes = []
    if quick:
        notes.append("BENCH_QUICK: sizes are a tenth of the issue's, so ratios "
                     "(the timer row above all, where the 50 ms of waiting is "
                     "spread over 10k tasks) are a smoke test, not the targets.")
    c_gc, c_rss = med.get(("mem_event", "corral")), med.get(("mem_event_rss", "corral"))
    if c_gc and c_rss and c_rss > 1.25 * c_gc + 200:
        notes.append(f"corral's RSS growth per blocked task ({c_rss:.0f} B) is well above "
                     f"what the Lua allocator counts ({c_gc:.0f} B): memory outside "
                     "Lua's allocator is not in the mem_event row.")
    for (program, a), err in sorted(errors.items()):
        notes.append(f"{a} {program} failed: {err}")
    if not any(a.name == "corral" and a.available for a in anchors):
        notes.append("corral was not measured: " + anchors[0].note)
    if total:
        summary = f"targets met: {met} of {total}"
    else:
        summary = "targets met: not checked (corral not measured)"
    print()
    for n in notes:
        print("note: " + n)
    print(summary)
    print(f"(total {time.time() - started:.0f} s)")

    if json_path:
        os.makedirs(os.path.dirname(json_path), exist_ok=True)
        with open(json_path, "w") as f:
            json.dump({"runs": runs, "quick": quick, "machine": info,
                       "samples": {f"{k}/{a}": v for (k, a), v in samples.items()},
                       "medians": {f"{k}/{a}": v for (k, a), v in med.items()},
                       "errors": {f"{p}/{a}": e for (p, a), e in errors.items()},
                       "seconds": {f"{p}/{a}": t for (p, a), t in durations.items()},
                       "targets_met": met, "targets_total": total}, f, indent=1)

    if update:
        body = (f"{info}\n\nMedians of {runs} runs (± is half the range):\n\n{t_medians}\n\n"
                f"Ratio of every anchor to corral:\n\n{t_ratios}\n\n"
                f"Targets as ratios (corral/anchor here ≤ target/anchor in the issue; "
                f"times judged by the four anchors, memory by its absolute target and bare):\n\n"
                f"{t_targets}\n\n" + "".join(f"Note: {n}\n" for n in notes) + f"{summary}\n")
        replace_section(os.path.join(HERE, "RESULTS.md"), "latest", body)

    if env_flag("BENCH_STRICT") and (met < total or not total or errors):
        return 1
    return 0


def replace_section(path, name, body):
    """Replace the text between `<!-- bench:NAME:begin -->` and
    `<!-- bench:NAME:end -->` in `path`."""
    begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
    with open(path) as f:
        text = f.read()
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        print(f"note: {path} has no {begin} ... {end} section; not updated",
              file=sys.stderr)
        return
    text = text[:i + len(begin)] + "\n" + body.rstrip("\n") + "\n" + text[j:]
    with open(path, "w") as f:
        f.write(text)
    print(f"updated {os.path.relpath(path, ROOT)} ({name})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
