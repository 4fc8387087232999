#!/usr/bin/env python3
"""bench/scale.py: how corral's costs grow with the number of tasks.

Runs bench/corral/scale.lua at N = 10^3 .. 10^6 tasks for four series,
on corral and (for reference) on the pure-Lua scheduler of bench/purelua:

  switch  ns per sleep(0) switch with N tasks switching        (flat)
  spawn   ns per task to spawn, run and gather N tasks         (flat)
  timer   process CPU ns per task, N random sleeps <= 50 ms    (log n)
  mem     bytes per sleeping task (Lua allocator and RSS), and the peak
          RSS of the process (issue 4: 10^6 sleeping tasks < 1.5 GiB)

prints a table, writes bench/scale.svg (drawn here, no plotting library),
and with --update-results rewrites the scale section of bench/RESULTS.md.

Environment:
  SCALE_RUNS=N       runs per point below 10^6, median (default 3)
  SCALE_BIG_RUNS=N   runs per point at 10^6 (default 1: each takes seconds)
  SCALE_QUICK=1      N up to 10^5 only, one run
  SCALE_ANCHORS=a,b  runtimes to measure (default corral,purelua)

Options:
  --update-results   rewrite the scale section of bench/RESULTS.md
  --replot           draw again from build/bench/scale.json (the samples
                     of the last run) without measuring
  BENCH_LUA          Lua interpreter (default lua5.4)
"""

import json
import math
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import run as bench_run  # noqa: E402  (the driver's helpers)

SIZES = [1000, 3000, 10000, 30000, 100000, 300000, 1000000]
SERIES = ["switch", "spawn", "timer", "mem"]
RSS_LIMIT = 1.5 * 2**30  # issue 4: 10^6 sleeping tasks in under 1.5 GiB

RUNTIMES = {
    # name: (BENCH_RT, LUA_PATH dirs, LUA_CPATH)
    "corral": ("corral", [], None),  # LUA_CPATH: bench_run.snapshot_corral()
    "purelua": ("purelua", [os.path.join("bench", "purelua")], None),
    "cqueues": ("cqlib", [os.path.join("bench", "cqueues")], None),
}


def run_point(lua, runtime, series, n):
    """One process; returns ({result name: value}, error text or None)."""
    rt, dirs, cpath = RUNTIMES[runtime]
    env = dict(os.environ, BENCH_RT=rt, LUA_PATH=bench_run.lua_path_for(*dirs))
    if cpath:
        env["LUA_CPATH"] = cpath
    argv = [lua, os.path.join("bench", "corral", "scale.lua"), series, str(n)]
    try:
        p = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {}, str(e)
    values = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "RESULT":
            values[parts[1]] = float(parts[2])
    if p.returncode != 0 or not values:
        first = (p.stderr.strip().splitlines() or [""])[0]
        return values, f"exit {p.returncode}: {first[:300]}"
    return values, None


def fmt_bytes(b):
    if b is None:
        return "—"
    if b >= 2**30:
        return f"{b / 2**30:.2f} GiB"
    return f"{b / 2**20:.0f} MiB"


# ---- SVG, by hand --------------------------------------------------------

COLORS = {"switch": "#1f77b4", "spawn": "#2ca02c", "timer": "#d62728",
          "mem": "#9467bd", "mem_rss": "#ff7f0e"}
DASH = {"corral": "", "purelua": "6,4", "cqueues": "2,3"}


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def log10(x):
    return math.log10(x)


def nice_max(v):
    """A round number >= v for the top of an axis."""
    if v <= 0:
        return 1
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * e >= v:
            return m * e
    return 10 * e


def panel(x0, y0, w, h, title, ylabel, lines, sizes, yrange, yfmt, logy,
          per_column, refs=()):
    """One plot: x = log10 N; y linear from 0 to yrange[1], or logarithmic
    over yrange when logy. lines: [(label, color, dash, [(n, value)])]; the
    legend goes under the plot, per_column entries a column (one column a
    runtime); refs: [(value, label)] drawn as grey dashed lines. Returns SVG
    elements."""
    el = []
    lx0, lx1 = log10(sizes[0]), log10(sizes[-1])
    ylo, yhi = yrange

    def px(n):
        return x0 + (log10(n) - lx0) / (lx1 - lx0) * w

    def py(v):
        if logy:
            v = min(max(v, ylo), yhi)
            return y0 + h - (log10(v) - log10(ylo)) / (log10(yhi) - log10(ylo)) * h
        return y0 + h - min(v, yhi) / yhi * h

    el.append(f'<text x="{x0 + w / 2}" y="{y0 - 14}" text-anchor="middle" '
              f'font-size="14" font-weight="bold">{esc(title)}</text>')
    if logy:
        ticks = []
        for e in range(math.floor(log10(ylo)), math.ceil(log10(yhi)) + 1):
            ticks += [m * 10 ** e for m in (1, 2, 5) if ylo <= m * 10 ** e <= yhi]
    else:
        ticks = [yhi * i / 5 for i in range(6)]
    for v in ticks:
        y = py(v)
        el.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" '
                  f'stroke="#ddd"/>')
        el.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" '
                  f'font-size="11">{esc(yfmt(v))}</text>')
    for e in range(math.ceil(lx0), math.floor(lx1) + 1):
        x = px(10 ** e)
        el.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y0 + h}" '
                  f'stroke="#ddd"/>')
        el.append(f'<text x="{x:.1f}" y="{y0 + h + 16}" text-anchor="middle" '
                  f'font-size="11">10<tspan dy="-5" font-size="8">{e}</tspan></text>')
    for v, label in refs:
        y = py(v)
        el.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" '
                  f'stroke="#888" stroke-dasharray="3,3"/>')
        el.append(f'<text x="{x0 + w - 4}" y="{y - 4:.1f}" text-anchor="end" '
                  f'font-size="10" fill="#555">{esc(label)}</text>')
    el.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" '
              f'stroke="#333"/>')
    el.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 34}" text-anchor="middle" '
              f'font-size="12">tasks (N)</text>')
    el.append(f'<text x="{x0 - 56}" y="{y0 + h / 2}" text-anchor="middle" '
              f'font-size="12" transform="rotate(-90 {x0 - 56} {y0 + h / 2})">'
              f'{esc(ylabel)}</text>')
    for k, (label, color, dash, pts) in enumerate(lines):
        pts = [(n, v) for n, v in pts if v is not None]
        if not pts:
            continue
        d = " ".join(f"{'M' if i == 0 else 'L'}{px(n):.1f},{py(v):.1f}"
                     for i, (n, v) in enumerate(pts))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        el.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2"'
                  f'{dash_attr}/>')
        for n, v in pts:
            el.append(f'<circle cx="{px(n):.1f}" cy="{py(v):.1f}" r="2.5" '
                      f'fill="{color}"/>')
        lx = x0 + (k // per_column) * (w / 2)
        ly = y0 + h + 52 + (k % per_column) * 16
        el.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 24}" y2="{ly - 4}" '
                  f'stroke="{color}" stroke-width="2"{dash_attr}/>')
        el.append(f'<text x="{lx + 30}" y="{ly}" font-size="11">{esc(label)}</text>')
    return el


def write_svg(path, runtimes, sizes, med, note):
    legend_rows = 3
    width, height = 980, 420 + legend_rows * 16 + len(note) * 16
    el = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
          f'height="{height}" viewBox="0 0 {width} {height}" '
          f'font-family="sans-serif">',
          f'<rect width="{width}" height="{height}" fill="white"/>']
    time_lines, mem_lines = [], []
    tvals, mvals = [], []
    labels = {"switch": "sleep(0) switch", "spawn": "spawn+run+gather",
              "timer": "timer task (CPU)", "mem": "Lua allocator",
              "mem_rss": "RSS growth"}
    for rt in runtimes:
        for s in ("switch", "spawn", "timer"):
            pts = [(n, med.get((rt, s, n))) for n in sizes]
            tvals += [v for _, v in pts if v]
            time_lines.append((f"{rt}: {labels[s]}", COLORS[s], DASH[rt], pts))
        for s in ("mem", "mem_rss"):
            pts = [(n, med.get((rt, s, n))) for n in sizes]
            mvals += [v for _, v in pts if v]
            mem_lines.append((f"{rt}: {labels[s]}", COLORS[s], DASH[rt], pts))
    tlo = 10 ** math.floor(log10(min(tvals))) if tvals else 10
    thi = 10 ** math.ceil(log10(max(tvals))) if tvals else 1e5
    el += panel(90, 50, 370, 300, "Time per operation (log scale)",
                "ns per operation", time_lines, sizes, (tlo, thi),
                lambda v: f"{v / 1000:g} µs" if v >= 1000 else f"{v:g} ns", True, 3)
    el += panel(590, 50, 370, 300, "Memory per sleeping task",
                "bytes per task", mem_lines, sizes,
                (0, nice_max(max(mvals + [RSS_LIMIT / 1e6]) * 1.15)),
                lambda v: f"{v:.0f} B", False, 2,
                [(RSS_LIMIT / 1e6, "1.5 GiB / 10^6 tasks")])
    y = 420 + legend_rows * 16
    for line in note:
        el.append(f'<text x="90" y="{y}" font-size="12">{esc(line)}</text>')
        y += 16
    el.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(el) + "\n")


def measure(lua, runtimes, sizes, runs, big_runs, started):
    """Every point: {(runtime, result name, N): [values]}, {(runtime,
    series, N): error}."""
    samples, errors = {}, {}
    for n in sizes:
        for _ in range(runs if n < 1000000 else big_runs):
            for rt in runtimes:
                for s in SERIES:
                    if (rt, s, n) in errors:
                        continue
                    values, err = run_point(lua, rt, s, n)
                    if err:
                        errors[(rt, s, n)] = err
                        print(f"error: {rt} {s} {n}: {err}", file=sys.stderr)
                    for k, v in values.items():
                        samples.setdefault((rt, k, n), []).append(v)
        print(f"N={n} done ({time.time() - started:.0f} s)", file=sys.stderr, flush=True)
    return samples, errors


def main(argv):
    lua = os.environ.get("BENCH_LUA", "lua5.4")
    quick = bench_run.env_flag("SCALE_QUICK")
    sizes = [n for n in SIZES if n <= 100000] if quick else SIZES
    runs = 1 if quick else int(os.environ.get("SCALE_RUNS") or 3)
    big_runs = int(os.environ.get("SCALE_BIG_RUNS") or 1)
    runtimes = (os.environ.get("SCALE_ANCHORS") or "corral,purelua").split(",")
    if "corral" in runtimes and not os.path.exists(os.path.join(ROOT, "build", "corral.so")):
        print("note: build/corral.so not found (run `make`): corral skipped",
              file=sys.stderr)
        runtimes.remove("corral")
    if not runtimes:
        return 1

    data_path = os.path.join(ROOT, "build", "bench", "scale.json")
    started = time.time()
    date = time.strftime("%Y-%m-%d")
    if "--replot" in argv:
        with open(data_path) as f:
            data = json.load(f)
        runtimes, sizes, runs = data["runtimes"], data["sizes"], data["runs"]
        big_runs, date = data["big_runs"], data["date"]
        samples = {tuple(k.split("/")[:2]) + (int(k.split("/")[2]),): v
                   for k, v in data["samples"].items()}
        errors = {tuple(k.split("/")[:2]) + (int(k.split("/")[2]),): v
                  for k, v in data["errors"].items()}
    else:
        if "corral" in runtimes:
            RUNTIMES["corral"] = ("corral", [], bench_run.snapshot_corral())
        samples, errors = measure(lua, runtimes, sizes, runs, big_runs, started)
        os.makedirs(os.path.dirname(data_path), exist_ok=True)
        with open(data_path, "w") as f:
            json.dump({"runtimes": runtimes, "sizes": sizes, "runs": runs,
                       "big_runs": big_runs, "date": date,
                       "samples": {f"{a}/{b}/{c}": v for (a, b, c), v in samples.items()},
                       "errors": {f"{a}/{b}/{c}": v for (a, b, c), v in errors.items()}},
                      f, indent=1)

    med = {k: statistics.median(v) for k, v in samples.items()}
    peak = {(rt, n): max(v) for (rt, k, n), v in samples.items() if k == "peak_rss"}

    header = ["N"]
    for rt in runtimes:
        header += [f"{rt} switch", f"{rt} spawn", f"{rt} timer (CPU)",
                   f"{rt} B/task", f"{rt} RSS B/task", f"{rt} peak RSS (asleep)"]
    rows = []
    for n in sizes:
        row = [f"{n:,}"]
        for rt in runtimes:
            for s in ("switch", "spawn", "timer"):
                row.append(bench_run.fmt_value(med.get((rt, s, n)), "ns"))
            for s in ("mem", "mem_rss"):
                row.append(bench_run.fmt_value(med.get((rt, s, n)), "B"))
            row.append(fmt_bytes(peak.get((rt, n))))
        rows.append(row)
    table = bench_run.md_table(header, rows)

    note = []
    top = sizes[-1]
    for rt in runtimes:
        p = peak.get((rt, top))
        if p:
            verdict = ("under" if p < RSS_LIMIT else "OVER") + " the 1.5 GiB limit"
            note.append(f"{rt}: peak RSS with {top:,} sleeping tasks: "
                        f"{fmt_bytes(p)} ({verdict if top == 1000000 else 'limit is for 10^6'})")
        for s in ("switch", "spawn"):
            lo, hi = med.get((rt, s, sizes[0])), med.get((rt, s, top))
            if lo and hi:
                note.append(f"{rt}: {s} at N={top:,} costs {hi / lo:.2f}x its N={sizes[0]:,} value")
    for (rt, s, n), err in sorted(errors.items()):
        note.append(f"{rt} {s} N={n} failed: {err}")

    svg = os.path.join(HERE, "scale.svg")
    write_svg(svg, runtimes, sizes, med,
              [f"{date}; medians of {runs} runs ({big_runs} at 10^6); "
               "solid: corral, dashed: pure-Lua FIFO scheduler"]
              + [n for n in note if "peak RSS" in n])
    print(table)
    print()
    for line in note:
        print("note: " + line)
    print(f"wrote {os.path.relpath(svg, ROOT)} ({time.time() - started:.0f} s)")

    if "--update-results" in argv:
        body = (f"Measured {date}, medians of {runs} runs "
                f"({big_runs} at 10^6), `python3 bench/scale.py`:\n\n{table}\n\n"
                + "".join(f"- {n}\n" for n in note))
        bench_run.replace_section(os.path.join(HERE, "RESULTS.md"), "scale", body)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
