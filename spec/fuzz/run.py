#!/usr/bin/env python3
"""Run generated programs on asyncio (Python 3.13) and corral, compare.

  run.py [--from N] [--to M] [--jobs J] [--out DIR]
      runs seeds N..M-1, prints a summary, writes each differing seed's
      two programs and outputs under DIR (default /tmp/corral-fuzz).
  run.py --min SEED [--out DIR]
      shrinks the program of SEED while the outputs still differ and writes
      DIR/min_SEED.{py,lua,pyout,luaout}.
  run.py --case SEED NAME
      writes spec/fuzz/cases/NAME.lua and NAME.expected (asyncio's output).

Run from the repository root (uses build/corral).
"""
import argparse
import copy
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

PY = os.environ.get('PY313', '/root/.pyenv/versions/3.13.0/bin/python3.13')
CORRAL = os.environ.get('CORRAL', 'build/corral')


def run_src(cmd, src, suffix):
    with tempfile.NamedTemporaryFile('w', suffix=suffix, delete=False) as f:
        f.write(src)
        path = f.name
    try:
        p = subprocess.run(cmd + [path], capture_output=True, text=True, timeout=20)
        return p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired:
        return 'TIMEOUT\n', '', -1
    finally:
        os.unlink(path)


def run_prog(prog):
    py = run_src([PY], gen.emit_py(prog), '.py')
    lua = run_src([CORRAL], gen.emit_lua(prog), '.lua')
    return py, lua


def differs(py, lua):
    return py[0] != lua[0] or py[2] != lua[2] or py[2] != 0


def check_seed(seed):
    prog = gen.generate(seed)
    py, lua = run_prog(prog)
    return seed, prog, py, lua


# ---------------------------------------------------------------------------
# shrinking: remove ops, unwrap compound ops, empty workers, drop prims' uses


def op_lists(prog):
    """Every op list of the program (mutable references)."""
    out = [prog.main]
    for _, ops in prog.workers:
        out.append(ops)

    def walk(ops):
        for op in ops:
            if 'body' in op:
                out.append(op['body'])
                walk(op['body'])
            for kid in op.get('kids', []) + ([op['kid']] if 'kid' in op else []):
                out.append(kid['body'])
                walk(kid['body'])
    walk(prog.main)
    for _, ops in prog.workers:
        walk(ops)
    return out


def candidates(prog):
    """Yield smaller variants of prog."""
    # drop whole workers' ops
    for wi in range(len(prog.workers)):
        if prog.workers[wi][1]:
            p = copy.deepcopy(prog)
            p.workers[wi] = (p.workers[wi][0], [])
            yield p
    n = len(op_lists(prog))
    for li in range(n):
        lst = op_lists(prog)[li]
        for oi in range(len(lst)):
            # remove op
            p = copy.deepcopy(prog)
            del op_lists(p)[li][oi]
            yield p
            op = lst[oi]
            # unwrap compound op into its body
            if 'body' in op and op['k'] not in ('group',):
                p = copy.deepcopy(prog)
                L = op_lists(p)[li]
                L[oi:oi + 1] = copy.deepcopy(op['body'])
                yield p
            # drop kids one at a time, or their raise flag
            for ki in range(len(op.get('kids', []))):
                if len(op['kids']) > 1:
                    p = copy.deepcopy(prog)
                    del op_lists(p)[li][oi]['kids'][ki]
                    yield p
                if op['kids'][ki]['raise']:
                    p = copy.deepcopy(prog)
                    op_lists(p)[li][oi]['kids'][ki]['raise'] = False
                    yield p
            if op.get('d') not in (None, 0) and op['k'] == 'sleep':
                p = copy.deepcopy(prog)
                op_lists(p)[li][oi]['k'] = 'sleep0'
                yield p
    # trailing empty workers
    if prog.workers and not prog.workers[-1][1]:
        used = set()
        for lst in op_lists(prog):
            for op in lst:
                if op['k'] in ('cancel', 'awaitw'):
                    used.add(op['t'])
        if len(prog.workers) not in used:
            p = copy.deepcopy(prog)
            p.workers.pop()
            yield p


def size(prog):
    return sum(len(l) for l in op_lists(prog)) + len(prog.workers)


def shrink(prog, same_kind=None):
    py, lua = run_prog(prog)
    assert differs(py, lua)
    improved = True
    while improved:
        improved = False
        for cand in candidates(prog):
            cpy, clua = run_prog(cand)
            if differs(cpy, clua) and (cpy[2] == 0) == (py[2] == 0):
                prog, py, lua = cand, cpy, clua
                improved = True
                print('  size', size(prog), file=sys.stderr)
                break
    return prog, py, lua


def write(out, name, prog, py, lua):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name + '.py'), 'w') as f:
        f.write(gen.emit_py(prog))
    with open(os.path.join(out, name + '.lua'), 'w') as f:
        f.write(gen.emit_lua(prog))
    with open(os.path.join(out, name + '.pyout'), 'w') as f:
        f.write(py[0] + ('' if py[2] == 0 else '\n-- rc %d\n%s' % (py[2], py[1])))
    with open(os.path.join(out, name + '.luaout'), 'w') as f:
        f.write(lua[0] + ('' if lua[2] == 0 else '\n-- rc %d\n%s' % (lua[2], lua[1])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--from', dest='lo', type=int, default=0)
    ap.add_argument('--to', dest='hi', type=int, default=200)
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 4)
    ap.add_argument('--out', default='/tmp/corral-fuzz')
    ap.add_argument('--min', type=int)
    ap.add_argument('--case', nargs=2)
    a = ap.parse_args()
    if a.case:
        seed, name = int(a.case[0]), a.case[1]
        prog = gen.generate(seed)
        py, lua = run_prog(prog)
        assert py[2] == 0, py
        d = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cases')
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name + '.lua'), 'w') as f:
            f.write(gen.emit_lua(prog))
        with open(os.path.join(d, name + '.expected'), 'w') as f:
            f.write(py[0])
        print(name, 'pass' if not differs(py, lua) else 'DIFFERS')
        return
    if a.min is not None:
        prog = gen.generate(a.min)
        prog, py, lua = shrink(prog)
        write(a.out, 'min_%d' % a.min, prog, py, lua)
        print(gen.emit_lua(prog))
        print('--- asyncio:\n' + py[0] + '--- corral:\n' + lua[0] + lua[1])
        return
    bad = []
    pyfail = []
    with ThreadPoolExecutor(a.jobs) as ex:
        for seed, prog, py, lua in ex.map(check_seed, range(a.lo, a.hi)):
            if py[2] != 0:
                pyfail.append(seed)
                write(a.out, 'pyfail_%d' % seed, prog, py, lua)
            elif differs(py, lua):
                bad.append(seed)
                write(a.out, 'diff_%d' % seed, prog, py, lua)
    print('seeds %d..%d: %d ran, %d differ, %d python failures'
          % (a.lo, a.hi - 1, a.hi - a.lo, len(bad), len(pyfail)))
    if bad:
        print('differ:', ' '.join(map(str, bad)))
    if pyfail:
        print('python failures:', ' '.join(map(str, pyfail)))


if __name__ == '__main__':
    main()
