#!/usr/bin/env python3
"""Run generated programs on asyncio (Python 3.13) and corral, compare.

  run.py [--from N] [--to M] [--jobs J] [--out DIR]
      runs seeds N..M-1, prints a summary, writes each differing seed's
      two programs and outputs under DIR (default /tmp/corral-fuzz).
  run.py --min SEED [--out DIR]
      shrinks the program of SEED while the outputs still differ and writes
      DIR/min_SEED.{py,lua,pyout,luaout}.
      With --dead: shrink a program asyncio deadlocks on and corral does not
      end with DEADLOCK at the same point.
  run.py --case SEED NAME
      writes spec/fuzz/cases/NAME.lua and NAME.expected (asyncio's output).
  run.py --case-min SEED NAME [--dead] [--wf0]
      shrinks SEED as --min does and writes the result as a case.
  run.py --pick N --from A --to B
      writes N passing seeds of A..B-1 as cases case_SEED, chosen to cover
      the most generator features (op kinds, primitive kinds, modes).
  --no-msgs   no cancel(msg) (the message comparisons are the noisiest part)
  --wf0       also generate wait_for(function, 0) (corral differs, see README)

Run from the repository root.  Environment: PY313 (the Python 3.13 to run,
default /root/.pyenv/versions/3.13.0/bin/python3.13), CORRAL (the runner,
default build/corral; use a copy if the build may change under you).
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


def deadlocked(py):
    """asyncio hung (nothing ready, no timer): corral must at least agree
    on everything before that point."""
    return py[0].endswith('DEADLOCK\n')


def differs(py, lua):
    if deadlocked(py):
        return not lua[0].startswith(py[0][:-len('DEADLOCK\n')])
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
    if prog.ticker:
        for n in (0, prog.ticker // 2, prog.ticker - 1):
            if n != prog.ticker:
                p = copy.deepcopy(prog)
                p.ticker = n
                yield p
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


def dead_mismatch(py, lua):
    return deadlocked(py) and py[0] != lua[0] and not differs(py, lua)


def shrink(prog, pred=differs):
    py, lua = run_prog(prog)
    assert pred(py, lua)
    improved = True
    while improved:
        improved = False
        for cand in candidates(prog):
            cpy, clua = run_prog(cand)
            if pred(cpy, clua) and (cpy[2] == 0) == (py[2] == 0):
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


CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cases')


def write_case(name, prog, py, note=None):
    os.makedirs(CASES, exist_ok=True)
    src = gen.emit_lua(prog)
    if note:
        first, rest = src.split('\n', 1)
        src = first + '\n-- ' + note + '\n' + rest
    with open(os.path.join(CASES, name + '.lua'), 'w') as f:
        f.write(src)
    with open(os.path.join(CASES, name + '.expected'), 'w') as f:
        f.write(py[0])


def features(prog):
    fs = set()
    for pr in prog.prims:
        fs.add('prim:' + pr['kind'])
        if pr['kind'] == 'queue':
            fs.add('queue:%s:%s' % (pr['qkind'], 'bounded' if pr['maxsize'] else 'unbounded'))
        if pr['kind'] == 'sem':
            fs.add('sem:bounded' if pr['bounded'] else 'sem:plain')
        if pr['kind'] == 'cond' and pr['lock']:
            fs.add('cond:shared-lock')
    for lst in op_lists(prog):
        for op in lst:
            fs.add('op:' + op['k'])
            if op['k'] in ('children', 'wait'):
                fs.add('%s:%s' % (op['k'], op.get('mode') or op.get('when')))
            if op['k'] in ('timeout', 'waitfor_task') and op['d'] == 0:
                fs.add(op['k'] + ':0')
    return fs


def pick(lo, hi, n, jobs):
    ok = []
    with ThreadPoolExecutor(jobs) as ex:
        for seed, prog, py, lua in ex.map(check_seed, range(lo, hi)):
            if (py[2] == 0 and not differs(py, lua) and not deadlocked(py) and py[0].count('\n') < 80
                    and gen.emit_lua(prog).count('\n') < 400):
                ok.append((seed, prog, py))
    chosen, covered = [], set()
    while len(chosen) < n and ok:
        best = max(ok, key=lambda x: (len(features(x[1]) - covered), -x[0]))
        if not features(best[1]) - covered:
            break
        chosen.append(best)
        covered |= features(best[1])
        ok.remove(best)
    step = max(1, len(ok) // max(1, n - len(chosen)))
    chosen += ok[::step][:n - len(chosen)]
    for seed, prog, py in sorted(chosen, key=lambda x: x[0]):
        write_case('case_%04d' % seed, prog, py)
        print('case_%04d' % seed, len(features(prog)), 'features')
    print('covered:', ' '.join(sorted(covered)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--from', dest='lo', type=int, default=0)
    ap.add_argument('--to', dest='hi', type=int, default=200)
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 4)
    ap.add_argument('--out', default='/tmp/corral-fuzz')
    ap.add_argument('--min', type=int)
    ap.add_argument('--dead', action='store_true',
                    help='with --min: shrink a program asyncio deadlocks on and corral does not')
    ap.add_argument('--case', nargs=2, metavar=('SEED', 'NAME'))
    ap.add_argument('--case-min', nargs=2, metavar=('SEED', 'NAME'),
                    help='shrink SEED (a differing one) and write it as a case')
    ap.add_argument('--pick', type=int, metavar='N',
                    help='choose N passing seeds in --from..--to covering the most features, write them as cases')
    ap.add_argument('--no-msgs', action='store_true', help='no cancel messages')
    ap.add_argument('--wf0', action='store_true',
                    help='let wait_for(function, 0) be generated (corral differs, see REPORT)')
    a = ap.parse_args()
    if a.wf0:
        gen.WF_FN_DURS = [0] + gen.WF_FN_DURS
    if a.no_msgs:
        gen.CANCEL_MSGS = False
    if a.case_min:
        seed, name = int(a.case_min[0]), a.case_min[1]
        prog, py, lua = shrink(gen.generate(seed), dead_mismatch if a.dead else differs)
        write_case(name, prog, py, 'then shrunk by run.py --case-min%s%s; the expected output is asyncio\'s'
                   % (' --dead' if a.dead else '', ' --wf0' if a.wf0 else ''))
        print(name, 'written (corral differs)')
        return
    if a.pick:
        pick(a.lo, a.hi, a.pick, a.jobs)
        return
    if a.case:
        seed, name = int(a.case[0]), a.case[1]
        prog = gen.generate(seed)
        py, lua = run_prog(prog)
        assert py[2] == 0, py
        write_case(name, prog, py)
        print(name, 'pass' if not differs(py, lua) else 'DIFFERS')
        return
    if a.min is not None:
        prog = gen.generate(a.min)
        prog, py, lua = shrink(prog, dead_mismatch if a.dead else differs)
        write(a.out, 'min_%d' % a.min, prog, py, lua)
        print(gen.emit_lua(prog))
        print('--- asyncio:\n' + py[0] + '--- corral:\n' + lua[0] + lua[1])
        return
    bad = []
    pyfail = []
    dead = []
    dead_other = []
    with ThreadPoolExecutor(a.jobs) as ex:
        for seed, prog, py, lua in ex.map(check_seed, range(a.lo, a.hi)):
            if py[2] != 0:
                pyfail.append(seed)
                write(a.out, 'pyfail_%d' % seed, prog, py, lua)
            elif differs(py, lua):
                bad.append(seed)
                write(a.out, 'diff_%d' % seed, prog, py, lua)
            elif deadlocked(py):
                dead.append(seed)
                if py[0] != lua[0]:
                    dead_other.append(seed)
                    write(a.out, 'dead_%d' % seed, prog, py, lua)
    print('seeds %d..%d: %d ran, %d differ, %d python failures'
          % (a.lo, a.hi - 1, a.hi - a.lo, len(bad), len(pyfail)))
    if bad:
        print('differ:', ' '.join(map(str, bad)))
    if dead:
        print('%d deadlocked on asyncio; corral said otherwise after the same prefix: %s'
              % (len(dead), ' '.join(map(str, dead_other))))
    if pyfail:
        print('python failures:', ' '.join(map(str, pyfail)))


if __name__ == '__main__':
    main()
