#!/usr/bin/env python3
"""Differential-testing program generator: corral (Lua) vs asyncio (Python 3.13).

From a seed, builds one random concurrent program as a small tree of
operations and emits it twice: as a Python asyncio script and as a Lua
script for build/corral.  Both print the same event log line by line, so
their stdout must be identical.

Time: both sides run on a virtual clock.  The Python side uses an event
loop whose selector advances a virtual time instead of sleeping, and whose
timers are ordered by (deadline, creation sequence) -- asyncio's heap leaves
the order of equal deadlines unspecified, corral (SEMANTICS.md) makes it
FIFO.  All durations are multiples of 1/8 s, so every deadline is exact in
binary floating point on both sides.

Usage:
  gen.py SEED py|lua            print one form
  gen.py SEED both DIR          write DIR/SEED.py and DIR/SEED.lua
The program tree is also available to other tools: gen.generate(seed) ->
Program, emit_py(prog), emit_lua(prog).
"""
import copy
import random
import sys

# ---------------------------------------------------------------------------
# program model
#
# A program: primitives, workers (each a list of ops), main's ops.
# An op is a dict with key 'k' (kind) and parameters; compound ops carry
# 'body' (list of ops) and/or 'kids' (list of child specs
# {'label', 'body', 'raise'}).


class Program:
    def __init__(self, seed):
        self.seed = seed
        self.prims = []      # dicts: {'name', 'kind', ...}
        self.workers = []    # list of (label, ops)
        self.main = []       # ops run by main after spawning the workers

    def names(self, kind):
        return [p['name'] for p in self.prims if p['kind'] == kind]

    def prim(self, name):
        for p in self.prims:
            if p['name'] == name:
                return p
        raise KeyError(name)


DURS = [0.125, 0.25, 0.375, 0.5]
# wait_for(function, 0): asyncio runs the coroutine as a task it cancels and
# waits for (3 loop iterations); corral raises at once -- see REPORT.
WF_FN_DURS = [0.125, 0.25, 0.5, None]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.p = Program(seed)
        self.nchild = 0
        self.nitem = 0

    # --- primitives -------------------------------------------------------
    def make_prims(self):
        r, p = self.r, self.p
        kinds = ['lock', 'event', 'sem', 'cond', 'queue', 'barrier']
        chosen = r.sample(kinds, r.randint(1, 4))
        for k in chosen:
            for i in range(1, (2 if r.random() < 0.3 else 1) + 1):
                if k == 'lock':
                    p.prims.append({'name': 'L%d' % i, 'kind': 'lock'})
                elif k == 'event':
                    p.prims.append({'name': 'E%d' % i, 'kind': 'event'})
                elif k == 'sem':
                    p.prims.append({'name': 'S%d' % i, 'kind': 'sem',
                                    'value': r.randint(1, 3),
                                    'bounded': r.random() < 0.5})
                elif k == 'cond':
                    share = None
                    if r.random() < 0.3:
                        share = 'CL%d' % i
                    p.prims.append({'name': 'C%d' % i, 'kind': 'cond', 'lock': share})
                elif k == 'queue':
                    p.prims.append({'name': 'Q%d' % i, 'kind': 'queue',
                                    'qkind': r.choice(['fifo', 'fifo', 'lifo', 'prio']),
                                    'maxsize': r.choice([0, 0, 1, 2, 3])})
                elif k == 'barrier':
                    p.prims.append({'name': 'B%d' % i, 'kind': 'barrier',
                                    'parties': r.randint(2, 3)})

    def item(self):
        self.nitem += 1
        if self.r.random() < 0.3:
            return self.r.randint(1, 9)
        return self.nitem * 10 + self.r.randint(0, 9)

    # --- operations -------------------------------------------------------
    def simple_op(self, in_main):
        """One leaf op using the program's primitives."""
        r, p = self.r, self.p
        opts = [('sleep0', 3), ('sleep', 3)]
        for pr in p.prims:
            n, k = pr['name'], pr['kind']
            if k == 'event':
                opts += [(('evwait', n), 1 if in_main else 3), (('evset', n), 3), (('evclear', n), 1)]
            elif k == 'cond':
                opts += [(('condwait', n), 0 if in_main else 2), (('condwaitfor', n), 0 if in_main else 2),
                         (('condnotify', n), 3)]
            elif k == 'queue':
                opts += [(('qput', n), 1 if in_main else 3), (('qget', n), 0 if in_main else 3),
                         (('qputnw', n), 2), (('qgetnw', n), 2),
                         (('qtaskdone', n), 2), (('qjoin', n), 0 if in_main else 1),
                         (('qshutdown', n), 0.3)]
            elif k == 'barrier':
                opts += [(('bwait', n), 0 if in_main else 4), (('babort', n), 0.5), (('breset', n), 0.5)]
            elif k == 'sem':
                opts += [(('semrel', n), 0.5)]
        if in_main:
            opts += [('cancel', 1), ('cancelany', 0.5)]
        elif len(p.workers) > 1:
            opts += [('cancel', 1.5), ('cancelany', 1)]
        tot = sum(w for _, w in opts)
        x = r.random() * tot
        for o, w in opts:
            x -= w
            if x <= 0:
                break
        if isinstance(o, str):
            kind, name = o, None
        else:
            kind, name = o
        op = {'k': kind}
        if name:
            op['p'] = name
        if kind == 'sleep':
            op['d'] = r.choice(DURS)
        elif kind in ('qput', 'qputnw'):
            op['item'] = self.item()
        elif kind == 'condnotify':
            op['n'] = r.choice([1, 1, 2, 'all'])
        elif kind == 'condwaitfor':
            op['n'] = r.randint(1, 3)
        elif kind == 'qshutdown':
            op['imm'] = r.random() < 0.5
        elif kind == 'cancel':
            op['t'] = r.randint(1, len(p.workers))
        elif kind == 'cancelany':
            op['i'] = r.randint(1, len(p.workers) + 4)
        return op

    def ops(self, depth, n, me_worker=None, in_main=False):
        out = []
        for _ in range(n):
            out.append(self.op(depth, me_worker, in_main))
        return out

    def kid(self, depth, can_raise=True):
        self.nchild += 1
        label = 'c%d' % self.nchild
        body = self.ops(depth + 1, self.r.randint(0, 3))
        return {'label': label, 'body': body,
                'raise': can_raise and self.r.random() < 0.3}

    def op(self, depth, me_worker, in_main):
        r, p = self.r, self.p
        if depth >= 3 or r.random() < 0.55:
            op = self.simple_op(in_main)
            if op['k'] == 'cancel' and me_worker is not None and op['t'] == me_worker and r.random() < 0.7:
                op['t'] = (op['t'] % len(p.workers)) + 1
            return op
        comp = [('catch', 3), ('timeout', 2), ('waitfor_fn', 1.5), ('waitfor_task', 1),
                ('children', 2), ('group', 1.5), ('raise', 0.4 if not in_main else 0)]
        for pr in p.prims:
            if pr['kind'] in ('lock', 'sem', 'cond'):
                comp.append((('with', pr['name']), 3))
        if me_worker is not None and len(p.workers) > 1:
            comp.append(('awaitw', 0.7))
        tot = sum(w for _, w in comp)
        x = r.random() * tot
        for o, w in comp:
            x -= w
            if x <= 0:
                break
        if isinstance(o, tuple):
            return {'k': 'with', 'p': o[1], 'body': self.ops(depth + 1, r.randint(0, 3), me_worker, in_main)}
        k = o
        if k == 'catch':
            return {'k': 'catch', 'uncancel': r.random() < 0.3,
                    'body': self.ops(depth + 1, r.randint(1, 3), me_worker, in_main)}
        if k == 'timeout':
            return {'k': 'timeout', 'd': r.choice([0] + DURS),
                    'body': self.ops(depth + 1, r.randint(1, 3), me_worker, in_main)}
        if k == 'waitfor_fn':
            return {'k': 'waitfor_fn', 'd': r.choice(WF_FN_DURS),
                    'body': self.ops(depth + 1, r.randint(1, 3), me_worker, in_main)}
        if k == 'waitfor_task':
            return {'k': 'waitfor_task', 'd': r.choice([0, 0.125, 0.25, 0.5]),
                    'kid': self.kid(depth)}
        if k == 'children':
            return {'k': 'children', 'mode': r.choice(['await', 'gather', 'gather_rx', 'gather_fn']),
                    'kids': [self.kid(depth) for _ in range(r.randint(1, 3))]}
        if k == 'group':
            return {'k': 'group', 'kids': [self.kid(depth) for _ in range(r.randint(1, 3))],
                    'body': self.ops(depth + 1, r.randint(0, 2), me_worker, in_main)}
        if k == 'raise':
            return {'k': 'raise'}
        if k == 'awaitw':
            t = r.randint(1, len(p.workers))
            if t == me_worker:
                t = (t % len(p.workers)) + 1
            return {'k': 'awaitw', 't': t}
        raise AssertionError(k)

    def generate(self):
        r, p = self.r, self.p
        self.make_prims()
        nw = r.randint(2, 5)
        p.workers = [('t%d' % i, None) for i in range(1, nw + 1)]
        for i in range(1, nw + 1):
            p.workers[i - 1] = ('t%d' % i, self.ops(0, r.randint(1, 5), me_worker=i))
        p.main = self.ops(1, r.randint(0, 5), in_main=True)
        if r.random() < 0.85:
            p.main.append({'k': 'sleep', 'd': 5})
        return p


def generate(seed):
    return Gen(seed).generate()


def fmt_num(x):
    if x is None:
        return None
    s = repr(float(x))
    if s.endswith('.0'):
        s = s[:-2]
    return s

# ---------------------------------------------------------------------------
# Python emitter


PY_PRELUDE = r'''import asyncio, heapq, os, selectors, sys

class Boom(Exception):
    pass

_SEQ = [0]

class _Timer(asyncio.TimerHandle):
    __slots__ = ('_seq',)
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        _SEQ[0] += 1
        self._seq = _SEQ[0]
    def __lt__(self, o):
        return (self._when, self._seq) < (o._when, o._seq)

class _VSel(selectors.DefaultSelector):
    def select(self, timeout=None):
        if timeout is None:
            print("DEADLOCK")
            sys.stdout.flush()
            os._exit(0)
        if timeout > 0:
            self.vloop._vt += timeout
        return super().select(0)

class _VLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        self._vt = 0.0
        sel = _VSel()
        sel.vloop = self
        super().__init__(sel)
    def time(self):
        return self._vt
    def call_at(self, when, callback, *args, context=None):
        t = _Timer(when, callback, args, self, context)
        heapq.heappush(self._scheduled, t)
        t._scheduled = True
        return t

def log(s):
    print(s)

def now():
    return '%g' % asyncio.get_running_loop().time()

def ename(e):
    if isinstance(e, Boom): return 'Boom'
    if isinstance(e, asyncio.CancelledError): return 'CancelledError'
    if isinstance(e, TimeoutError): return 'TimeoutError'
    if isinstance(e, asyncio.BrokenBarrierError): return 'BrokenBarrierError'
    if isinstance(e, asyncio.QueueShutDown): return 'QueueShutDown'
    if isinstance(e, asyncio.QueueEmpty): return 'QueueEmpty'
    if isinstance(e, asyncio.QueueFull): return 'QueueFull'
    if isinstance(e, BaseExceptionGroup): return 'GroupError'
    if isinstance(e, (ValueError, RuntimeError)): return 'misuse'
    return 'other:' + type(e).__name__

def fmt(v):
    if isinstance(v, BaseException): return 'E:' + ename(v)
    return str(v)

def state(t):
    if t.cancelled(): return 'cancelled'
    if t.exception() is not None: return 'error ' + ename(t.exception())
    return 'done'

ALL = []
def spawn(coro):
    t = asyncio.create_task(coro)
    ALL.append(t)
    return t

ST = {}
'''

LUA_PRELUDE = r'''local function log(s) print(s) end
local function now() return ("%g"):format(corral.now()) end
local function ename(e)
  if corral.is_error(e) then
    if e.type == "GroupError" then return "GroupError" end
    return e.type
  end
  if type(e) == "string" and e:find("boom ", 1, true) then return "Boom" end
  io.stderr:write("misuse: ", tostring(e), "\n")
  return "misuse"
end
local function fmt(v)
  if corral.is_error(v) then return "E:" .. ename(v) end
  if type(v) == "string" and v:find("boom ", 1, true) then return "E:Boom" end
  return tostring(v)
end
local function state(t)
  if t:cancelled() then return "cancelled" end
  if t:exception() ~= nil then return "error " .. ename(t:exception()) end
  return "done"
end
local ALL = {}
local function spawn(f)
  local t = corral.spawn(f)
  ALL[#ALL + 1] = t
  return t
end
local ST = {}
local T = {}
'''


class PyEmit:
    def __init__(self, prog):
        self.prog = prog
        self.lines = []
        self.nwf = 0

    def w(self, ind, s):
        self.lines.append('    ' * ind + s)

    def block(self, ops, ind, me):
        if not ops:
            self.w(ind, 'pass')
        for op in ops:
            self.op(op, ind, me)

    def kid_def(self, kid, ind):
        lab = kid['label']
        self.w(ind, 'async def %s():' % lab)
        self.w(ind + 1, 'try:')
        self.block(kid['body'], ind + 2, lab)
        if kid['raise']:
            self.w(ind + 2, 'raise Boom(%r)' % lab)
        self.w(ind + 1, 'except asyncio.CancelledError:')
        self.w(ind + 2, 'log(%r)' % (lab + ' cancelled'))
        self.w(ind + 2, 'raise')
        self.w(ind + 1, 'return %r' % lab)

    def op(self, op, ind, me):
        k = op['k']
        w = self.w
        P = op.get('p')
        if k == 'sleep0':
            w(ind, 'await asyncio.sleep(0)')
        elif k == 'sleep':
            w(ind, 'await asyncio.sleep(%s)' % fmt_num(op['d']))
            w(ind, 'log(%r + now())' % (me + ' woke @'))
        elif k == 'evwait':
            w(ind, 'await %s.wait()' % P)
            w(ind, 'log(%r)' % ('%s %s ok' % (me, P)))
        elif k == 'evset':
            w(ind, 'log(%r)' % ('%s set %s' % (me, P)))
            w(ind, '%s.set()' % P)
        elif k == 'evclear':
            w(ind, 'log(%r)' % ('%s clear %s' % (me, P)))
            w(ind, '%s.clear()' % P)
        elif k in ('condwait', 'condwaitfor'):
            w(ind, 'async with %s:' % P)
            w(ind + 1, 'log(%r)' % ('%s in %s' % (me, P)))
            if k == 'condwait':
                w(ind + 1, 'await %s.wait()' % P)
            else:
                w(ind + 1, 'await %s.wait_for(lambda: ST[%r] >= %d)' % (P, P, op['n']))
            w(ind + 1, 'log(%r + str(ST[%r]))' % ('%s %s woke n=' % (me, P), P))
        elif k == 'condnotify':
            w(ind, 'async with %s:' % P)
            w(ind + 1, 'ST[%r] += 1' % P)
            if op['n'] == 'all':
                w(ind + 1, '%s.notify_all()' % P)
            else:
                w(ind + 1, '%s.notify(%d)' % (P, op['n']))
            w(ind + 1, 'log(%r)' % ('%s notify %s %s' % (me, P, op['n'])))
        elif k == 'qput':
            w(ind, 'await %s.put(%d)' % (P, op['item']))
            w(ind, 'log(%r)' % ('%s put %d' % (me, op['item'])))
        elif k == 'qputnw':
            w(ind, 'try:')
            w(ind + 1, '%s.put_nowait(%d)' % (P, op['item']))
            w(ind + 1, 'log(%r)' % ('%s putnw %d' % (me, op['item'])))
            w(ind, 'except asyncio.QueueFull:')
            w(ind + 1, 'log(%r)' % ('%s %s full' % (me, P)))
        elif k == 'qget':
            w(ind, 'v = await %s.get()' % P)
            w(ind, 'log(%r + str(v))' % ('%s got ' % me))
        elif k == 'qgetnw':
            w(ind, 'try:')
            w(ind + 1, 'v = %s.get_nowait()' % P)
            w(ind + 1, 'log(%r + str(v))' % ('%s gotnw ' % me))
            w(ind, 'except asyncio.QueueEmpty:')
            w(ind + 1, 'log(%r)' % ('%s %s empty' % (me, P)))
        elif k == 'qtaskdone':
            w(ind, 'try:')
            w(ind + 1, '%s.task_done()' % P)
            w(ind + 1, 'log(%r)' % ('%s task_done' % me))
            w(ind, 'except ValueError:')
            w(ind + 1, 'log(%r)' % ('%s task_done misuse' % me))
        elif k == 'qjoin':
            w(ind, 'await %s.join()' % P)
            w(ind, 'log(%r)' % ('%s joined %s' % (me, P)))
        elif k == 'qshutdown':
            w(ind, 'log(%r)' % ('%s shutdown %s' % (me, P)))
            w(ind, '%s.shutdown(%s)' % (P, op['imm']))
        elif k == 'bwait':
            w(ind, 'try:')
            w(ind + 1, 'i = await %s.wait()' % P)
            w(ind + 1, 'log(%r + str(i + 1))' % ('%s %s pass ' % (me, P)))
            w(ind, 'except asyncio.BrokenBarrierError:')
            w(ind + 1, 'log(%r)' % ('%s %s broken' % (me, P)))
        elif k == 'babort':
            w(ind, 'await %s.abort()' % P)
            w(ind, 'log(%r)' % ('%s aborted %s' % (me, P)))
        elif k == 'breset':
            w(ind, 'await %s.reset()' % P)
            w(ind, 'log(%r)' % ('%s reset %s' % (me, P)))
        elif k == 'semrel':
            w(ind, 'try:')
            w(ind + 1, '%s.release()' % P)
            w(ind + 1, 'log(%r)' % ('%s released %s' % (me, P)))
            w(ind, 'except ValueError:')
            w(ind + 1, 'log(%r)' % ('%s release misuse' % me))
        elif k == 'cancel':
            w(ind, 'log(%r + str(T[%d].cancel()).lower())' % ('%s cancel t%d ' % (me, op['t']), op['t'] - 1))
        elif k == 'cancelany':
            i = op['i']
            w(ind, 'log(%r + (str(ALL[%d].cancel()).lower() if len(ALL) >= %d else "none"))'
              % ('%s cancel #%d ' % (me, i), i - 1, i))
        elif k == 'with':
            w(ind, 'async with %s:' % P)
            w(ind + 1, 'log(%r)' % ('%s got %s' % (me, P)))
            self.block(op['body'], ind + 1, me)
            w(ind + 1, 'log(%r)' % ('%s rel %s' % (me, P)))
        elif k == 'catch':
            w(ind, 'try:')
            self.block(op['body'], ind + 1, me)
            w(ind, 'except asyncio.CancelledError:')
            w(ind + 1, 'log(%r)' % ('%s caught cancel' % me))
            if op['uncancel']:
                w(ind + 1, 'asyncio.current_task().uncancel()')
        elif k == 'timeout':
            w(ind, 'try:')
            w(ind + 1, 'async with asyncio.timeout(%s):' % fmt_num(op['d']))
            self.block(op['body'], ind + 2, me)
            w(ind + 1, 'log(%r)' % ('%s in time' % me))
            w(ind, 'except TimeoutError:')
            w(ind + 1, 'log(%r)' % ('%s timed out' % me))
        elif k == 'waitfor_fn':
            self.nwf += 1
            fn = '_wf%d' % self.nwf
            w(ind, 'async def %s():' % fn)
            self.block(op['body'], ind + 1, me)
            w(ind + 1, 'return "wf"')
            w(ind, 'try:')
            w(ind + 1, 'v = await asyncio.wait_for(%s(), %s)' % (fn, fmt_num(op['d'])))
            w(ind + 1, 'log(%r + str(v))' % ('%s wait_for ' % me))
            w(ind, 'except TimeoutError:')
            w(ind + 1, 'log(%r)' % ('%s wait_for timeout' % me))
        elif k == 'waitfor_task':
            kid = op['kid']
            self.kid_def(kid, ind)
            w(ind, 'try:')
            w(ind + 1, 'v = await asyncio.wait_for(spawn(%s()), %s)' % (kid['label'], fmt_num(op['d'])))
            w(ind + 1, 'log(%r + str(v))' % ('%s wait_for ' % me))
            w(ind, 'except TimeoutError:')
            w(ind + 1, 'log(%r)' % ('%s wait_for timeout' % me))
        elif k == 'children':
            for kid in op['kids']:
                self.kid_def(kid, ind)
            labs = [kid['label'] for kid in op['kids']]
            mode = op['mode']
            if mode == 'gather_fn':
                w(ind, 'res = await asyncio.gather(%s)' % ', '.join('%s()' % l for l in labs))
                w(ind, 'log(%r + ",".join(fmt(x) for x in res))' % ('%s gathered ' % me))
            else:
                w(ind, 'ts = [%s]' % ', '.join('spawn(%s())' % l for l in labs))
                if mode == 'await':
                    w(ind, 'for t in ts:')
                    w(ind + 1, 'v = await t')
                    w(ind + 1, 'log(%r + str(v))' % ('%s awaited ' % me))
                else:
                    rx = mode == 'gather_rx'
                    w(ind, 'res = await asyncio.gather(*ts, return_exceptions=%s)' % rx)
                    w(ind, 'log(%r + ",".join(fmt(x) for x in res))' % ('%s gathered ' % me))
        elif k == 'group':
            for kid in op['kids']:
                self.kid_def(kid, ind)
            w(ind, 'try:')
            w(ind + 1, 'async with asyncio.TaskGroup() as g:')
            for kid in op['kids']:
                w(ind + 2, 'ALL.append(g.create_task(%s()))' % kid['label'])
            self.block(op['body'], ind + 2, me)
            w(ind + 1, 'log(%r)' % ('%s group ok' % me))
            w(ind, 'except BaseExceptionGroup as eg:')
            w(ind + 1, 'log(%r + ",".join(ename(x) for x in eg.exceptions))' % ('%s group failed ' % me))
        elif k == 'raise':
            w(ind, 'raise Boom(%r)' % me)
        elif k == 'awaitw':
            w(ind, 'await T[%d]' % (op['t'] - 1))
            w(ind, 'log(%r)' % ('%s awaited t%d' % (me, op['t'])))
        else:
            raise AssertionError(k)

    def emit(self):
        p = self.prog
        out = [PY_PRELUDE]
        for pr in p.prims:
            n = pr['name']
            if pr['kind'] == 'lock':
                out.append('%s = asyncio.Lock()' % n)
            elif pr['kind'] == 'event':
                out.append('%s = asyncio.Event()' % n)
            elif pr['kind'] == 'sem':
                out.append('%s = asyncio.%s(%d)' % (n, 'BoundedSemaphore' if pr['bounded'] else 'Semaphore', pr['value']))
            elif pr['kind'] == 'cond':
                if pr['lock']:
                    out.append('%s = asyncio.Lock()' % pr['lock'])
                    out.append('%s = asyncio.Condition(%s)' % (n, pr['lock']))
                else:
                    out.append('%s = asyncio.Condition()' % n)
                out.append('ST[%r] = 0' % n)
            elif pr['kind'] == 'queue':
                cls = {'fifo': 'Queue', 'lifo': 'LifoQueue', 'prio': 'PriorityQueue'}[pr['qkind']]
                out.append('%s = asyncio.%s(%d)' % (n, cls, pr['maxsize']))
            elif pr['kind'] == 'barrier':
                out.append('%s = asyncio.Barrier(%d)' % (n, pr['parties']))
        out.append('T = []')
        self.lines = []
        for label, ops in p.workers:
            self.w(0, 'async def w_%s():' % label)
            self.w(1, 'try:')
            self.block(ops, 2, label)
            self.w(2, 'log(%r)' % (label + ' done'))
            self.w(1, 'except asyncio.CancelledError:')
            self.w(2, 'log(%r)' % (label + ' cancelled'))
            self.w(2, 'raise')
            self.w(1, 'except Exception as e:')
            self.w(2, 'log(%r + ename(e))' % (label + ' error '))
            self.w(0, '')
        self.w(0, 'async def main():')
        for label, _ in p.workers:
            self.w(1, 'T.append(spawn(w_%s()))' % label)
        self.w(1, 'try:')
        self.block(p.main, 2, 'main')
        self.w(1, 'except asyncio.CancelledError:')
        self.w(2, 'log("main cancelled")')
        self.w(2, 'asyncio.current_task().uncancel()')
        self.w(1, 'except Exception as e:')
        self.w(2, 'log("main error " + ename(e))')
        self.w(1, 'log("main final @" + now())')
        self.w(1, 'for r in range(6):')
        self.w(2, 'pend = [t for t in ALL if not t.done()]')
        self.w(2, 'if not pend:')
        self.w(3, 'break')
        self.w(2, 'log("round %d: %d pending" % (r + 1, len(pend)))')
        self.w(2, 'for t in pend:')
        self.w(3, 't.cancel()')
        self.w(2, 'await asyncio.sleep(1)')
        self.w(1, 'for i, t in enumerate(ALL):')
        self.w(2, 'log("task%d %s" % (i + 1, state(t) if t.done() else "pending"))')
        self.w(1, 'sys.stdout.flush()')
        self.w(1, 'os._exit(0)')
        self.w(0, '')
        self.w(0, 'asyncio.run(main(), loop_factory=_VLoop)')
        out.append('\n'.join(self.lines))
        return '\n'.join(out) + '\n'


class LuaEmit:
    def __init__(self, prog):
        self.prog = prog
        self.lines = []

    def w(self, ind, s):
        self.lines.append('  ' * ind + s)

    def block(self, ops, ind, me):
        for op in ops:
            self.op(op, ind, me)

    def kid_def(self, kid, ind):
        lab = kid['label']
        self.w(ind, 'local function %s()' % lab)
        self.w(ind + 1, 'local ok, e = pcall(function()')
        self.block(kid['body'], ind + 2, lab)
        if kid['raise']:
            self.w(ind + 2, 'error(%s, 0)' % lq('boom ' + lab))
        self.w(ind + 1, 'end)')
        self.w(ind + 1, 'if not ok then')
        self.w(ind + 2, 'if corral.is_error(e, "CancelledError") then log(%s) end' % lq(lab + ' cancelled'))
        self.w(ind + 2, 'error(e, 0)')
        self.w(ind + 1, 'end')
        self.w(ind + 1, 'return %s' % lq(lab))
        self.w(ind, 'end')

    def op(self, op, ind, me):
        k = op['k']
        w = self.w
        P = op.get('p')
        if k == 'sleep0':
            w(ind, 'corral.sleep(0)')
        elif k == 'sleep':
            w(ind, 'corral.sleep(%s)' % fmt_num(op['d']))
            w(ind, 'log(%s .. now())' % lq(me + ' woke @'))
        elif k == 'evwait':
            w(ind, '%s:wait()' % P)
            w(ind, 'log(%s)' % lq('%s %s ok' % (me, P)))
        elif k == 'evset':
            w(ind, 'log(%s)' % lq('%s set %s' % (me, P)))
            w(ind, '%s:set()' % P)
        elif k == 'evclear':
            w(ind, 'log(%s)' % lq('%s clear %s' % (me, P)))
            w(ind, '%s:clear()' % P)
        elif k in ('condwait', 'condwaitfor'):
            w(ind, 'do')
            w(ind + 1, 'local _ <close> = %s:acquire()' % P)
            w(ind + 1, 'log(%s)' % lq('%s in %s' % (me, P)))
            if k == 'condwait':
                w(ind + 1, '%s:wait()' % P)
            else:
                w(ind + 1, '%s:wait_for(function() return ST.%s >= %d end)' % (P, P, op['n']))
            w(ind + 1, 'log(%s .. ST.%s)' % (lq('%s %s woke n=' % (me, P)), P))
            w(ind, 'end')
        elif k == 'condnotify':
            w(ind, 'do')
            w(ind + 1, 'local _ <close> = %s:acquire()' % P)
            w(ind + 1, 'ST.%s = ST.%s + 1' % (P, P))
            if op['n'] == 'all':
                w(ind + 1, '%s:notify_all()' % P)
            else:
                w(ind + 1, '%s:notify(%d)' % (P, op['n']))
            w(ind + 1, 'log(%s)' % lq('%s notify %s %s' % (me, P, op['n'])))
            w(ind, 'end')
        elif k == 'qput':
            w(ind, '%s:put(%d)' % (P, op['item']))
            w(ind, 'log(%s)' % lq('%s put %d' % (me, op['item'])))
        elif k == 'qputnw':
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(function() %s:put_nowait(%d) end)' % (P, op['item']))
            w(ind + 1, 'if ok then log(%s) elseif corral.is_error(e, "QueueFull") then log(%s) else error(e, 0) end'
              % (lq('%s putnw %d' % (me, op['item'])), lq('%s %s full' % (me, P))))
            w(ind, 'end')
        elif k == 'qget':
            w(ind, 'do')
            w(ind + 1, 'local v = %s:get()' % P)
            w(ind + 1, 'log(%s .. tostring(v))' % lq('%s got ' % me))
            w(ind, 'end')
        elif k == 'qgetnw':
            w(ind, 'do')
            w(ind + 1, 'local ok, v = pcall(function() return %s:get_nowait() end)' % P)
            w(ind + 1, 'if ok then log(%s .. tostring(v)) elseif corral.is_error(v, "QueueEmpty") then log(%s) else error(v, 0) end'
              % (lq('%s gotnw ' % me), lq('%s %s empty' % (me, P))))
            w(ind, 'end')
        elif k == 'qtaskdone':
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(function() %s:task_done() end)' % P)
            w(ind + 1, 'if ok then log(%s) elseif type(e) == "string" then log(%s) else error(e, 0) end'
              % (lq('%s task_done' % me), lq('%s task_done misuse' % me)))
            w(ind, 'end')
        elif k == 'qjoin':
            w(ind, '%s:join()' % P)
            w(ind, 'log(%s)' % lq('%s joined %s' % (me, P)))
        elif k == 'qshutdown':
            w(ind, 'log(%s)' % lq('%s shutdown %s' % (me, P)))
            w(ind, '%s:shutdown(%s)' % (P, 'true' if op['imm'] else 'false'))
        elif k == 'bwait':
            w(ind, 'do')
            w(ind + 1, 'local ok, i = pcall(function() return %s:wait() end)' % P)
            w(ind + 1, 'if ok then log(%s .. i) elseif corral.is_error(i, "BrokenBarrierError") then log(%s) else error(i, 0) end'
              % (lq('%s %s pass ' % (me, P)), lq('%s %s broken' % (me, P))))
            w(ind, 'end')
        elif k == 'babort':
            w(ind, '%s:abort()' % P)
            w(ind, 'log(%s)' % lq('%s aborted %s' % (me, P)))
        elif k == 'breset':
            w(ind, '%s:reset()' % P)
            w(ind, 'log(%s)' % lq('%s reset %s' % (me, P)))
        elif k == 'semrel':
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(function() %s:release() end)' % P)
            w(ind + 1, 'if ok then log(%s) elseif type(e) == "string" then log(%s) else error(e, 0) end'
              % (lq('%s released %s' % (me, P)), lq('%s release misuse' % me)))
            w(ind, 'end')
        elif k == 'cancel':
            w(ind, 'log(%s .. tostring(T[%d]:cancel()))' % (lq('%s cancel t%d ' % (me, op['t'])), op['t']))
        elif k == 'cancelany':
            i = op['i']
            w(ind, 'log(%s .. (ALL[%d] and tostring(ALL[%d]:cancel()) or "none"))'
              % (lq('%s cancel #%d ' % (me, i)), i, i))
        elif k == 'with':
            w(ind, 'do')
            w(ind + 1, 'local _ <close> = %s:acquire()' % P)
            w(ind + 1, 'log(%s)' % lq('%s got %s' % (me, P)))
            self.block(op['body'], ind + 1, me)
            w(ind + 1, 'log(%s)' % lq('%s rel %s' % (me, P)))
            w(ind, 'end')
        elif k == 'catch':
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(function()')
            self.block(op['body'], ind + 2, me)
            w(ind + 1, 'end)')
            w(ind + 1, 'if not ok then')
            w(ind + 2, 'if not corral.is_error(e, "CancelledError") then error(e, 0) end')
            w(ind + 2, 'log(%s)' % lq('%s caught cancel' % me))
            if op['uncancel']:
                w(ind + 2, 'corral.current_task():uncancel()')
            w(ind + 1, 'end')
            w(ind, 'end')
        elif k == 'timeout':
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(corral.timeout, %s, function()' % fmt_num(op['d']))
            self.block(op['body'], ind + 2, me)
            w(ind + 1, 'end)')
            w(ind + 1, 'if ok then log(%s) elseif corral.is_error(e, "TimeoutError") then log(%s) else error(e, 0) end'
              % (lq('%s in time' % me), lq('%s timed out' % me)))
            w(ind, 'end')
        elif k == 'waitfor_fn':
            w(ind, 'do')
            w(ind + 1, 'local ok, v = pcall(corral.wait_for, function()')
            self.block(op['body'], ind + 2, me)
            w(ind + 2, 'return "wf"')
            d = fmt_num(op['d'])
            w(ind + 1, 'end, %s)' % (d if d is not None else 'nil'))
            w(ind + 1, 'if ok then log(%s .. tostring(v)) elseif corral.is_error(v, "TimeoutError") then log(%s) else error(v, 0) end'
              % (lq('%s wait_for ' % me), lq('%s wait_for timeout' % me)))
            w(ind, 'end')
        elif k == 'waitfor_task':
            kid = op['kid']
            w(ind, 'do')
            self.kid_def(kid, ind + 1)
            w(ind + 1, 'local ok, v = pcall(corral.wait_for, spawn(%s), %s)' % (kid['label'], fmt_num(op['d'])))
            w(ind + 1, 'if ok then log(%s .. tostring(v)) elseif corral.is_error(v, "TimeoutError") then log(%s) else error(v, 0) end'
              % (lq('%s wait_for ' % me), lq('%s wait_for timeout' % me)))
            w(ind, 'end')
        elif k == 'children':
            w(ind, 'do')
            for kid in op['kids']:
                self.kid_def(kid, ind + 1)
            labs = [kid['label'] for kid in op['kids']]
            mode = op['mode']
            if mode == 'gather_fn':
                w(ind + 1, 'local res = corral.gather(%s)' % ', '.join(labs))
                w(ind + 1, 'local parts = {} for i = 1, res.n do parts[i] = fmt(res[i]) end')
                w(ind + 1, 'log(%s .. table.concat(parts, ","))' % lq('%s gathered ' % me))
            else:
                w(ind + 1, 'local ts = {%s}' % ', '.join('spawn(%s)' % l for l in labs))
                if mode == 'await':
                    w(ind + 1, 'for _, t in ipairs(ts) do')
                    w(ind + 2, 'local v = t:await()')
                    w(ind + 2, 'log(%s .. tostring(v))' % lq('%s awaited ' % me))
                    w(ind + 1, 'end')
                else:
                    rx = 'true' if mode == 'gather_rx' else 'false'
                    w(ind + 1, 'local res = corral.gather(ts, {return_exceptions = %s})' % rx)
                    w(ind + 1, 'local parts = {} for i = 1, res.n do parts[i] = fmt(res[i]) end')
                    w(ind + 1, 'log(%s .. table.concat(parts, ","))' % lq('%s gathered ' % me))
            w(ind, 'end')
        elif k == 'group':
            w(ind, 'do')
            for kid in op['kids']:
                self.kid_def(kid, ind + 1)
            w(ind + 1, 'local ok, e = pcall(corral.group, function(g)')
            for kid in op['kids']:
                w(ind + 2, 'ALL[#ALL + 1] = g:spawn(%s)' % kid['label'])
            self.block(op['body'], ind + 2, me)
            w(ind + 1, 'end)')
            w(ind + 1, 'if ok then log(%s)' % lq('%s group ok' % me))
            w(ind + 1, 'elseif corral.is_error(e, "GroupError") then')
            w(ind + 2, 'local parts = {} for i, x in ipairs(e.errors) do parts[i] = ename(x) end')
            w(ind + 2, 'log(%s .. table.concat(parts, ","))' % lq('%s group failed ' % me))
            w(ind + 1, 'else error(e, 0) end')
            w(ind, 'end')
        elif k == 'raise':
            w(ind, 'error(%s, 0)' % lq('boom ' + me))
        elif k == 'awaitw':
            w(ind, 'T[%d]:await()' % op['t'])
            w(ind, 'log(%s)' % lq('%s awaited t%d' % (me, op['t'])))
        else:
            raise AssertionError(k)

    def emit(self):
        p = self.prog
        out = ['-- generated by spec/fuzz/gen.py, seed %s' % p.seed, LUA_PRELUDE]
        for pr in p.prims:
            n = pr['name']
            if pr['kind'] == 'lock':
                out.append('local %s = corral.Lock()' % n)
            elif pr['kind'] == 'event':
                out.append('local %s = corral.Event()' % n)
            elif pr['kind'] == 'sem':
                out.append('local %s = corral.%s(%d)' % (n, 'BoundedSemaphore' if pr['bounded'] else 'Semaphore', pr['value']))
            elif pr['kind'] == 'cond':
                if pr['lock']:
                    out.append('local %s = corral.Lock()' % pr['lock'])
                    out.append('local %s = corral.Condition(%s)' % (n, pr['lock']))
                else:
                    out.append('local %s = corral.Condition()' % n)
                out.append('ST.%s = 0' % n)
            elif pr['kind'] == 'queue':
                cls = {'fifo': 'Queue', 'lifo': 'LifoQueue', 'prio': 'PriorityQueue'}[pr['qkind']]
                out.append('local %s = corral.%s(%d)' % (n, cls, pr['maxsize']))
            elif pr['kind'] == 'barrier':
                out.append('local %s = corral.Barrier(%d)' % (n, pr['parties']))
        self.lines = []
        for label, ops in p.workers:
            self.w(0, 'local function w_%s()' % label)
            self.w(1, 'local ok, e = pcall(function()')
            self.block(ops, 2, label)
            self.w(1, 'end)')
            self.w(1, 'if ok then log(%s)' % lq(label + ' done'))
            self.w(1, 'elseif corral.is_error(e, "CancelledError") then log(%s) error(e, 0)' % lq(label + ' cancelled'))
            self.w(1, 'else log(%s .. ename(e)) end' % lq(label + ' error '))
            self.w(0, 'end')
            self.w(0, '')
        self.w(0, 'local function main()')
        for label, _ in p.workers:
            self.w(1, 'T[#T + 1] = spawn(w_%s)' % label)
        self.w(1, 'local ok, e = pcall(function()')
        self.block(p.main, 2, 'main')
        self.w(1, 'end)')
        self.w(1, 'if not ok then')
        self.w(2, 'if corral.is_error(e, "DeadlockError") then log("DEADLOCK") os.exit(0) end')
        self.w(2, 'if corral.is_error(e, "CancelledError") then log("main cancelled") corral.current_task():uncancel()')
        self.w(2, 'else log("main error " .. ename(e)) end')
        self.w(1, 'end')
        self.w(1, 'log("main final @" .. now())')
        self.w(1, 'for r = 1, 6 do')
        self.w(2, 'local pend = {}')
        self.w(2, 'for _, t in ipairs(ALL) do if not t:done() then pend[#pend + 1] = t end end')
        self.w(2, 'if #pend == 0 then break end')
        self.w(2, 'log(("round %d: %d pending"):format(r, #pend))')
        self.w(2, 'for _, t in ipairs(pend) do t:cancel() end')
        self.w(2, 'corral.sleep(1)')
        self.w(1, 'end')
        self.w(1, 'for i, t in ipairs(ALL) do')
        self.w(2, 'log(("task%d %s"):format(i, t:done() and state(t) or "pending"))')
        self.w(1, 'end')
        self.w(1, 'io.stdout:flush()')
        self.w(1, 'os.exit(0)')
        self.w(0, 'end')
        self.w(0, '')
        self.w(0, 'corral.run(main, {clock = "virtual"})')
        out.append('\n'.join(self.lines))
        return '\n'.join(out) + '\n'


def lq(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def emit_py(prog):
    return PyEmit(prog).emit()


def emit_lua(prog):
    return LuaEmit(prog).emit()


def main(argv):
    seed = int(argv[1])
    prog = generate(seed)
    if argv[2] == 'py':
        sys.stdout.write(emit_py(prog))
    elif argv[2] == 'lua':
        sys.stdout.write(emit_lua(prog))
    else:
        d = argv[3]
        with open('%s/%d.py' % (d, seed), 'w') as f:
            f.write(emit_py(prog))
        with open('%s/%d.lua' % (d, seed), 'w') as f:
            f.write(emit_lua(prog))


if __name__ == '__main__':
    main(sys.argv)
